#!/usr/bin/env python3
"""Convert an ml5.js style-transfer checkpoint (fast-style-transfer, TensorFlow) to a vkstyle model.

An ml5 style folder holds manifest.json (variable -> filename, shape) and one raw little-endian
float32 file per variable. The network (see docs/model-format.md, "Worked example"):
conv 9x9 3->32, conv 3x3 s2 32->64, conv 3x3 s2 64->128 (each + instance norm + ReLU),
5 residual blocks, 2 transposed convs s2 (+ IN + ReLU), conv 9x9 32->3 + IN, tanh*150+127.5.

  python3 -m tools.convert.ml5_to_safetensors ML5_DIR/udnie -o models/udnie.safetensors [--dtype f16|f32]
  python3 -m tools.convert.ml5_to_safetensors --all ML5_ROOT -o models/
"""
import argparse
import json
import os
import sys

import numpy as np

if not __package__:  # run as a file, where the package imports cannot resolve
    sys.exit("run it from the repository root as: python3 -m tools.convert.ml5_to_safetensors")
from tools.convert import safetensors_io

STYLES = ["la_muse", "mathura", "matilde_perez", "matta", "rain_princess",
          "scream", "udnie", "wave", "wreck"]
IN_EPS = 1e-3


def load_ml5(folder):
    """Return {variable name: float32 ndarray} of an ml5 checkpoint folder."""
    with open(os.path.join(folder, "manifest.json")) as f:
        manifest = json.load(f)
    out = {}
    for name, entry in manifest.items():
        a = np.fromfile(os.path.join(folder, entry["filename"]), dtype="<f4")
        shape = tuple(entry["shape"])
        if a.size != int(np.prod(shape)):
            raise ValueError(f"{name}: {a.size} floats, manifest says shape {shape}")
        out[name] = a.reshape(shape)
    return out


def convert(variables, name, dtype=np.float16):
    """Map ml5 variables to (tensors, graph dict)."""
    tensors, layers = {}, []
    index = [0]  # next Variable_<n>

    def var(expected_rank):
        n = index[0]
        index[0] += 1
        key = "Variable" if n == 0 else f"Variable_{n}"
        a = variables[key]
        if a.ndim != expected_rank:
            raise ValueError(f"{key}: rank {a.ndim}, expected {expected_rank}")
        return a

    def conv_in(conv, norm, stride, relu, residual=None, transpose=False):
        # TF conv2d [kh, kw, in, out] -> [out, in, kh, kw];
        # TF conv2d_transpose [kh, kw, out, in] -> [in, out, kh, kw]: the same permutation.
        tensors[f"{conv}.weight"] = var(4).transpose(3, 2, 0, 1)
        if transpose:
            layers.append({"op": "conv2d_transpose", "name": conv, "weight": f"{conv}.weight",
                           "stride": stride, "padding": 0})
        else:
            layers.append({"op": "conv2d", "name": conv, "weight": f"{conv}.weight",
                           "stride": stride, "padding": "same", "pad_mode": "zero"})
        tensors[f"{norm}.beta"] = var(1)    # shift comes first in the checkpoint
        tensors[f"{norm}.gamma"] = var(1)   # then scale
        layer = {"op": "instance_norm", "name": norm, "gamma": f"{norm}.gamma",
                 "beta": f"{norm}.beta", "eps": IN_EPS, "activation": "relu" if relu else "none"}
        if residual:
            layer["residual"] = residual
        layers.append(layer)

    conv_in("conv1", "in1", 1, True)
    conv_in("conv2", "in2", 2, True)
    conv_in("conv3", "in3", 2, True)
    block_input = "in3"
    for k in range(1, 6):
        r = f"res{k}"
        conv_in(f"{r}.conv1", f"{r}.in1", 1, True)
        conv_in(f"{r}.conv2", f"{r}.in2", 1, False, residual=block_input)
        block_input = f"{r}.in2"
    conv_in("deconv1", "in4", 2, True, transpose=True)
    conv_in("deconv2", "in5", 2, True, transpose=True)
    conv_in("conv4", "in6", 1, False)
    layers.append({"op": "activation", "name": "output", "activation": "tanh",
                   "scale": 150.0, "offset": 127.5})
    if index[0] != len(variables):
        raise ValueError(f"checkpoint has {len(variables)} variables, the network uses {index[0]}")

    graph = {"format": "vkstyle-graph", "version": 1, "name": name, "styles": [name],
             "input": {"channels": 3, "scale": 1.0, "offset": 0.0},
             "output": {"scale": 1.0, "offset": 0.0}, "layers": layers}
    tensors = {k: np.ascontiguousarray(v.astype(dtype)) for k, v in tensors.items()}
    return tensors, graph


def convert_folder(folder, out_path, dtype=np.float16, name=None):
    name = name or os.path.basename(os.path.normpath(folder))
    tensors, graph = convert(load_ml5(folder), name, dtype)
    safetensors_io.write(out_path, tensors, {"vkstyle.graph": json.dumps(graph)})
    print(f"{folder} -> {out_path} ({os.path.getsize(out_path)} bytes, "
          f"{sum(t.size for t in tensors.values())} parameters)")
    return tensors, graph


def f16_psnr(folder, image):
    """PSNR of the float32 reference output with F16 weights vs with F32 weights."""
    from tools.convert import reference
    name = os.path.basename(os.path.normpath(folder))
    variables = load_ml5(folder)
    pixels = reference.load_image(image)
    outs = []
    for dtype in (np.float32, np.float16):
        tensors, graph = convert(variables, name, dtype)
        outs.append(reference.run(graph, tensors, pixels))
    return reference.psnr(outs[0], outs[1])


def main(argv=None):
    ap = argparse.ArgumentParser(description="Convert ml5.js style-transfer checkpoints to vkstyle models.")
    ap.add_argument("folder", nargs="?", help="an ml5 style folder (manifest.json + raw float32 files)")
    ap.add_argument("--all", metavar="ML5_ROOT", help="convert all nine styles under ML5_ROOT")
    ap.add_argument("-o", "--output", required=True,
                    help="output .safetensors file (a folder with --all)")
    ap.add_argument("--dtype", choices=["f16", "f32"], default="f16", help="weight type (default f16)")
    ap.add_argument("--check-image", metavar="PNG",
                    help="also print the PSNR of F16 vs F32 weights on this image (needs torch)")
    args = ap.parse_args(argv)
    dtype = np.float16 if args.dtype == "f16" else np.float32
    if bool(args.folder) == bool(args.all):
        ap.error("give either a style folder or --all ML5_ROOT")
    if args.all:
        os.makedirs(args.output, exist_ok=True)
        jobs = [(os.path.join(args.all, s), os.path.join(args.output, s + ".safetensors"))
                for s in STYLES]
    else:
        jobs = [(args.folder, args.output)]
    for folder, out in jobs:
        convert_folder(folder, out, dtype)
        if args.check_image:
            print(f"  F16 vs F32 weights on {args.check_image}: "
                  f"PSNR {f16_psnr(folder, args.check_image):.2f} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
