#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_onnx (tests/fuzz_corpus/onnx/): small ONNX models covering the
mapped ops, the constant-shape folding and the refusals. Run from the repository root:
  /usr/bin/python3 tests/fuzz_corpus/make_onnx_seeds.py"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "onnx")
rng = np.random.default_rng(7)


def f32(*s):
    return rng.standard_normal(s).astype(np.float32)


def save(name, nodes, inits, opset=13, cin=3, rank=4):
    dims = [1, cin, "h", "w"] if rank == 4 else [cin, "h", "w"]
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(a, n) for n, a in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    onnx.save(m, os.path.join(OUT, name + ".onnx"))


os.makedirs(OUT, exist_ok=True)
i64 = lambda *v: np.array(v, np.int64)
# Pad + Conv + InstanceNorm + Relu + residual, Upsample (opset 9)
save("tnet_block9", [
    helper.make_node("Pad", ["x"], ["p"], mode="reflect", pads=[0, 0, 1, 1, 0, 0, 1, 1]),
    helper.make_node("Conv", ["p", "w", "b"], ["c"]),
    helper.make_node("InstanceNormalization", ["c", "g", "be"], ["n"], epsilon=1e-5),
    helper.make_node("Relu", ["n"], ["r"]),
    helper.make_node("Add", ["r", "x"], ["a"]),
    helper.make_node("Upsample", ["a", "s"], ["y"], mode="nearest"),
], {"w": f32(3, 3, 3, 3), "b": f32(3), "g": f32(3), "be": f32(3), "s": np.array([1, 1, 2, 2], np.float32)}, opset=9)
# Resize whose sizes come from Shape/Gather/Mul/Unsqueeze/Concat (opset 13)
save("resize_shape13", [
    helper.make_node("Shape", ["x"], ["sh"]),
    helper.make_node("Gather", ["sh", "i2"], ["h"], axis=0),
    helper.make_node("Gather", ["sh", "i3"], ["w"], axis=0),
    helper.make_node("Mul", ["h", "two"], ["h2"]),
    helper.make_node("Mul", ["w", "two"], ["w2"]),
    helper.make_node("Unsqueeze", ["h2", "ax"], ["h3"]),
    helper.make_node("Unsqueeze", ["w2", "ax"], ["w3"]),
    helper.make_node("Slice", ["sh", "s0", "s2", "ax"], ["nc"]),
    helper.make_node("Concat", ["nc", "h3", "w3"], ["sz"], axis=0),
    helper.make_node("Cast", ["sz"], ["szc"], to=TensorProto.INT64),
    helper.make_node("Resize", ["x", "", "", "szc"], ["y"], mode="nearest", coordinate_transformation_mode="asymmetric",
                     nearest_mode="floor"),
], {"i2": np.array(2, np.int64), "i3": np.array(3, np.int64), "two": np.array(2, np.int64), "ax": i64(0),
    "s0": i64(0), "s2": i64(2)})
# ConvTranspose, BatchNorm, LeakyRelu, Clip, Mul/Add/Sub/Div by constants, Pad edge/constant (opset 11)
save("ops11", [
    helper.make_node("ConvTranspose", ["x", "wt", "b"], ["t"], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1]),
    helper.make_node("BatchNormalization", ["t", "g", "be", "mu", "var"], ["n"]),
    helper.make_node("LeakyRelu", ["n"], ["l"], alpha=0.1),
    helper.make_node("Clip", ["l", "lo", "hi"], ["c"]),
    helper.make_node("Mul", ["c", "pc"], ["m"]),
    helper.make_node("Sub", ["m", "half"], ["s"]),
    helper.make_node("Div", ["s", "half"], ["d"]),
    helper.make_node("Pad", ["d", "pads"], ["e"], mode="edge"),
    helper.make_node("Pad", ["e", "pads", "half"], ["y"], mode="constant"),
], {"wt": f32(3, 3, 3, 3), "b": f32(3), "g": f32(3), "be": f32(3), "mu": f32(3), "var": np.ones(3, np.float32),
    "lo": np.array(0, np.float32), "hi": np.array(6, np.float32), "pc": f32(1, 3, 1, 1), "half": np.array(0.5, np.float32),
    "pads": i64(0, 0, 1, 2, 0, 0, 2, 1)}, opset=11)
# Constant, Identity, Sigmoid, Tanh, ConstantOfShape/Reshape/Transpose folding into Pad (opset 17)
save("fold17", [
    helper.make_node("Constant", [], ["k"], value=numpy_helper.from_array(i64(4), "k")),
    helper.make_node("ConstantOfShape", ["k"], ["z"], value=numpy_helper.from_array(i64(0), "v")),
    helper.make_node("Concat", ["z", "one4"], ["c4"], axis=0),
    helper.make_node("Reshape", ["c4", "shape"], ["r"]),
    helper.make_node("Transpose", ["r"], ["tr"], perm=[1, 0]),
    helper.make_node("Reshape", ["tr", "flat"], ["pads"]),
    helper.make_node("Pad", ["x", "pads"], ["p"], mode="reflect"),
    helper.make_node("Identity", ["p"], ["i"]),
    helper.make_node("Sigmoid", ["i"], ["s"]),
    helper.make_node("Tanh", ["s"], ["y"]),
], {"one4": i64(1, 1, 1, 1), "shape": i64(-1, 2), "flat": i64(-1)}, opset=17)
# tensor mode: rank-3 input, 5 channels
save("tensor_rank3", [helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 0, 1, 0])], {"w": f32(2, 5, 3, 3)}, cin=5, rank=3)
# refusals
save("group4", [helper.make_node("Conv", ["x", "w"], ["y"], group=3)], {"w": f32(3, 1, 3, 3)})
save("softmax", [helper.make_node("Softmax", ["x"], ["y"])], {})
print("wrote", sorted(os.listdir(OUT)))
