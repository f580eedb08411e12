#!/usr/bin/env python3
"""PyTorch on the GPU (CUDA) running the same network as vkstyle, for benchmarks/gpu.sh.

For each size, with the input and the weights resident on the device and CUDA events around
each forward (median of ITERS after WARMUP): eager fp32 (TF32 off), eager TF32, eager fp16
(weights and input in half precision), and torch.compile fp16 where torch.compile works.
Without a CUDA device it runs the same variants on the CPU (fp32 only), so that the script can
be tried anywhere; the table then says "cpu".

  python3 -m benchmarks.bench_cuda [--model models/udnie.safetensors] [--size 1280x720,1920x1080]
      [--iters 20] [--warmup 3] [--no-compile] [--json FILE]
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch

if not __package__:  # run as a file, where the package imports cannot resolve
    sys.exit("run it from the repository root as: python3 -m benchmarks.bench_cuda")
from benchmarks.bench_vs_pytorch import torch_forward  # the network as PyTorch users write it
from tools.convert import reference  # the model-file reader

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def time_ms(fn, x, dev, iters, warmup):
    """Median milliseconds of fn(x): CUDA events on a GPU, the wall clock on the CPU."""
    with torch.no_grad():
        for _ in range(warmup):
            fn(x)
        times = []
        for _ in range(iters):
            if dev.type == "cuda":
                a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                a.record()
                fn(x)
                b.record()
                torch.cuda.synchronize()
                times.append(a.elapsed_time(b))
            else:
                t0 = time.perf_counter()
                fn(x)
                times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def set_tf32(on):
    torch.backends.cuda.matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "udnie.safetensors"))
    ap.add_argument("--size", default="1280x720,1920x1080", help="WxH, or several comma-separated")
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--no-compile", action="store_true", help="leave out torch.compile")
    ap.add_argument("--json", help="write the figures here")
    a = ap.parse_args()
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    name = torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu"
    print(f"PyTorch {torch.__version__} on {name}", flush=True)
    graph, tensors = reference.load_model(a.model)
    weights = [1.0] + [0.0] * (len(graph["styles"]) - 1)
    results = []
    for size in a.size.split(","):
        parts = size.lower().split("x")
        if len(parts) != 2 or not all(v.isdigit() and int(v) > 0 for v in parts):
            sys.exit(f"bench_cuda.py: --size '{size}' is not WxH")
        w, h = int(parts[0]), int(parts[1])
        x32 = torch.from_numpy(np.random.default_rng(1).uniform(0, 255, (1, 3, h, w)).astype(np.float32)).to(dev)
        T32 = {k: torch.from_numpy(v.astype(np.float32)).to(dev) for k, v in tensors.items()}
        row = {"size": size, "device": name}
        variants = [("eager fp32", torch.float32, False, False)]
        if dev.type == "cuda":
            variants += [("eager TF32", torch.float32, True, False), ("eager fp16", torch.float16, False, False)]
            if not a.no_compile and hasattr(torch, "compile"):
                variants.append(("torch.compile fp16", torch.float16, False, True))
        for label, dtype, tf32, compiled in variants:
            if dev.type == "cuda":
                set_tf32(tf32)
            T = {k: v.to(dtype) for k, v in T32.items()}
            x = x32.to(dtype)

            def fwd(inp, T=T):
                return torch_forward(graph, T, inp, weights)
            try:
                fn = torch.compile(fwd) if compiled else fwd
                ms = time_ms(fn, x, dev, a.iters, a.warmup)
            except Exception as e:  # torch.compile needs a working Triton/compiler: say so, go on
                print(f"{size} {label}: failed ({type(e).__name__}: {str(e).splitlines()[0][:120]})", flush=True)
                row[label] = None
                continue
            row[label] = ms
            print(f"{size} {label}: {ms:.2f} ms", flush=True)
        if dev.type == "cuda":
            set_tf32(False)
        results.append(row)
        if a.json:  # after each size, so that a run stopped early keeps what it measured
            with open(a.json, "w") as f:
                json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
