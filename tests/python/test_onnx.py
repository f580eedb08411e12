#!/usr/bin/env python3
"""ONNX in, end to end through the vkstyle binary:

  test_onnx.py VKSTYLE REPO_ROOT [transformer|models|refusals]

transformer: PyTorch's fast_neural_style TransformerNet (pytorch/examples, written out below) with
  random weights, exported by torch.onnx.export at opset 9 (Upsample), 11 (Resize with constant
  scales) and 13 with dynamic H, W and an interpolate(size=...) whose sizes come from a
  Shape/Gather/Mul/Concat chain; `vkstyle image -m net.onnx` on an odd-size crop of a photo must
  be >= 45 dB PSNR against PyTorch's own output.
models: our models/*.safetensors exported to ONNX (tools/convert/safetensors_to_onnx.py) and
  converted back by `vkstyle convert` give the same pixels as the .safetensors.
refusals: malformed and unsupported files: one-line error naming what is wrong, nothing written.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from PIL import Image

VKSTYLE, ROOT = sys.argv[1], sys.argv[2]
WHAT = sys.argv[3:] or ["transformer", "models", "refusals"]
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


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for what in WHAT:
            globals()["test_" + what](tmp)
    print("ok")


if __name__ == "__main__":
    main()
