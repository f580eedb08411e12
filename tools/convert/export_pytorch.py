#!/usr/bin/env python3
"""Export a PyTorch fast_neural_style TransformerNet (pytorch/examples) to a vkstyle model.

  python3 -m tools.convert.export_pytorch model.pth -o model.safetensors [--name NAME] [--dtype f16|f32]
  python3 -m tools.convert.export_pytorch --random-test OUT_DIR

The TransformerNet class below is the pytorch/examples architecture (reflection-padded convs
with bias, InstanceNorm2d(affine=True, eps 1e-5), 5 residual blocks, nearest x2 upsampling
then conv, raw output, input 0..255), with an optional width (32 in the original).
Tensor names are the state_dict keys, so any such network exports in a few lines: `export()`.

--random-test builds a small random TransformerNet (fixed seed) and writes OUT_DIR/tiny.safetensors
(F32), a test image OUT_DIR/tiny_in.png and PyTorch's own output OUT_DIR/tiny_ref.png.
"""
import argparse
import json
import os
import re
import sys

import numpy as np
import torch

if not __package__:  # run as a file, where the package imports cannot resolve
    sys.exit("run it from the repository root as: python3 -m tools.convert.export_pytorch")
from tools.convert import safetensors_io


class ConvLayer(torch.nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride):
        super().__init__()
        self.reflection_pad = torch.nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x):
        return self.conv2d(self.reflection_pad(x))


class ResidualBlock(torch.nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.in1 = torch.nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.in2 = torch.nn.InstanceNorm2d(channels, affine=True)
        self.relu = torch.nn.ReLU()

    def forward(self, x):
        out = self.relu(self.in1(self.conv1(x)))
        return self.in2(self.conv2(out)) + x


class UpsampleConvLayer(torch.nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride, upsample=None):
        super().__init__()
        self.upsample = upsample
        self.reflection_pad = torch.nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x):
        if self.upsample:
            x = torch.nn.functional.interpolate(x, mode="nearest", scale_factor=self.upsample)
        return self.conv2d(self.reflection_pad(x))


class TransformerNet(torch.nn.Module):
    def __init__(self, width=32):
        super().__init__()
        c1, c2, c3 = width, 2 * width, 4 * width
        self.conv1 = ConvLayer(3, c1, kernel_size=9, stride=1)
        self.in1 = torch.nn.InstanceNorm2d(c1, affine=True)
        self.conv2 = ConvLayer(c1, c2, kernel_size=3, stride=2)
        self.in2 = torch.nn.InstanceNorm2d(c2, affine=True)
        self.conv3 = ConvLayer(c2, c3, kernel_size=3, stride=2)
        self.in3 = torch.nn.InstanceNorm2d(c3, affine=True)
        for k in range(1, 6):
            setattr(self, f"res{k}", ResidualBlock(c3))
        self.deconv1 = UpsampleConvLayer(c3, c2, kernel_size=3, stride=1, upsample=2)
        self.in4 = torch.nn.InstanceNorm2d(c2, affine=True)
        self.deconv2 = UpsampleConvLayer(c2, c1, kernel_size=3, stride=1, upsample=2)
        self.in5 = torch.nn.InstanceNorm2d(c1, affine=True)
        self.deconv3 = ConvLayer(c1, 3, kernel_size=9, stride=1)
        self.relu = torch.nn.ReLU()

    def forward(self, x):
        y = self.relu(self.in1(self.conv1(x)))
        y = self.relu(self.in2(self.conv2(y)))
        y = self.relu(self.in3(self.conv3(y)))
        for k in range(1, 6):
            y = getattr(self, f"res{k}")(y)
        y = self.relu(self.in4(self.deconv1(y)))
        y = self.relu(self.in5(self.deconv2(y)))
        return self.deconv3(y)


def graph_layers(model):
    """The vkstyle layer list of a TransformerNet; tensor names are its state_dict keys."""
    layers = []

    def conv(prefix, conv_layer, upsample=False):
        if upsample:
            layers.append({"op": "upsample_nearest", "scale": conv_layer.upsample})
        c = conv_layer.conv2d
        p = conv_layer.reflection_pad.padding  # (left, right, top, bottom)
        layers.append({"op": "conv2d", "name": prefix, "weight": f"{prefix}.conv2d.weight",
                       "bias": f"{prefix}.conv2d.bias", "stride": c.stride[0],
                       "padding": [p[2], p[3], p[0], p[1]], "pad_mode": "reflect"})

    def norm(prefix, module, relu, residual=None):
        layer = {"op": "instance_norm", "name": prefix, "gamma": f"{prefix}.weight",
                 "beta": f"{prefix}.bias", "eps": module.eps,
                 "activation": "relu" if relu else "none"}
        if residual:
            layer["residual"] = residual
        layers.append(layer)

    for k in (1, 2, 3):
        conv(f"conv{k}", getattr(model, f"conv{k}"))
        norm(f"in{k}", getattr(model, f"in{k}"), True)
    block_input = "in3"
    for k in range(1, 6):
        r, block = f"res{k}", getattr(model, f"res{k}")
        conv(f"{r}.conv1", block.conv1)
        norm(f"{r}.in1", block.in1, True)
        conv(f"{r}.conv2", block.conv2)
        norm(f"{r}.in2", block.in2, False, residual=block_input)
        block_input = f"{r}.in2"
    conv("deconv1", model.deconv1, upsample=True)
    norm("in4", model.in4, True)
    conv("deconv2", model.deconv2, upsample=True)
    norm("in5", model.in5, True)
    conv("deconv3", model.deconv3)
    return layers


def export(model, path, name, styles=None, dtype=np.float16):
    """Write a TransformerNet to a vkstyle model file."""
    layers = graph_layers(model)
    used = {v for layer in layers for k, v in layer.items() if k in ("weight", "bias", "gamma", "beta")}
    tensors = {k: v.detach().cpu().numpy().astype(dtype) for k, v in model.state_dict().items()
               if k in used}
    graph = {"format": "vkstyle-graph", "version": 1, "name": name, "styles": styles or [name],
             "input": {"channels": 3, "scale": 1.0, "offset": 0.0},
             "output": {"scale": 1.0, "offset": 0.0}, "layers": layers}
    safetensors_io.write(path, tensors, {"vkstyle.graph": json.dumps(graph)})
    return graph


def load_pth(path):
    """A TransformerNet from a pytorch/examples .pth state_dict (width taken from conv1)."""
    state = torch.load(path, map_location="cpu")
    for k in list(state):  # old checkpoints hold unused InstanceNorm running stats
        if re.search(r"in\d+\.running_(mean|var)$", k):
            del state[k]
    model = TransformerNet(width=state["conv1.conv2d.weight"].shape[0])
    model.load_state_dict(state)
    return model.eval()


def pytorch_output(model, pixels):
    """PyTorch's own result on uint8 [H, W, 3]: raw output, cropped, clamped, rounded."""
    h, w = pixels.shape[:2]
    x = torch.from_numpy(pixels.astype(np.float32)).permute(2, 0, 1).unsqueeze(0)
    with torch.no_grad():
        y = model(x)[0, :, :h, :w]
    y = torch.floor(y.clamp(0, 255) + 0.5)
    return y.permute(1, 2, 0).to(torch.uint8).numpy()


def random_test(out_dir, width=8, size=(29, 37), seed=1234):
    """Write tiny.safetensors, tiny_in.png, tiny_ref.png into out_dir; returns the paths."""
    from PIL import Image
    torch.manual_seed(seed)
    model = TransformerNet(width=width)
    with torch.no_grad():  # non-trivial affine parameters, output spread over 0..255
        for name, p in model.named_parameters():
            if re.search(r"in\d\.weight$", name):
                p.uniform_(0.5, 1.5)
            elif re.search(r"in\d\.bias$", name):
                p.uniform_(-0.5, 0.5)
        model.deconv3.conv2d.weight.mul_(100.0)
        model.deconv3.conv2d.bias.add_(127.5)
    model.eval()
    rng = np.random.default_rng(seed)
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx * 255 / w, yy * 255 / h, (xx + yy) * 255 / (w + h)], axis=-1)
    pixels = np.clip(base + rng.normal(0, 30, base.shape), 0, 255).astype(np.uint8)
    os.makedirs(out_dir, exist_ok=True)
    paths = [os.path.join(out_dir, n) for n in ("tiny.safetensors", "tiny_in.png", "tiny_ref.png")]
    export(model, paths[0], "tiny", dtype=np.float32)
    Image.fromarray(pixels, "RGB").save(paths[1])
    Image.fromarray(pytorch_output(model, pixels), "RGB").save(paths[2])
    return paths


def main(argv=None):
    ap = argparse.ArgumentParser(description="Export a fast_neural_style TransformerNet to a vkstyle model.")
    ap.add_argument("pth", nargs="?", help="TransformerNet state_dict (.pth)")
    ap.add_argument("-o", "--output", help="output .safetensors")
    ap.add_argument("--name", help="model and style name (default: the .pth file name)")
    ap.add_argument("--dtype", choices=["f16", "f32"], default="f16", help="weight type (default f16)")
    ap.add_argument("--random-test", metavar="OUT_DIR",
                    help="write a tiny random model, test image and PyTorch's output to OUT_DIR")
    args = ap.parse_args(argv)
    if args.random_test:
        paths = random_test(args.random_test)
        print("wrote " + ", ".join(paths))
        from tools.convert import reference
        graph, tensors = reference.load_model(paths[0])
        ours = reference.run(graph, tensors, reference.load_image(paths[1]))
        diff = np.abs(ours.astype(int) - reference.load_image(paths[2]).astype(int)).max()
        print(f"reference.py vs PyTorch: max abs diff {diff} levels")
        return 0
    if not args.pth or not args.output:
        ap.error("give a .pth file and -o OUTPUT (or --random-test OUT_DIR)")
    name = args.name or os.path.splitext(os.path.basename(args.pth))[0]
    export(load_pth(args.pth), args.output, name,
           dtype=np.float16 if args.dtype == "f16" else np.float32)
    print(f"{args.pth} -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
