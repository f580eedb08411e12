#!/usr/bin/env python3
"""Independent float32 PyTorch implementation of the vkstyle graph format (docs/model-format.md).

  python3 -m tools.convert.reference -m model.safetensors -i in.png -o out.png [--styles w0,w1,...]

Runs any model file in the format on the CPU and writes the 8-bit output, cropped top-left to
the input size. Used to produce and check expected outputs for the engine's tests.
"""
import argparse
import json
import math
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

if not __package__:  # run as a file, where the package imports cannot resolve
    sys.exit("run it from the repository root as: python3 -m tools.convert.reference")
from tools.convert import safetensors_io

ACTIVATIONS = {
    "none": lambda x: x,
    "relu": torch.relu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
}


def load_model(path):
    """-> (graph dict, {name: float32 ndarray})."""
    tensors, metadata = safetensors_io.read(path)
    graph = json.loads(metadata["vkstyle.graph"])
    if graph.get("format") != "vkstyle-graph" or graph.get("version") != 1:
        raise ValueError(f"{path}: not a vkstyle-graph version 1 model")
    return graph, tensors


def load_image(path):
    """-> uint8 array [H, W, 3]."""
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8)


def save_image(path, pixels):
    Image.fromarray(pixels, "RGB").save(path)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def _same_pads(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def _conv2d(x, layer, T):
    w = T[layer["weight"]]
    kh, kw = w.shape[2], w.shape[3]
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"weight {list(w.shape)} does not fit input {list(x.shape)}")
    s = layer.get("stride", 1)
    p = layer.get("padding", [0, 0, 0, 0])
    if p == "same":
        p = [*_same_pads(x.shape[2], kh, s), *_same_pads(x.shape[3], kw, s)]
    top, bottom, left, right = p
    if layer.get("pad_mode", "zero") == "reflect":
        if max(top, bottom) >= x.shape[2] or max(left, right) >= x.shape[3]:
            raise ValueError("reflect padding must be smaller than the side")
        x = F.pad(x, (left, right, top, bottom), mode="reflect")
    else:
        x = F.pad(x, (left, right, top, bottom))
    bias = T[layer["bias"]] if "bias" in layer else None
    return F.conv2d(x, w, bias, stride=s)


def _conv2d_transpose(x, layer, T):
    w = T[layer["weight"]]  # [Cin, Cout, kh, kw]
    if w.shape[0] != x.shape[1]:
        raise ValueError(f"weight {list(w.shape)} does not fit input {list(x.shape)}")
    s, p = layer.get("stride", 2), layer.get("padding", 0)
    full = F.conv_transpose2d(x, w, None, stride=s)  # full[s*i + k] += x[i] * w[k]
    h, wd = s * x.shape[2], s * x.shape[3]           # out[j] = full[j + p], j < s*in
    y = full[:, :, p:p + h, p:p + wd]
    y = F.pad(y, (0, wd - y.shape[3], 0, h - y.shape[2]))
    if "bias" in layer:
        y = y + T[layer["bias"]].view(1, -1, 1, 1)
    return y


def _norm(x, gamma, beta, mean, var, eps):
    return (x - mean) / torch.sqrt(var + eps) * gamma.view(1, -1, 1, 1) + beta.view(1, -1, 1, 1)


def run(graph, tensors, pixels, style_weights=None):
    """Run the graph on uint8 [H, W, 3] pixels -> uint8 [H, W, 3]."""
    T = {k: torch.from_numpy(v.astype(np.float32)) for k, v in tensors.items()}
    styles = graph.get("styles", [])
    if style_weights is None:
        style_weights = [1.0] + [0.0] * (len(styles) - 1)
    if len(style_weights) != len(styles):
        raise ValueError(f"{len(style_weights)} style weights for {len(styles)} styles")
    sw = torch.tensor(style_weights, dtype=torch.float32)

    inp = graph["input"]
    h, w = pixels.shape[:2]
    x = torch.from_numpy(pixels.astype(np.float32)).permute(2, 0, 1).unsqueeze(0)
    x = x * inp.get("scale", 1.0) + inp.get("offset", 0.0)
    outputs = {"input": x}
    with torch.no_grad():
        for i, layer in enumerate(graph["layers"]):
            op = layer["op"]
            src = layer.get("input")
            if op != "add":
                x = outputs[src] if src is not None else x
            if op == "conv2d":
                y = _conv2d(x, layer, T)
            elif op == "conv2d_transpose":
                y = _conv2d_transpose(x, layer, T)
            elif op == "upsample_nearest":
                y = F.interpolate(x, scale_factor=layer.get("scale", 2), mode="nearest")
            elif op in ("instance_norm", "conditional_instance_norm"):
                gamma, beta = T[layer["gamma"]], T[layer["beta"]]
                if op == "conditional_instance_norm":
                    gamma, beta = sw @ gamma, sw @ beta
                mean = x.mean(dim=(2, 3), keepdim=True)
                var = x.var(dim=(2, 3), unbiased=False, keepdim=True)
                y = _norm(x, gamma, beta, mean, var, layer.get("eps", 1e-5))
            elif op == "batch_norm":
                y = _norm(x, T[layer["gamma"]], T[layer["beta"]],
                          T[layer["mean"]].view(1, -1, 1, 1), T[layer["var"]].view(1, -1, 1, 1),
                          layer.get("eps", 1e-5))
            elif op == "activation":
                y = x
            elif op == "add":
                a, b = layer["input"]
                y = outputs[a] + outputs[b]
            else:
                raise ValueError(f"layer {i}: unknown op {op!r}")
            if op != "add":
                y = ACTIVATIONS[layer.get("activation", "none")](y)
            if op == "activation":
                y = y * layer.get("scale", 1.0) + layer.get("offset", 0.0)
            if "residual" in layer:
                y = y + outputs[layer["residual"]]
            x = y
            if "name" in layer:
                outputs[layer["name"]] = x

    out = graph["output"]
    if x.shape[1] != 3 or x.shape[2] < h or x.shape[3] < w:
        raise ValueError(f"output {list(x.shape)} is not 3 channels at least {h}x{w}")
    x = x[0, :, :h, :w] * out.get("scale", 1.0) + out.get("offset", 0.0)
    x = torch.floor(x.clamp(0, 255) + 0.5)
    return x.permute(1, 2, 0).to(torch.uint8).numpy()


def main(argv=None):
    ap = argparse.ArgumentParser(description="Run a vkstyle model (float32 PyTorch reference).")
    ap.add_argument("-m", "--model", required=True, help="model .safetensors")
    ap.add_argument("-i", "--input", required=True, help="input image")
    ap.add_argument("-o", "--output", required=True, help="output PNG")
    ap.add_argument("--styles", help="comma-separated style weights (default: 1 for the first style)")
    ap.add_argument("--compare", metavar="PNG", help="print the PSNR of the output against this image")
    args = ap.parse_args(argv)
    graph, tensors = load_model(args.model)
    weights = [float(v) for v in args.styles.split(",")] if args.styles else None
    result = run(graph, tensors, load_image(args.input), weights)
    save_image(args.output, result)
    if args.compare:
        print(f"PSNR vs {args.compare}: {psnr(result, load_image(args.compare)):.2f} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
