#!/usr/bin/env python3
"""Tests of the Python model tools in tools/convert (run from the repository root:
PYTHONPATH=. /usr/bin/python3 tests/python/test_tools.py).

Self-contained: synthetic checkpoints and images are made in temporary folders.
"""
import json
import os
import struct
import tempfile
import unittest

import numpy as np
import torch

from tools.convert import export_pytorch
from tools.convert import ml5_to_safetensors
from tools.convert import reference
from tools.convert import safetensors_io


class SafetensorsIO(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "t.safetensors")

    def tearDown(self):
        self.tmp.cleanup()

    def test_round_trip(self):
        rng = np.random.default_rng(0)
        tensors = {"b": rng.standard_normal((3, 5)).astype(np.float16),
                   "a.weight": rng.standard_normal((2, 3, 3, 1)).astype(np.float32),
                   "c": np.arange(7, dtype=np.float32)}
        meta = {"vkstyle.graph": json.dumps({"x": "ü"}), "k": "v"}
        safetensors_io.write(self.path, tensors, meta)
        got, got_meta = safetensors_io.read(self.path)
        self.assertEqual(got_meta, meta)
        self.assertEqual(sorted(got), sorted(tensors))
        for k, v in tensors.items():
            self.assertEqual(got[k].dtype, v.dtype)
            np.testing.assert_array_equal(got[k], v)
        with open(self.path, "rb") as f:
            blob = f.read()
        (n,) = struct.unpack("<Q", blob[:8])
        self.assertEqual(n % 8, 0)
        header = json.loads(blob[8:8 + n])
        names = [k for k in header if k != "__metadata__"]
        self.assertEqual(names, sorted(names))
        end = 0
        for k in names:
            self.assertEqual(header[k]["data_offsets"][0], end)
            end = header[k]["data_offsets"][1]
        self.assertEqual(8 + n + end, len(blob))

    def test_rejects(self):
        with self.assertRaises(ValueError):
            safetensors_io.write(self.path, {"x": np.array([1.0, np.nan], np.float32)})
        with self.assertRaises(ValueError):
            safetensors_io.write(self.path, {"x": np.zeros(3, np.float64)})
        safetensors_io.write(self.path, {"x": np.zeros(4, np.float32)})
        with open(self.path, "ab") as f:
            f.write(b"\0")  # trailing byte
        with self.assertRaises(ValueError):
            safetensors_io.read(self.path)
        header = b'{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' \
                 b'"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}'
        with open(self.path, "wb") as f:
            f.write(struct.pack("<Q", len(header)) + header + bytes(8))
        with self.assertRaises(ValueError):
            safetensors_io.read(self.path)


# --- an independent numpy implementation of the ml5 network, on the raw TF variables ---

def tf_conv(x, w, stride):
    """TF conv2d 'SAME' on x [H, W, Cin] with w [kh, kw, Cin, Cout]."""
    kh, kw = w.shape[:2]
    pads = []
    for size, k in ((x.shape[0], kh), (x.shape[1], kw)):
        out = -(-size // stride)
        total = max((out - 1) * stride + k - size, 0)
        pads.append((total // 2, total - total // 2))
    xp = np.pad(x, (pads[0], pads[1], (0, 0)))
    oh, ow = -(-x.shape[0] // stride), -(-x.shape[1] // stride)
    y = np.zeros((oh, ow, w.shape[3]))
    for dy in range(kh):
        for dx in range(kw):
            y += xp[dy:dy + stride * oh:stride, dx:dx + stride * ow:stride] @ w[dy, dx]
    return y


def tf_deconv(x, w):
    """TF conv2d_transpose 'SAME', stride 2, on x [H, W, Cin] with w [kh, kw, Cout, Cin]."""
    h, wd = x.shape[:2]
    kh, kw = w.shape[:2]
    y = np.zeros((2 * h + kh, 2 * wd + kw, w.shape[2]))
    for dy in range(kh):
        for dx in range(kw):
            y[dy:dy + 2 * h:2, dx:dx + 2 * wd:2] += x @ w[dy, dx].T
    return y[:2 * h, :2 * wd]


def tf_in(x, beta, gamma, relu):
    y = gamma * (x - x.mean(axis=(0, 1))) / np.sqrt(x.var(axis=(0, 1)) + 1e-3) + beta
    return np.maximum(y, 0) if relu else y


def ml5_numpy(v, pixels):
    it = iter(v["Variable" if n == 0 else f"Variable_{n}"].astype(np.float64) for n in range(48))
    x = pixels.astype(np.float64)
    for stride in (1, 2, 2):
        x = tf_in(tf_conv(x, next(it), stride), next(it), next(it), True)
    for _ in range(5):
        y = tf_in(tf_conv(x, next(it), 1), next(it), next(it), True)
        x = x + tf_in(tf_conv(y, next(it), 1), next(it), next(it), False)
    for _ in range(2):
        x = tf_in(tf_deconv(x, next(it)), next(it), next(it), True)
    x = tf_in(tf_conv(x, next(it), 1), next(it), next(it), False)
    x = np.tanh(x) * 150 + 127.5
    h, w = pixels.shape[:2]
    return np.floor(np.clip(x[:h, :w], 0, 255) + 0.5).astype(np.uint8)


def ml5_shapes():
    shapes = [[9, 9, 3, 32], [32], [32], [3, 3, 32, 64], [64], [64], [3, 3, 64, 128], [128], [128]]
    shapes += [[3, 3, 128, 128], [128], [128]] * 10
    shapes += [[3, 3, 64, 128], [64], [64], [3, 3, 32, 64], [32], [32], [9, 9, 32, 3], [3], [3]]
    return {("Variable" if n == 0 else f"Variable_{n}"): s for n, s in enumerate(shapes)}


class Ml5Converter(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.folder = os.path.join(cls.tmp.name, "synthetic")
        os.makedirs(cls.folder)
        rng = np.random.default_rng(5)
        manifest, cls.variables = {}, {}
        for name, shape in ml5_shapes().items():
            if len(shape) == 4:
                a = rng.normal(0, 1 / np.sqrt(shape[0] * shape[1] * shape[2]), shape)
            elif int(name.split("_")[-1] if "_" in name else 0) % 3 == 2:
                a = rng.uniform(0.5, 1.5, shape)  # gamma
            else:
                a = rng.uniform(-0.5, 0.5, shape)  # beta
            a = a.astype("<f4")
            a.tofile(os.path.join(cls.folder, name))
            manifest[name] = {"filename": name, "shape": shape}
            cls.variables[name] = a
        with open(os.path.join(cls.folder, "manifest.json"), "w") as f:
            json.dump(manifest, f)
        cls.pixels = rng.integers(0, 256, (11, 13, 3), dtype=np.uint8)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def convert(self, dtype):
        out = os.path.join(self.tmp.name, f"m_{dtype}.safetensors")
        ml5_to_safetensors.main([self.folder, "-o", out, "--dtype", dtype])
        return reference.load_model(out)

    def test_graph(self):
        graph, tensors = self.convert("f16")
        self.assertEqual(graph["name"], "synthetic")
        self.assertEqual(graph["styles"], ["synthetic"])
        self.assertEqual(graph["input"], {"channels": 3, "scale": 1.0, "offset": 0.0})
        self.assertEqual(graph["output"], {"scale": 1.0, "offset": 0.0})
        layers = graph["layers"]
        self.assertEqual([l["op"] for l in layers],
                         ["conv2d", "instance_norm"] * 13 + ["conv2d_transpose", "instance_norm"] * 2
                         + ["conv2d", "instance_norm", "activation"])
        self.assertEqual(layers[-1], {"op": "activation", "name": "output", "activation": "tanh",
                                      "scale": 150.0, "offset": 127.5})
        self.assertEqual(layers[9]["residual"], "in3")
        self.assertEqual(layers[13]["residual"], "res1.in2")
        for l in layers:
            if l["op"] == "instance_norm":
                self.assertEqual(l["eps"], 1e-3)
        self.assertEqual(tensors["conv1.weight"].shape, (32, 3, 9, 9))
        self.assertEqual(tensors["deconv1.weight"].shape, (128, 64, 3, 3))
        self.assertEqual(tensors["conv4.weight"].shape, (3, 32, 9, 9))
        self.assertEqual(len(tensors), 48)
        self.assertTrue(all(t.dtype == np.float16 for t in tensors.values()))
        np.testing.assert_array_equal(tensors["in1.beta"], self.variables["Variable_1"].astype(np.float16))
        np.testing.assert_array_equal(tensors["in1.gamma"], self.variables["Variable_2"].astype(np.float16))

    def test_output_matches_tf_semantics(self):
        graph, tensors = self.convert("f32")
        ours = reference.run(graph, tensors, self.pixels)
        expected = ml5_numpy(self.variables, self.pixels)
        diff = np.abs(ours.astype(int) - expected.astype(int))
        self.assertLessEqual(diff.max(), 1)
        self.assertGreater(np.ptp(expected), 100)  # a non-trivial output


class ExportPytorch(unittest.TestCase):
    def test_random_model(self):
        with tempfile.TemporaryDirectory() as tmp:
            model_path, in_path, ref_path = export_pytorch.random_test(tmp)
            graph, tensors = reference.load_model(model_path)
            self.assertTrue(all(t.dtype == np.float32 for t in tensors.values()))
            ours = reference.run(graph, tensors, reference.load_image(in_path))
            ref = reference.load_image(ref_path)
            self.assertEqual(ours.shape, (29, 37, 3))
            self.assertLessEqual(np.abs(ours.astype(int) - ref.astype(int)).max(), 1)

    def test_pth_cli(self):
        torch.manual_seed(3)
        model = export_pytorch.TransformerNet(width=4).eval()
        with tempfile.TemporaryDirectory() as tmp:
            pth, out = os.path.join(tmp, "m.pth"), os.path.join(tmp, "m.safetensors")
            state = model.state_dict()
            state["in1.running_mean"] = torch.zeros(4)  # as in old pytorch/examples checkpoints
            torch.save(state, pth)
            export_pytorch.main([pth, "-o", out, "--dtype", "f32"])
            graph, tensors = reference.load_model(out)
            self.assertEqual(graph["name"], "m")
            pixels = np.random.default_rng(2).integers(0, 256, (16, 21, 3), dtype=np.uint8)
            ours = reference.run(graph, tensors, pixels)
            expected = export_pytorch.pytorch_output(model, pixels)
            self.assertLessEqual(np.abs(ours.astype(int) - expected.astype(int)).max(), 1)


class ReferenceOps(unittest.TestCase):
    """The ops the two converters do not use, against torch.nn modules."""

    def test_misc_ops(self):
        torch.manual_seed(7)
        ct = torch.nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1)
        conv = torch.nn.Conv2d(3, 4, 3, stride=2, bias=False)
        bn = torch.nn.BatchNorm2d(4, eps=1e-4).eval()
        with torch.no_grad():
            bn.running_mean.uniform_(-1, 1)
            bn.running_var.uniform_(0.5, 2)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-1, 1)
        gam, bet = torch.rand(2, 3) + 0.5, torch.rand(2, 3) - 0.5
        sw = [0.25, 0.75]
        T = {"ct.w": ct.weight, "ct.b": ct.bias, "conv.w": conv.weight, "bn.mean": bn.running_mean,
             "bn.var": bn.running_var, "bn.g": bn.weight, "bn.b": bn.bias, "cin.g": gam, "cin.b": bet}
        T = {k: v.detach().numpy().astype(np.float32) for k, v in T.items()}
        graph = {"format": "vkstyle-graph", "version": 1, "name": "ops", "styles": ["a", "b"],
                 "input": {"channels": 3, "scale": 1 / 255, "offset": -0.5},
                 "output": {"scale": 255, "offset": 0},
                 "layers": [
                     {"op": "conv2d", "name": "c", "weight": "conv.w", "stride": 2,
                      "padding": [1, 0, 2, 1], "pad_mode": "zero"},
                     {"op": "batch_norm", "name": "bn", "mean": "bn.mean", "var": "bn.var",
                      "gamma": "bn.g", "beta": "bn.b", "eps": 1e-4, "activation": "sigmoid"},
                     {"op": "add", "name": "sum", "input": ["bn", "c"]},
                     {"op": "conv2d_transpose", "weight": "ct.w", "bias": "ct.b", "stride": 2,
                      "padding": 1},
                     {"op": "upsample_nearest", "scale": 2},
                     {"op": "conditional_instance_norm", "gamma": "cin.g", "beta": "cin.b",
                      "eps": 1e-5, "activation": "tanh"},
                     {"op": "activation", "activation": "relu", "scale": 0.5, "offset": 0.25}]}
        pixels = np.random.default_rng(1).integers(0, 256, (9, 12, 3), dtype=np.uint8)
        ours = reference.run(graph, T, pixels, sw)
        x = torch.from_numpy(pixels.astype(np.float32)).permute(2, 0, 1)[None] / 255 - 0.5
        with torch.no_grad():
            c = conv(torch.nn.functional.pad(x, (2, 1, 1, 0)))
            y = torch.sigmoid(bn(c)) + c
            y = torch.nn.functional.interpolate(ct(y), scale_factor=2, mode="nearest")
            g, b = 0.25 * gam[0] + 0.75 * gam[1], 0.25 * bet[0] + 0.75 * bet[1]
            y = torch.tanh(torch.nn.functional.instance_norm(y, weight=g, bias=b, eps=1e-5))
            y = (torch.relu(y) * 0.5 + 0.25) * 255
        expected = torch.floor(y[0, :, :9, :12].clamp(0, 255) + 0.5).permute(1, 2, 0).numpy()
        self.assertLessEqual(np.abs(ours.astype(int) - expected.astype(int)).max(), 1)
        # reflect padding must be smaller than the side
        with self.assertRaises(ValueError):
            reference.run({**graph, "layers": [dict(graph["layers"][0], pad_mode="reflect",
                                                    padding=[9, 0, 0, 0])]}, T, pixels, sw)


if __name__ == "__main__":
    unittest.main(verbosity=2)
