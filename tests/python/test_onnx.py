#!/usr/bin/env python3
"""ONNX in, end to end through the vkstyle binary:

  test_onnx.py VKSTYLE REPO_ROOT [transformer|translation|refusals|models]

transformer: PyTorch's fast_neural_style TransformerNet (pytorch/examples, written out below) with
  random weights, exported by torch.onnx.export at opset 9 (Upsample), 11 (Resize with constant
  scales) and 13 with dynamic H, W and an interpolate(size=...) whose sizes come from a
  Shape/Gather/Mul/Concat chain; `vkstyle image -m net.onnx` on an odd-size crop of a photo must
  be >= 45 dB PSNR against PyTorch's own output.
models: our models/*.safetensors exported to ONNX (tools/convert/safetensors_to_onnx.py) and
  converted back by `vkstyle convert` give the same pixels as the .safetensors.
translation: the graph JSON emitted for ops and forms our networks do not use (pad, edge padding,
  leaky_relu, clip, non-2 upsample factors, general conv2d_transpose, per-channel affine), the
  folding of Mul/Add into convs and fusions, and external data (same file as inline weights).
refusals: malformed and unsupported files: one-line error naming what is wrong, nothing written.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from PIL import Image

VKSTYLE, ROOT = sys.argv[1], sys.argv[2]
WHAT = sys.argv[3:] or ["transformer", "translation", "refusals", "models"]
sys.path.insert(0, ROOT)


class ConvLayer(torch.nn.Module):
    def __init__(self, cin, cout, k, stride):
        super().__init__()
        self.reflection_pad = torch.nn.ReflectionPad2d(k // 2)
        self.conv2d = torch.nn.Conv2d(cin, cout, k, stride)

    def forward(self, x):
        return self.conv2d(self.reflection_pad(x))


class ResidualBlock(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = ConvLayer(c, c, 3, 1)
        self.in1 = torch.nn.InstanceNorm2d(c, affine=True)
        self.conv2 = ConvLayer(c, c, 3, 1)
        self.in2 = torch.nn.InstanceNorm2d(c, affine=True)
        self.relu = torch.nn.ReLU()

    def forward(self, x):
        return self.in2(self.conv2(self.relu(self.in1(self.conv1(x))))) + x


class UpsampleConvLayer(torch.nn.Module):
    def __init__(self, cin, cout, k, stride, upsample=None, by_size=False):
        super().__init__()
        self.upsample, self.by_size = upsample, by_size
        self.reflection_pad = torch.nn.ReflectionPad2d(k // 2)
        self.conv2d = torch.nn.Conv2d(cin, cout, k, stride)

    def forward(self, x):
        if self.upsample:
            if self.by_size:  # the same, as sizes computed from the input's shape
                x = torch.nn.functional.interpolate(x, size=(x.shape[2] * 2, x.shape[3] * 2), mode="nearest")
            else:
                x = torch.nn.functional.interpolate(x, mode="nearest", scale_factor=self.upsample)
        return self.conv2d(self.reflection_pad(x))


class TransformerNet(torch.nn.Module):
    def __init__(self, width=8, by_size=False):
        super().__init__()
        c1, c2, c3 = width, 2 * width, 4 * width
        self.conv1 = ConvLayer(3, c1, 9, 1)
        self.in1 = torch.nn.InstanceNorm2d(c1, affine=True)
        self.conv2 = ConvLayer(c1, c2, 3, 2)
        self.in2 = torch.nn.InstanceNorm2d(c2, affine=True)
        self.conv3 = ConvLayer(c2, c3, 3, 2)
        self.in3 = torch.nn.InstanceNorm2d(c3, affine=True)
        self.res = torch.nn.Sequential(*[ResidualBlock(c3) for _ in range(5)])
        self.deconv1 = UpsampleConvLayer(c3, c2, 3, 1, upsample=2, by_size=by_size)
        self.in4 = torch.nn.InstanceNorm2d(c2, affine=True)
        self.deconv2 = UpsampleConvLayer(c2, c1, 3, 1, upsample=2, by_size=by_size)
        self.in5 = torch.nn.InstanceNorm2d(c1, affine=True)
        self.deconv3 = ConvLayer(c1, 3, 9, 1)
        self.relu = torch.nn.ReLU()

    def forward(self, x):
        y = self.relu(self.in1(self.conv1(x)))
        y = self.relu(self.in2(self.conv2(y)))
        y = self.relu(self.in3(self.conv3(y)))
        y = self.res(y)
        y = self.relu(self.in4(self.deconv1(y)))
        y = self.relu(self.in5(self.deconv2(y)))
        return self.deconv3(y)


def run(*args, ok=True):
    p = subprocess.run([VKSTYLE, *args], capture_output=True, text=True, timeout=300)
    if "validation" in p.stderr:  # for ctest's FAIL_REGULAR_EXPRESSION
        sys.stderr.write(p.stderr)
    if ok and p.returncode != 0:
        sys.exit(f"FAIL: vkstyle {' '.join(args)}: exit {p.returncode}\n{p.stderr}")
    return p


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def photo(tmp, w=37, h=29):
    """An odd-size crop of the Kodak photo in tests/data."""
    img = np.asarray(Image.open(os.path.join(ROOT, "tests/data/kodim05_crop333x257.png")).convert("RGB"))
    px = np.ascontiguousarray(img[100:100 + h, 150:150 + w])
    path = os.path.join(tmp, "in.png")
    Image.fromarray(px).save(path)
    return px, path


def test_transformer(tmp):
    px, in_png = photo(tmp)
    x = torch.from_numpy(px.astype(np.float32)).permute(2, 0, 1).unsqueeze(0)
    cases = [(9, False, False), (11, False, False), (13, True, True)]
    for opset, dynamic, by_size in cases:
        torch.manual_seed(1000 + opset)
        net = TransformerNet(width=8, by_size=by_size)
        with torch.no_grad():  # non-trivial norm parameters; outputs spread over 0..255
            for name, p in net.named_parameters():
                if name.endswith(".weight") and p.dim() == 1:
                    p.uniform_(0.5, 1.5)
                elif name.endswith(".bias") and "in" in name.split(".")[-2]:
                    p.uniform_(-0.5, 0.5)
            net.deconv3.conv2d.weight.mul_(60.0)
            net.deconv3.conv2d.bias.add_(127.5)
        net.eval()
        onnx_path = os.path.join(tmp, f"tnet{opset}.onnx")
        kw = {"dynamic_axes": {"input": {2: "h", 3: "w"}, "output": {2: "h", 3: "w"}}} if dynamic else {}
        torch.onnx.export(net, x, onnx_path, opset_version=opset, input_names=["input"], output_names=["output"], **kw)
        with torch.no_grad():
            ref = net(x)[0, :, :px.shape[0], :px.shape[1]].clamp(0, 255).add(0.5).floor().permute(1, 2, 0).to(torch.uint8).numpy()
        spread = float(np.mean((ref > 0) & (ref < 255)))
        if spread < 0.5:
            sys.exit(f"FAIL: the random network saturates ({spread:.2f} of the pixels inside 0..255)")
        out_png = os.path.join(tmp, f"out{opset}.png")
        run("image", "-q", "-m", onnx_path, "-i", in_png, "-o", out_png)
        got = np.asarray(Image.open(out_png).convert("RGB"))
        db = psnr(got, ref)
        print(f"TransformerNet opset {opset}{' dynamic H,W, sizes from Shape' if by_size else ''}: "
              f"{db:.1f} dB PSNR vs PyTorch ({px.shape[1]}x{px.shape[0]})")
        if db < 45:
            sys.exit(f"FAIL: opset {opset}: {db:.1f} dB < 45")
        # and converted once, the same pixels
        st = os.path.join(tmp, f"tnet{opset}.safetensors")
        run("convert", "-q", onnx_path, "-o", st)
        out2 = os.path.join(tmp, f"out{opset}b.png")
        run("image", "-q", "-m", st, "-i", in_png, "-o", out2)
        if not np.array_equal(np.asarray(Image.open(out2)), got):
            sys.exit(f"FAIL: opset {opset}: vkstyle convert's file gives other pixels than -m net.onnx")


def test_models(tmp):
    """Our models exported to ONNX and converted back: the same pixels as the .safetensors."""
    from tools.convert import safetensors_to_onnx
    _, in_png = photo(tmp, 21, 17)
    models = sorted(f[:-12] for f in os.listdir(os.path.join(ROOT, "models")) if f.endswith(".safetensors"))
    if len(models) < 9:
        sys.exit(f"FAIL: expected the nine models and styles9 in models/, found {models}")
    for m in models:
        src = os.path.join(ROOT, "models", m + ".safetensors")
        onnx_path, back = os.path.join(tmp, m + ".onnx"), os.path.join(tmp, m + "_back.safetensors")
        safetensors_to_onnx.export(src, onnx_path, style=0)
        run("convert", "-q", onnx_path, "-o", back)
        a, b = os.path.join(tmp, m + "_a.png"), os.path.join(tmp, m + "_b.png")
        run("image", "-q", "-m", src, "-s", "0", "-i", in_png, "-o", a)
        run("image", "-q", "-m", back, "-i", in_png, "-o", b)
        pa, pb = np.asarray(Image.open(a)), np.asarray(Image.open(b))
        if not np.array_equal(pa, pb):
            sys.exit(f"FAIL: {m}: safetensors -> ONNX -> vkstyle convert gives other pixels "
                     f"(max diff {np.abs(pa.astype(int) - pb.astype(int)).max()})")
        print(f"{m}: .safetensors -> .onnx -> vkstyle convert: the same pixels")


def make(path, nodes, inits=(), opset=13, cin=3, cout=3, **save):
    """A small ONNX model: input 'x' [1,cin,H,W] float, output 'y'."""
    import onnx
    from onnx import TensorProto, helper
    g = helper.make_graph(nodes, "t", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, cin, "h", "w"])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, cout, None, None])], list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    onnx.save(m, path, **save)
    return path


def bare_tensor(name, dims=(3, 3, 3, 3)):
    """A float TensorProto with its shape and no data (the caller fills it, or not)."""
    from onnx import TensorProto
    t = TensorProto()
    t.name, t.data_type = name, TensorProto.FLOAT
    t.dims.extend(dims)
    return t


def graph_of(path):
    from tools.convert import safetensors_io
    tensors, md = safetensors_io.read(path)
    return json.loads(md["vkstyle.graph"]), tensors


def test_refusals(tmp):
    """Each bad file: exit 1, one line naming the problem, nothing written."""
    from onnx import TensorProto, helper, numpy_helper
    w = numpy_helper.from_array(np.ones((3, 3, 3, 3), np.float32), "w")
    w4 = numpy_helper.from_array(np.ones((4, 1, 3, 3), np.float32), "w4")
    d = os.path.join(tmp, "refuse")
    os.makedirs(d)
    cases = []
    cases.append((make(os.path.join(d, "op.onnx"), [helper.make_node("Softmax", ["x"], ["y"], name="sm")]),
                  "node 'sm' (Softmax): op Softmax is not supported"))
    cases.append((make(os.path.join(d, "group.onnx"), [helper.make_node("Conv", ["x", "w4"], ["y"], name="Conv_12", group=4)],
                       [w4], cin=4, cout=4), "node 'Conv_12' (Conv): group = 4 is not supported", "--tensor-io"))
    w3 = numpy_helper.from_array(np.ones((3, 1, 3, 3), np.float32), "w3")
    cases.append((make(os.path.join(d, "depthwise.onnx"), [helper.make_node("Conv", ["x", "w3"], ["y"], name="dw", group=3)],
                       [w3]), "node 'dw' (Conv): group = 3 is not supported"))
    cases.append((make(os.path.join(d, "dil.onnx"), [helper.make_node("Conv", ["x", "w"], ["y"], name="c", dilations=[2, 2])], [w]),
                  "node 'c' (Conv): dilations = [2,2] is not supported"))
    cases.append((make(os.path.join(d, "attr.onnx"), [helper.make_node("Relu", ["x"], ["y"], name="r", foo=1)]),
                  "node 'r' (Relu): attribute 'foo' is not supported"))
    cases.append((make(os.path.join(d, "bilinear.onnx"), [helper.make_node(
        "Resize", ["x", "", "s"], ["y"], name="rs", mode="linear")], [numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "s")]),
        "node 'rs' (Resize): mode = linear is not supported"))
    bad = os.path.join(d, "garbage.onnx")
    with open(bad, "wb") as f:
        f.write(b"\x0a\xff\xff\xff\xff\x0f not a protobuf")
    cases.append((bad, "not a valid ONNX file"))
    short = bare_tensor("w")
    short.raw_data = bytes(100)
    cases.append((make(os.path.join(d, "short.onnx"), [helper.make_node("Conv", ["x", "w"], ["y"], name="c")], [short]),
                  "tensor 'w': raw data of 100 bytes is shorter than its shape [3,3,3,3]"))
    few = bare_tensor("w")
    few.float_data.extend([1.0] * 80)
    cases.append((make(os.path.join(d, "few.onnx"), [helper.make_node("Conv", ["x", "w"], ["y"], name="c")], [few]),
                  "tensor 'w': 80 values are fewer than its shape [3,3,3,3]"))
    with open(os.path.join(tmp, "outside.bin"), "wb") as f:
        f.write(np.ones(81, np.float32).tobytes())
    for loc in ("../outside.bin", os.path.join(tmp, "outside.bin"), "link.bin"):
        ext = bare_tensor("w")
        ext.data_location = TensorProto.EXTERNAL
        ext.external_data.add(key="location", value=loc)
        cases.append((make(os.path.join(d, f"ext{len(cases)}.onnx"), [helper.make_node("Conv", ["x", "w"], ["y"], name="c")], [ext]),
                      f"tensor 'w': external data path '{loc}' leaves the model's folder"))
    os.symlink(os.path.join(tmp, "outside.bin"), os.path.join(d, "link.bin"))
    cases.append((make(os.path.join(d, "cycle.onnx"), [helper.make_node("Add", ["x", "b"], ["a"], name="A"),
                                                       helper.make_node("Relu", ["a"], ["b"], name="B"),
                                                       helper.make_node("Relu", ["a"], ["y"], name="C")]),
                  "the graph has a cycle"))
    cases.append((make(os.path.join(d, "dangling.onnx"), [helper.make_node("Add", ["x", "nothing"], ["y"], name="A")]),
                  "node 'A' (Add): input 'nothing' is not defined by any node, initializer or graph input"))
    cases.append((make(os.path.join(d, "opset.onnx"), [helper.make_node("Relu", ["x"], ["y"])], opset=5),
                  "opset 5 is not supported"))
    for path, want, *args in cases:
        out = os.path.join(d, "out.safetensors")
        before = set(os.listdir(d))
        p = run("convert", *args, path, "-o", out, ok=False)
        err = p.stderr
        if p.returncode != 1 or err.count("\n") != 1 or want not in err or not err.startswith("vkstyle: "):
            sys.exit(f"FAIL: {os.path.basename(path)}: expected exit 1 and one line with '{want}', got {p.returncode}: {err!r}")
        if set(os.listdir(d)) != before:
            sys.exit(f"FAIL: {os.path.basename(path)}: something was written: {set(os.listdir(d)) - before}")
        print(f"refused {os.path.basename(path)}: {err.strip()}")
    # the same refusal from -m, before anything runs
    p = run("image", "-m", cases[2][0], "-i", photo(tmp)[1], "-o", os.path.join(d, "o.png"), ok=False)
    if p.returncode != 1 or cases[2][1] not in p.stderr or p.stderr.count("\n") != 1 or os.path.exists(os.path.join(d, "o.png")):
        sys.exit(f"FAIL: vkstyle image -m group.onnx: {p.returncode} {p.stderr!r}")


def test_translation(tmp):
    """What the translation emits for ops and forms our own networks do not use; the graph JSON
    is compared with what the ONNX attributes say (docs/model-format.md)."""
    from onnx import helper, numpy_helper
    rng = np.random.default_rng(5)
    W = lambda *s: rng.standard_normal(s).astype(np.float32)
    w, wt, b = W(4, 3, 3, 3), W(4, 3, 3, 3), W(3)
    inits = [numpy_helper.from_array(a, n) for a, n in ((w, "w"), (wt, "wt"), (b, "b"))]
    inits.append(numpy_helper.from_array(np.array([0, 0, 1, 2, 0, 0, 3, 4], np.int64), "pads"))
    inits.append(numpy_helper.from_array(np.array([1, 1, 3, 2], np.float32), "scales"))
    inits.append(numpy_helper.from_array(np.array([0.5, 2.0, -1.0], np.float32).reshape(3, 1, 1), "pc"))
    inits.append(numpy_helper.from_array(np.array(-6.0, np.float32), "lo"))
    inits.append(numpy_helper.from_array(np.array(6.0, np.float32), "hi"))
    nodes = [
        helper.make_node("Pad", ["x", "pads"], ["p"], name="edgepad", mode="edge"),      # Pad + Conv: edge padding
        helper.make_node("Conv", ["p", "w"], ["c"], name="conv", strides=[1, 2]),
        helper.make_node("LeakyRelu", ["c"], ["l"], name="leaky", alpha=0.2),
        helper.make_node("ConvTranspose", ["l", "wt", "b"], ["t"], name="convt", strides=[2, 2], pads=[1, 1, 1, 1],
                         output_padding=[1, 0]),
        helper.make_node("Resize", ["t", "", "scales"], ["u"], name="up", mode="nearest",
                         coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
        helper.make_node("Pad", ["u", "pads"], ["q"], name="cpad", mode="constant"),
        helper.make_node("Mul", ["q", "pc"], ["m"], name="perchannel"),
        helper.make_node("Clip", ["m", "lo", "hi"], ["k"], name="clip"),
        helper.make_node("Mul", ["k", "hi"], ["k2"], name="scale"),
        helper.make_node("Sub", ["k2", "lo"], ["y"], name="offset"),
    ]
    path = make(os.path.join(tmp, "ops.onnx"), nodes, inits)
    out = os.path.join(tmp, "ops.safetensors")
    run("convert", "-q", path, "-o", out, "--input-range", "0..1", "--output-range", "-1..1")
    g, t = graph_of(out)
    L = g["layers"]
    want_ops = ["conv2d", "activation", "conv2d_transpose", "upsample_nearest", "pad", "batch_norm", "activation"]
    if [l["op"] for l in L] != want_ops:
        sys.exit(f"FAIL: layers {[l['op'] for l in L]}, expected {want_ops}")
    # Pad [0,0,1,2, 0,0,3,4] is top 1, left 2, bottom 3, right 4
    checks = [
        (L[0]["padding"], [1, 3, 2, 4]), (L[0]["pad_mode"], "edge"), (L[0]["stride"], [1, 2]),
        (L[1]["activation"], "leaky_relu"), (abs(L[1]["alpha"] - 0.2) < 1e-6, True),
        (L[2]["stride"], 2), (L[2]["pads"], [1, 1, 1, 1]), (L[2]["output_padding"], [1, 0]),
        (L[3]["scale"], [3, 2]), (L[4]["pads"], [1, 3, 2, 4]), (L[4]["mode"], "zero"), (L[4]["value"], 0.0),
        (L[5]["eps"], 0.0), (L[6]["activation"], "clip"), (L[6]["min"], -6.0), (L[6]["max"], 6.0),
        (L[6]["scale"], 6.0), (L[6]["offset"], 6.0),   # (clip(x) * 6) - (-6)
        (g["input"]["scale"], 1 / 255), (g["input"]["offset"], 0.0),
        (g["output"]["scale"], 127.5), (g["output"]["offset"], 127.5),
    ]
    for i, (got, want) in enumerate(checks):
        if (abs(got - want) > 1e-6 if isinstance(want, float) else got != want):
            sys.exit(f"FAIL: translation check {i}: got {got!r}, expected {want!r}")
    np.testing.assert_array_equal(t[L[0]["weight"]], w)
    np.testing.assert_array_equal(t[L[2]["bias"]], b)
    np.testing.assert_array_equal(t[L[5]["gamma"]], [0.5, 2.0, -1.0])
    np.testing.assert_array_equal(t[L[5]["var"]], [1, 1, 1])
    # folding: Mul/Add by constants into the conv before; BatchNormalization; Relu fused; an
    # Add of a norm and an earlier value as its residual
    s = W(3)
    inits = [numpy_helper.from_array(w[:3], "w"), numpy_helper.from_array(s.reshape(1, 3, 1, 1), "s"),
             numpy_helper.from_array(np.array(2.0, np.float32), "two")]
    inits += [numpy_helper.from_array(np.abs(W(3)) + 0.5, n) for n in ("g", "be", "mu", "var")]
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("Mul", ["c", "s"], ["c2"], name="mul"),
             helper.make_node("Add", ["two", "c2"], ["c3"], name="add"),
             helper.make_node("BatchNormalization", ["c3", "g", "be", "mu", "var"], ["n"], name="bn", epsilon=1e-3),
             helper.make_node("Relu", ["n"], ["r"], name="relu"),
             helper.make_node("InstanceNormalization", ["r", "g", "be"], ["i"], name="in"),
             helper.make_node("Add", ["i", "r"], ["y"], name="res")]
    path = make(os.path.join(tmp, "fold.onnx"), nodes, inits, opset=9)
    run("convert", "-q", path, "-o", out)
    g, t = graph_of(out)
    L = g["layers"]
    if [l["op"] for l in L] != ["conv2d", "batch_norm", "instance_norm"]:
        sys.exit(f"FAIL: folding gave {[l['op'] for l in L]}")
    np.testing.assert_allclose(t[L[0]["weight"]], w[:3] * s.reshape(3, 1, 1, 1), rtol=1e-6)
    np.testing.assert_allclose(t[L[0]["bias"]], np.full(3, 2.0), rtol=1e-6)
    if L[1]["activation"] != "relu" or L[2].get("residual") != L[1]["name"] or L[0]["padding"] != [1, 1, 1, 1]:
        sys.exit(f"FAIL: fusion: {L}")
    # ranges from the model's metadata; the options win over it
    import onnx
    m = onnx.load(path)
    onnx.helper.set_model_props(m, {"vkstyle.input_range": "0..1", "vkstyle.output_range": "-1..1"})
    meta = os.path.join(tmp, "meta.onnx")
    onnx.save(m, meta)
    run("convert", "-q", meta, "-o", out)
    g, _ = graph_of(out)
    if abs(g["input"]["scale"] - 1 / 255) > 1e-9 or g["output"]["scale"] != 127.5 or g["output"]["offset"] != 127.5:
        sys.exit(f"FAIL: metadata ranges: {g['input']} {g['output']}")
    run("convert", "-q", "--input-range", "0..255", meta, "-o", out)
    g, _ = graph_of(out)
    if g["input"]["scale"] != 1.0 or g["output"]["scale"] != 127.5:
        sys.exit(f"FAIL: --input-range over metadata: {g['input']} {g['output']}")
    # external data next to the model: the same file as with the weights inline
    src = path
    m = onnx.load(src)
    ext_dir = os.path.join(tmp, "ext")
    os.makedirs(ext_dir)
    onnx.save_model(m, os.path.join(ext_dir, "net.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=0)
    a, b2 = os.path.join(tmp, "inline.safetensors"), os.path.join(tmp, "external.safetensors")
    run("convert", "-q", "--name", "n", src, "-o", a)
    run("convert", "-q", "--name", "n", os.path.join(ext_dir, "net.onnx"), "-o", b2)
    if open(a, "rb").read() != open(b2, "rb").read():
        sys.exit("FAIL: external data gives another file than inline weights")
    print("translation: pad/edge/leaky_relu/clip/x3x2 upsample/general conv2d_transpose/per-channel affine, folding, "
          "residual, external data: as expected")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for what in WHAT:
            globals()["test_" + what](tmp)
    print("ok")


if __name__ == "__main__":
    main()
