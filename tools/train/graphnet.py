#!/usr/bin/env python3
"""Differentiable PyTorch version of the vkstyle graph format (docs/model-format.md), for training.

GraphNet(graph, tensors) turns a model file's graph and tensors into an nn.Module whose tensors
are parameters. forward(x, w) takes pixels as float [B, 3, H, W] in 0..255 and per-sample style
weights w [B, S] (rows of the identity for one style each) and returns the output in pixel units
(output scale/offset applied), cropped top-left to H x W, *not* clamped or rounded (see
to_pixels). It runs the same ops as tools/convert/reference.py, batched and with gradients; the
tests check the two agree.

Also here: loading and saving model files, building the conditional-instance-norm student from
single-style teachers, image helpers and PSNR.
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

from tools.convert import safetensors_io

STYLES9 = ["la_muse", "mathura", "matilde_perez", "matta", "rain_princess",
           "scream", "udnie", "wave", "wreck"]

ACT = {"none": lambda x: x, "relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}
NORM_OPS = ("instance_norm", "conditional_instance_norm")


# ---------------------------------------------------------------- model files

def load_model(path):
    """-> (graph dict, {name: float32 ndarray})."""
    tensors, metadata = safetensors_io.read(path)
    graph = json.loads(metadata["vkstyle.graph"])
    if graph.get("format") != "vkstyle-graph" or graph.get("version") != 1:
        raise ValueError(f"{path}: not a vkstyle-graph version 1 model")
    return graph, {k: v.astype(np.float32) for k, v in tensors.items()}


def save_model(path, graph, tensors, dtype=np.float16, extra_metadata=None):
    """Write graph + {name: array or tensor} as a vkstyle model (F16 by default)."""
    out = {}
    for k, v in tensors.items():
        if isinstance(v, torch.Tensor):
            v = v.detach().cpu().float().numpy()
        out[k] = np.ascontiguousarray(np.asarray(v, dtype=np.float32).astype(dtype))
    meta = {"vkstyle.graph": json.dumps(graph)}
    meta.update(extra_metadata or {})
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = path + ".tmp"
    safetensors_io.write(tmp, out, meta)
    os.replace(tmp, path)


def norm_layers(graph):
    return [l for l in graph["layers"] if l["op"] in NORM_OPS]


def structure_key(graph):
    """The graph's layers without per-style details (to check teachers share one architecture)."""
    key = []
    for l in graph["layers"]:
        l = dict(l)
        if l["op"] == "conditional_instance_norm":
            l["op"] = "instance_norm"
        key.append(json.dumps(l, sort_keys=True))
    return key


def make_student(teachers, init_from, name="styles"):
    """Conditional-instance-norm student from single-style teachers.

    teachers: list of (style name, graph, tensors) with one architecture. Convolutions (and any
    other non-norm tensor) come from the teacher named init_from; each instance_norm becomes a
    conditional_instance_norm whose row s is teacher s's gamma/beta. -> (graph, tensors)."""
    names = [t[0] for t in teachers]
    if init_from not in names:
        raise ValueError(f"--init-from {init_from!r} is not one of the styles {names}")
    base_graph, base_tensors = teachers[names.index(init_from)][1:]
    key = structure_key(base_graph)
    for n, g, _ in teachers:
        if structure_key(g) != key:
            raise ValueError(f"teacher {n!r} does not have the architecture of {init_from!r}")
        if len(g.get("styles", [n])) != 1:
            raise ValueError(f"teacher {n!r} is not a single-style model")
    graph = json.loads(json.dumps(base_graph))
    graph["name"] = name
    graph["styles"] = list(names)
    tensors = {}
    norm_tensors = set()
    for layer in graph["layers"]:
        if layer["op"] in NORM_OPS:
            layer["op"] = "conditional_instance_norm"
            for field in ("gamma", "beta"):
                t = layer[field]
                norm_tensors.add(t)
                tensors[t] = np.stack([tt[t].reshape(-1) for _, _, tt in teachers]).astype(np.float32)
    for k, v in base_tensors.items():
        if k not in norm_tensors:
            tensors[k] = v.astype(np.float32)
    return graph, tensors


# ---------------------------------------------------------------- the network

def _same_pads(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


class GraphNet(nn.Module):
    def __init__(self, graph, tensors):
        super().__init__()
        self.graph = json.loads(json.dumps(graph))
        self.styles = list(graph.get("styles", [graph.get("name", "style")]))
        self.names = sorted(tensors)
        for k in self.names:
            v = tensors[k]
            v = v.detach().clone().float() if isinstance(v, torch.Tensor) else torch.from_numpy(np.array(v, np.float32))
            self.register_parameter(self._key(k), nn.Parameter(v))
        for i, l in enumerate(self.graph["layers"]):
            if l["op"] == "conditional_instance_norm":
                for f in ("gamma", "beta"):
                    if tuple(self.t(l[f]).shape[:1]) != (len(self.styles),):
                        raise ValueError(f"layer {i}: {l[f]} has {self.t(l[f]).shape[0]} rows, "
                                         f"{len(self.styles)} styles")

    @staticmethod
    def _key(name):
        return name.replace(".", "__")

    def t(self, name):
        return getattr(self, self._key(name))

    def named_tensors(self):
        return {k: self.t(k) for k in self.names}

    def norm_tensor_names(self):
        return sorted({l[f] for l in norm_layers(self.graph) for f in ("gamma", "beta")})

    def forward(self, x, w=None):
        B, _, H, W = x.shape
        S = len(self.styles)
        if w is None:
            w = torch.zeros(B, S, dtype=x.dtype, device=x.device)
            w[:, 0] = 1
        inp = self.graph["input"]
        x = x * inp.get("scale", 1.0) + inp.get("offset", 0.0)
        outs = {"input": x}
        for i, l in enumerate(self.graph["layers"]):
            op = l["op"]
            if op != "add" and l.get("input") is not None:
                x = outs[l["input"]]
            if op == "conv2d":
                wt = self.t(l["weight"])
                kh, kw = wt.shape[2], wt.shape[3]
                s = l.get("stride", 1)
                p = l.get("padding", [0, 0, 0, 0])
                if p == "same":
                    p = [*_same_pads(x.shape[2], kh, s), *_same_pads(x.shape[3], kw, s)]
                top, bottom, left, right = p
                mode = "reflect" if l.get("pad_mode", "zero") == "reflect" else "constant"
                if any(p):
                    x = F.pad(x, (left, right, top, bottom), mode=mode)
                y = F.conv2d(x, wt, self.t(l["bias"]) if "bias" in l else None, stride=s)
            elif op == "conv2d_transpose":
                wt = self.t(l["weight"])
                s, p = l.get("stride", 2), l.get("padding", 0)
                full = F.conv_transpose2d(x, wt, None, stride=s)
                h, wd = s * x.shape[2], s * x.shape[3]
                y = full[:, :, p:p + h, p:p + wd]
                if y.shape[2] < h or y.shape[3] < wd:
                    y = F.pad(y, (0, wd - y.shape[3], 0, h - y.shape[2]))
                if "bias" in l:
                    y = y + self.t(l["bias"]).view(1, -1, 1, 1)
            elif op == "upsample_nearest":
                y = F.interpolate(x, scale_factor=l.get("scale", 2), mode="nearest")
            elif op in NORM_OPS:
                g, b = self.t(l["gamma"]), self.t(l["beta"])
                if op == "conditional_instance_norm":
                    g, b = w @ g, w @ b                     # [B, C]
                else:
                    g, b = g.unsqueeze(0), b.unsqueeze(0)
                var, mean = torch.var_mean(x, dim=(2, 3), unbiased=False, keepdim=True)
                scale = g[:, :, None, None] * torch.rsqrt(var + l.get("eps", 1e-5))
                y = (x - mean) * scale + b[:, :, None, None]
            elif op == "batch_norm":
                scale = self.t(l["gamma"]) / torch.sqrt(self.t(l["var"]) + l.get("eps", 1e-5))
                y = (x - self.t(l["mean"]).view(1, -1, 1, 1)) * scale.view(1, -1, 1, 1) \
                    + self.t(l["beta"]).view(1, -1, 1, 1)
            elif op == "activation":
                y = x
            elif op == "add":
                a, b_ = l["input"]
                y = outs[a] + outs[b_]
            else:
                raise ValueError(f"layer {i}: unknown op {op!r}")
            if op != "add":
                y = ACT[l.get("activation", "none")](y)
            if op == "activation":
                y = y * l.get("scale", 1.0) + l.get("offset", 0.0)
            if "residual" in l:
                y = y + outs[l["residual"]]
            x = y
            if "name" in l:
                outs[l["name"]] = x
        out = self.graph["output"]
        return x[:, :, :H, :W] * out.get("scale", 1.0) + out.get("offset", 0.0)

    def export(self, path, name=None, dtype=np.float16, extra_metadata=None):
        graph = json.loads(json.dumps(self.graph))
        if name:
            graph["name"] = name
        save_model(path, graph, self.named_tensors(), dtype, extra_metadata)


def load_net(path):
    graph, tensors = load_model(path)
    return GraphNet(graph, tensors)


def one_hot(idx, S, device=None):
    idx = torch.as_tensor(idx, dtype=torch.long, device=device)
    return F.one_hot(idx, S).float()


def to_pixels(y):
    """Float output [B, 3, H, W] -> uint8 ndarray [B, H, W, 3] (clamp, round like the engine)."""
    return torch.floor(y.detach().clamp(0, 255) + 0.5).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


# ---------------------------------------------------------------- images

IMAGE_EXT = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".tif", ".tiff", ".webp")


def list_images(folder):
    files = sorted(f for f in os.listdir(folder) if f.lower().endswith(IMAGE_EXT))
    if not files:
        raise ValueError(f"no images in {folder}")
    return [os.path.join(folder, f) for f in files]


def split_holdout(files, holdout):
    """holdout: comma-separated file names/stems, or an integer N (the last N by name)."""
    stems = {os.path.splitext(os.path.basename(f))[0]: f for f in files}
    if holdout is None or holdout == "":
        return files, []
    if str(holdout).isdigit():
        n = int(holdout)
        return (files[:-n], files[-n:]) if n else (files, [])
    wanted = [os.path.splitext(os.path.basename(h.strip()))[0] for h in str(holdout).split(",") if h.strip()]
    missing = [h for h in wanted if h not in stems]
    if missing:
        raise ValueError(f"holdout images not found: {missing}")
    held = [stems[h] for h in wanted]
    return [f for f in files if f not in held], held


def default_holdout(files):
    stems = [os.path.splitext(os.path.basename(f))[0] for f in files]
    kodak = [f"kodim{i}" for i in range(17, 21)]
    if all(k in stems for k in kodak) and len(files) > 4:
        return ",".join(kodak)
    return str(min(4, max(len(files) - 1, 0)))


def load_rgb(path, max_side=None):
    with Image.open(path) as f:
        im = f.convert("RGB")
    if max_side and max(im.size) > max_side:
        s = max_side / max(im.size)
        im = im.resize((max(1, round(im.size[0] * s)), max(1, round(im.size[1] * s))), Image.LANCZOS)
    return np.asarray(im, dtype=np.uint8)


def psnr(a, b, cap=100.0):
    """PSNR of two 8-bit images in dB, capped at `cap` (identical images)."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return cap if mse == 0 else min(cap, 10 * math.log10(255.0 ** 2 / mse))


def hwc_to_tensor(pixels, device="cpu"):
    return torch.from_numpy(np.array(pixels, dtype=np.uint8)).permute(2, 0, 1).unsqueeze(0).float().to(device)
