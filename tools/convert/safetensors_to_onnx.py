#!/usr/bin/env python3
"""Export a vkstyle model file to ONNX (the reverse of `vkstyle convert`), from its graph JSON.

  python3 -m tools.convert.safetensors_to_onnx model.safetensors -o model.onnx [--style N] [--opset 13]

Each layer becomes the standard ONNX ops (python3-onnx's helper API): conv2d -> Conv (a
reflect-padded one: Pad + Conv; "same": auto_pad SAME_UPPER), conv2d_transpose -> ConvTranspose
with the pads / output_padding that give out = stride x in, instance_norm -> InstanceNormalization,
batch_norm -> BatchNormalization, activation -> Relu / Tanh / Sigmoid then Mul and Add by its scale
and offset, upsample_nearest -> Resize (nearest, asymmetric, floor), add and residuals -> Add. A
multi-style model (conditional_instance_norm) is exported with one style (--style, default 0).
The input is 0..255 pixels and the output 0..255 (vkstyle's defaults for ONNX models); a graph
input/output scale or offset becomes Mul/Add nodes. Weights are written as float32.
"""
import argparse
import json
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

if not __package__:  # run as a file, where the package imports cannot resolve
    sys.exit("run it from the repository root as: python3 -m tools.convert.safetensors_to_onnx")
from tools.convert import safetensors_io

ACT_OPS = {"relu": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid"}


def export(path, out_path, style=0, opset=13):
    tensors, metadata = safetensors_io.read(path)
    graph = json.loads(metadata["vkstyle.graph"])
    nodes, inits = [], []
    names = {}

    def const(name, value):
        inits.append(numpy_helper.from_array(np.asarray(value, dtype=np.float32), name))
        return name

    def node(op, inputs, name, **attrs):
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def weight(layer, field):
        key = layer.get(field)
        if key is None:
            return None
        t = tensors[key].astype(np.float32)
        if layer["op"] == "conditional_instance_norm":
            t = t[style]
        return const(f"{layer['name'] if 'name' in layer else id(layer)}.{field}", t)

    def affine(x, scale, offset, name):
        if scale != 1.0:
            x = node("Mul", [x, const(name + ".scale", np.float32(scale))], name + "_mul")
        if offset != 0.0:
            x = node("Add", [x, const(name + ".offset", np.float32(offset))], name + "_add")
        return x

    x = affine("input", graph["input"].get("scale", 1.0), graph["input"].get("offset", 0.0), "input_affine")
    names["input"] = x
    prev = x
    for i, layer in enumerate(graph["layers"]):
        layer.setdefault("name", f"layer{i}")
        nm, op = layer["name"], layer["op"]
        src = names[layer["input"]] if isinstance(layer.get("input"), str) else prev
        act = layer.get("activation", "none")
        if op == "conv2d":
            w = weight(layer, "weight")
            ins = [src, w] + ([weight(layer, "bias")] if "bias" in layer else [])
            stride = layer.get("stride", 1)
            pad = layer.get("padding", "same")
            attrs = {"strides": [stride, stride]}
            if pad == "same":
                attrs["auto_pad"] = "SAME_UPPER"
            elif layer.get("pad_mode", "zero") == "reflect":
                t, b, l, r = pad
                pads = np.array([0, 0, t, l, 0, 0, b, r], dtype=np.int64)
                inits.append(numpy_helper.from_array(pads, nm + ".pads"))
                ins[0] = node("Pad", [src, nm + ".pads"], nm + "_pad", mode="reflect")
            else:
                t, b, l, r = pad
                attrs["pads"] = [t, l, b, r]
            y = node("Conv", ins, nm + "_conv", **attrs)
        elif op == "conv2d_transpose":
            w = weight(layer, "weight")
            ins = [src, w] + ([weight(layer, "bias")] if "bias" in layer else [])
            s, p = layer.get("stride", 2), layer.get("padding", 0)
            k = tensors[layer["weight"]].shape[2]
            e = k - p - s  # out = (in-1)s + k - p - end + output_padding = s * in
            end, outpad = (e, 0) if e >= 0 else (0, -e)
            y = node("ConvTranspose", ins, nm + "_convt", strides=[s, s], pads=[p, p, end, end],
                     output_padding=[outpad, outpad])
        elif op in ("instance_norm", "conditional_instance_norm"):
            y = node("InstanceNormalization", [src, weight(layer, "gamma"), weight(layer, "beta")], nm + "_in",
                     epsilon=layer.get("eps", 1e-5))
        elif op == "batch_norm":
            y = node("BatchNormalization", [src] + [weight(layer, f) for f in ("gamma", "beta", "mean", "var")],
                     nm + "_bn", epsilon=layer.get("eps", 1e-5))
        elif op == "upsample_nearest":
            scales = const(nm + ".scales", np.array([1, 1, 2, 2], dtype=np.float32))
            y = node("Resize", [src, "", scales], nm + "_resize", mode="nearest",
                     coordinate_transformation_mode="asymmetric", nearest_mode="floor")
        elif op == "add":
            a, b = layer["input"]
            y = node("Add", [names[a], names[b]], nm + "_add")
        elif op == "activation":
            y = src
        else:
            raise ValueError(f"layer {i} ({op}): no ONNX mapping")
        if act != "none":
            y = node(ACT_OPS[act], [y], nm + "_" + act)
        if "residual" in layer:
            y = node("Add", [y, names[layer["residual"]]], nm + "_residual")
        if op == "activation":
            y = affine(y, layer.get("scale", 1.0), layer.get("offset", 0.0), nm)
        names[nm] = prev = y
    y = affine(prev, graph["output"].get("scale", 1.0), graph["output"].get("offset", 0.0), "output_affine")
    nodes.append(helper.make_node("Identity", [y], ["output"], name="output"))
    dims = [1, graph["input"].get("channels", 3), "height", "width"]
    g = helper.make_graph(nodes, graph.get("name", "vkstyle"), [helper.make_tensor_value_info("input", TensorProto.FLOAT, dims)],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, None, None])], inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="vkstyle")
    onnx.checker.check_model(model)
    onnx.save(model, out_path)
    return model


def main(argv=None):
    ap = argparse.ArgumentParser(description="Export a vkstyle model file to ONNX.")
    ap.add_argument("model", help="vkstyle model (.safetensors)")
    ap.add_argument("-o", "--output", required=True, help="output .onnx")
    ap.add_argument("--style", type=int, default=0, help="the style of a multi-style model (default 0)")
    ap.add_argument("--opset", type=int, default=13, help="ONNX opset (11..17, default 13)")
    args = ap.parse_args(argv)
    export(args.model, args.output, args.style, args.opset)
    print(f"{args.model} -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
