#!/usr/bin/env python3
"""vkstyle vs PyTorch CPU on the same network, a frame each in turn, in one run.

Each round starts a `vkstyle bench --paced` process per driver and precision and a PyTorch
process (this script with --pytorch-worker: a plain forward, F.conv2d / F.conv_transpose2d /
F.instance_norm, the way such networks are usually written; torch.set_num_threads(THREADS)), all
on the same model file and size, warms them up, then asks each in turn for one frame, ITERS
times, so that each vkstyle frame and the PyTorch forward after it see the same machine. Fresh
processes every round: on the development VM two processes of the same program running the same
frames alternately differ by up to 8% for as long as they live (their memory's layout: the spread
shrinks with address-space randomization off), so one process a side would draw that once for
the whole run. Prints each round, then the medians, the ratio of the medians, the median of the
pairs' own ratios ("paired": what to trust on a machine whose speed changes by 1.5x over seconds,
as VMs' do: both sides change) and the spread of the rounds' paired ratios.

  /usr/bin/python3 -m benchmarks.bench_vs_pytorch [--model models/udnie.safetensors]
      [--size 256x256[,512x512...]] [--rounds 3] [--iters 3] [--threads 2] [--precision fp32,fp16]
      [--vkstyle build/vkstyle] [--drivers system,mesa25]

--drivers runs vkstyle on each named Vulkan driver in every pair: "system" (the loader's
default) and "mesa25" (Debian 12 backports' Mesa 25 lavapipe, through scripts/mesa25.sh).
--drivers none runs PyTorch alone, to see how its own time moves from round to round.
--size takes several sizes, comma-separated: each is measured in turn, and a table of the
ratios ends the run.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

if not __package__:  # run as a file, where the package imports cannot resolve
    sys.exit("run it from the repository root as: python3 -m benchmarks.bench_vs_pytorch")
from benchmarks import paced  # noqa: E402
from tools.convert import reference  # the model-file reader

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# between the two sides' frames: PyTorch's OpenMP threads spin for a while after a forward (libgomp's
# GOMP_SPINCOUNT), which would take a core from the vkstyle frame that follows
PAUSE = 0.005


def torch_forward(graph, T, x, weights):
    """The network as PyTorch users write it. x: [1, 3, H, W] float32 (0..255)."""
    named = {"input": x}
    sw = torch.tensor(weights, dtype=x.dtype, device=x.device)
    for layer in graph["layers"]:
        op = layer["op"]
        if op != "add" and "input" in layer:
            x = named[layer["input"]]
        if op == "conv2d":
            w = T[layer["weight"]]
            k, s = w.shape[2], layer.get("stride", 1)
            pad = layer.get("padding", "same")
            if pad == "same":
                th, tw = reference._same_pads(x.shape[2], k, s), reference._same_pads(x.shape[3], w.shape[3], s)
                pad = [th[0], th[1], tw[0], tw[1]]
            mode = "reflect" if layer.get("pad_mode") == "reflect" else "constant"
            x = F.conv2d(F.pad(x, (pad[2], pad[3], pad[0], pad[1]), mode=mode), w,
                         T.get(layer.get("bias")), stride=s)
        elif op == "conv2d_transpose":
            w, s, p = T[layer["weight"]], layer.get("stride", 2), layer.get("padding", 0)
            h, wd = x.shape[2], x.shape[3]
            x = F.conv_transpose2d(x, w, T.get(layer.get("bias")), stride=s)[:, :, p:p + s * h, p:p + s * wd]
        elif op == "upsample_nearest":
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        elif op in ("instance_norm", "conditional_instance_norm"):
            g, b = T[layer["gamma"]], T[layer["beta"]]
            if op == "conditional_instance_norm":
                g, b = sw @ g, sw @ b
            x = F.instance_norm(x, weight=g, bias=b, eps=layer.get("eps", 1e-5))
        elif op == "add":
            x = named[layer["input"][0]] + named[layer["input"][1]]
        act = layer.get("activation", "none")
        if act != "none" and op != "add":
            x = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[act](x)
        if op == "activation":
            x = x * layer.get("scale", 1.0) + layer.get("offset", 0.0)
        if "residual" in layer:
            x = x + named[layer["residual"]]
        if "name" in layer:
            named[layer["name"]] = x
    return x


def pytorch_worker(a):
    """--pytorch-worker: the PyTorch side as a process of its own, paced as `vkstyle bench --paced` is:
    'ready' after a warm-up, then one forward per line of input, its ms on a line."""
    torch.set_num_threads(a.threads)
    graph, tensors = reference.load_model(a.model)
    T = {k: torch.from_numpy(v.astype(np.float32)) for k, v in tensors.items()}
    w, h = (int(v) for v in a.size.lower().split("x"))
    weights = [1.0] + [0.0] * (len(graph["styles"]) - 1)
    x = torch.from_numpy(np.random.default_rng(1).uniform(0, 255, (1, 3, h, w)).astype(np.float32))
    with torch.no_grad():
        for _ in range(2):
            torch_forward(graph, T, x, weights)
        print("ready", flush=True)
        for _ in sys.stdin:
            t0 = time.perf_counter()
            torch_forward(graph, T, x, weights)
            print(f"{(time.perf_counter() - t0) * 1e3:.4f}", flush=True)


TORCH_NAME = "bench_vs_pytorch.py: the PyTorch worker"


def vk_name(key):
    """A vkstyle side's name in messages."""
    return f"bench_vs_pytorch.py: vkstyle bench --paced ({key})"


def start_pytorch(a, size):
    """A PyTorch worker process (this script, --pytorch-worker), warmed up and waiting for its first line."""
    cmd = [sys.executable, "-m", "benchmarks.bench_vs_pytorch", "--pytorch-worker", "--model", a.model, "--size", size,
           "--threads", str(a.threads)]
    return paced.start(cmd, TORCH_NAME, cwd=ROOT)


def start_paced(a, size, key, drv, prec, wrappers):
    """A `vkstyle bench --paced` process, warmed up and waiting for its first line."""
    cmd = wrappers[drv] + [a.vkstyle, "bench", "-m", a.model, "--size", size, "--warmup", "2", "--precision", prec,
                           "--paced"]
    return paced.start(cmd, vk_name(key))


def device_names(a, wrappers, drv, prec):
    """(device, driver) that vkstyle reports on a driver, from a --json run of the same binary."""
    out = subprocess.run(wrappers[drv] + [a.vkstyle, "bench", "-m", a.model, "--size", "8x8", "--iters", "1",
                          "--warmup", "0", "--precision", prec, "--json", "-"],
                         check=True, capture_output=True, text=True).stdout
    j = json.loads(out)
    return j.get("device", "?"), j.get("driver", "?")


def measure(a, size, wrappers, runs, dev):
    """Both sides at one size, a frame each in turn, fresh processes each round; prints the rounds
    and the medians, returns the figures. runs: (key, driver, precision) of each vkstyle side;
    dev: their (device, driver) names by key."""
    precisions = [key for key, _, _ in runs]
    vk_gpu = {p: [] for p in precisions}
    vk_wall = {p: [] for p in precisions}
    round_ratio = {p: [] for p in precisions}
    pt, rounds_pt = [], []
    for r in range(a.rounds):
        procs = {key: start_paced(a, size, key, drv, prec, wrappers) for key, drv, prec in runs}
        torch_proc = start_pytorch(a, size)
        n0 = len(pt)
        for _ in range(a.iters):
            # one frame of each vkstyle, then one PyTorch forward: a few ms apart, so that both
            # sides run in the same state of the machine (a VM's speed changes by 1.5x and more
            # over seconds; benchmarks/README.md)
            for key in precisions:
                time.sleep(PAUSE)
                wl, g = paced.frame(procs[key], vk_name(key), 2)
                vk_wall[key].append(wl)
                vk_gpu[key].append(g)
            time.sleep(PAUSE)
            pt.append(paced.frame(torch_proc, TORCH_NAME, 1)[0])
        for key, proc in procs.items():
            paced.finish(proc, vk_name(key))
        paced.finish(torch_proc, TORCH_NAME)
        line = f"{size} round {r + 1}:"
        for key in precisions:
            rr = statistics.median(v / t for v, t in zip(vk_wall[key][n0:], pt[n0:]))
            round_ratio[key].append(rr)
            line += (f" vkstyle {key} GPU {statistics.median(vk_gpu[key][n0:]):8.1f} ms "
                     f"(wall {statistics.median(vk_wall[key][n0:]):8.1f}, paired {rr:.2f}x) ")
        rounds_pt.append(statistics.median(pt[n0:]))
        print(f"{line} PyTorch {rounds_pt[-1]:8.1f} ms", flush=True)
    p = statistics.median(pt)
    print(f"\n{os.path.basename(a.model)} {size}, median of {a.rounds} rounds x {a.iters} frames each side")
    print(f"  PyTorch {torch.__version__} CPU, {a.threads} threads: {p:.1f} ms (rounds' medians "
          f"{min(rounds_pt):.1f}-{max(rounds_pt):.1f})")
    result = {"model": a.model, "size": size, "device": dev[precisions[0]][0] if precisions else None, "pytorch_ms": p,
              "pytorch_threads": a.threads, "frames": {"pytorch": pt}, "rounds_pytorch": rounds_pt,
              "keys": precisions}
    for prec in precisions:
        g, wl = statistics.median(vk_gpu[prec]), statistics.median(vk_wall[prec])
        # each pair's own ratio compares frames taken milliseconds apart: steadier than the ratio of
        # the medians when the machine's speed changes during the run
        rr = statistics.median(v / t for v, t in zip(vk_wall[prec], pt))
        rounds = round_ratio[prec]
        print(f"  vkstyle {prec} on {dev[prec][0]} ({dev[prec][1]}): GPU {g:.1f} ms, wall {wl:.1f} ms; "
              f"wall / PyTorch = {wl / p:.2f}x, median of the pairs' ratios {rr:.2f}x, rounds' "
              f"{min(rounds):.2f}-{max(rounds):.2f}x  (< 1: vkstyle faster)\n", flush=True)
        result[prec] = {"driver": dev[prec][1], "vkstyle_gpu_ms": g, "vkstyle_wall_ms": wl, "ratio": wl / p,
                        "pair_ratio": rr, "rounds_pair_ratio": rounds,
                        "frames": {"gpu": vk_gpu[prec], "wall": vk_wall[prec]}}
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "udnie.safetensors"))
    ap.add_argument("--size", default="256x256", help="WxH, or several comma-separated")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iters", type=int, default=3, help="frames per round, each side, one after the other")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--vkstyle", default=os.path.join(ROOT, "build", "vkstyle"))
    ap.add_argument("--precision", default="fp32",
                    help="vkstyle activation precision(s), comma-separated, e.g. fp32,fp16: each round runs each")
    ap.add_argument("--drivers", default="system",
                    help="comma-separated: system (the default driver), mesa25 (scripts/mesa25.sh); "
                         "none: PyTorch alone")
    ap.add_argument("--json", help="write the figures here (a list with several sizes)")
    ap.add_argument("--pytorch-worker", action="store_true", help=argparse.SUPPRESS)   # start_pytorch's
    a = ap.parse_args()
    sizes = a.size.split(",")
    for size in sizes:
        parts = size.lower().split("x")
        if len(parts) != 2 or not all(v.isdigit() and int(v) > 0 for v in parts):
            sys.exit(f"bench_vs_pytorch.py: --size '{size}' is not WxH")
    if a.rounds < 1 or a.iters < 1:
        sys.exit("bench_vs_pytorch.py: --rounds and --iters must be at least 1")
    if a.pytorch_worker:
        return pytorch_worker(a)
    wrappers = {"system": [], "mesa25": ["bash", os.path.join(ROOT, "scripts", "mesa25.sh")]}
    drivers = a.drivers.split(",")
    for d in drivers:
        if d not in wrappers and not (d == "none" and len(drivers) == 1):
            sys.exit(f"bench_vs_pytorch.py: unknown driver '{d}' (system, mesa25; or none alone: PyTorch only)")
    runs = [(f"{d} {p}" if len(drivers) > 1 else p, d, p) for d in drivers if d != "none" for p in a.precision.split(",")]
    dev = {key: device_names(a, wrappers, drv, prec) for key, drv, prec in runs}   # once, not per size
    results = [measure(a, size, wrappers, runs, dev) for size in sizes]
    keys = results[0]["keys"]
    if not keys:  # --drivers none
        print("| size | PyTorch ms | rounds' medians |\n|---|---|---|")
        for r in results:
            rp = r["rounds_pytorch"]
            print(f"| {r['size']} | {r['pytorch_ms']:.1f} | {min(rp):.1f}-{max(rp):.1f} |")
    else:
        print_table(a, results, keys)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results[0] if len(results) == 1 else results, f, indent=2)


def print_table(a, results, keys):
    print(f"{os.path.basename(a.model)} on {results[0]['device']}: vkstyle wall / PyTorch CPU "
          f"({a.threads} threads), < 1: vkstyle faster")
    print("(ratio: of the medians; paired: the median of the ratios of frames run one after the other; "
          "rounds: the range of the rounds' paired ratios, fresh processes each)")
    print("| size | PyTorch ms | " + " | ".join(f"vkstyle {k} ms | ratio | paired | rounds" for k in keys) + " |")
    print("|---|---|" + "---|---|---|---|" * len(keys))
    for r in results:
        print(f"| {r['size']} | {r['pytorch_ms']:.1f} | " +
              " | ".join(f"{r[k]['vkstyle_wall_ms']:.1f} | {r[k]['ratio']:.2f}x | {r[k]['pair_ratio']:.2f}x | "
                         f"{min(r[k]['rounds_pair_ratio']):.2f}-{max(r[k]['rounds_pair_ratio']):.2f}x" for k in keys) + " |")


if __name__ == "__main__":
    main()
