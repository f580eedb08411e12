#!/usr/bin/env python3
"""Training data for distillation: random crops of photos and their teacher outputs.

A Pool holds (crop, style, teacher output) samples. Each training step adds `refresh` fresh
samples (a random photo, scale, crop and flip, run through that style's teacher) and draws the
batch uniformly from the pool, so the teachers' cost per step is `refresh` forward passes
instead of `batch`. With refresh >= batch (the default on CUDA) every batch is fresh samples.
"""
import os
import time

import numpy as np
import torch
from PIL import Image

from tools.train import graphnet


class CropSampler:
    """Random crops of a list of photos: scale in [scale_min, scale_max] of the photo's size,
    crop x crop pixels after scaling, horizontal flip with probability 1/2."""

    def __init__(self, files, crop, scale_min=0.33, scale_max=1.0, seed=0):
        self.images = []
        for f in files:
            with Image.open(f) as im:
                self.images.append(im.convert("RGB"))
        self.crop = crop
        self.scale_min, self.scale_max = scale_min, scale_max
        self.rng = np.random.default_rng(seed)

    def sample(self):
        im = self.images[self.rng.integers(len(self.images))]
        w, h = im.size
        # never scale so far down that the crop no longer fits
        lo = max(self.scale_min, self.crop / min(w, h))
        s = float(np.exp(self.rng.uniform(np.log(lo), np.log(max(lo, self.scale_max)))))
        side = self.crop / s                       # crop side in source pixels
        x0 = self.rng.uniform(0, w - side)
        y0 = self.rng.uniform(0, h - side)
        c = im.resize((self.crop, self.crop), Image.BILINEAR, box=(x0, y0, x0 + side, y0 + side),
                      reducing_gap=2.0 if s < 0.5 else None)
        a = np.asarray(c, dtype=np.uint8)
        if self.rng.random() < 0.5:
            a = a[:, ::-1]
        return np.ascontiguousarray(a)


class Pool:
    def __init__(self, sampler, teachers, size, device, seed=0):
        """teachers: list of GraphNet (one per style index)."""
        self.sampler = sampler
        self.teachers = teachers
        self.size = size
        self.device = device
        self.rng = np.random.default_rng(seed + 1)
        self.x, self.y, self.s = [], [], []
        self.next = 0          # FIFO replacement index
        self.count = 0         # samples made so far (for balanced styles)
        self.teacher_s = 0.0   # seconds spent in teachers

    @torch.no_grad()
    def make(self, n):
        """n fresh samples -> (x uint8 [n, 3, c, c], style long [n], target f16 [n, 3, c, c])."""
        S = len(self.teachers)
        xs = np.stack([self.sampler.sample() for _ in range(n)])
        styles = np.array([(self.count + i) % S for i in range(n)])
        self.rng.shuffle(styles)
        self.count += n
        x = torch.from_numpy(xs).permute(0, 3, 1, 2).contiguous()
        y = torch.empty(x.shape, dtype=torch.float16)
        t0 = time.time()
        for st in np.unique(styles):
            idx = np.nonzero(styles == st)[0]
            xi = x[idx].to(self.device).float()
            y[idx] = self.teachers[st](xi).to(torch.float16).cpu()
        self.teacher_s += time.time() - t0
        return x, torch.from_numpy(styles).long(), y

    def add(self, n):
        x, s, y = self.make(n)
        for i in range(n):
            if len(self.x) < self.size:
                self.x.append(x[i]); self.s.append(s[i]); self.y.append(y[i])
            else:
                j = self.next
                self.x[j], self.s[j], self.y[j] = x[i], s[i], y[i]
                self.next = (self.next + 1) % self.size
        return x, s, y

    def batch(self, b, refresh):
        """A training batch; adds `refresh` fresh samples first. With refresh >= b the batch is
        exactly the fresh samples."""
        if refresh >= b:
            x, s, y = self.make(b)
            return x, s, y
        if refresh:
            self.add(refresh)
        idx = self.rng.integers(len(self.x), size=b)
        return (torch.stack([self.x[i] for i in idx]), torch.stack([self.s[i] for i in idx]),
                torch.stack([self.y[i] for i in idx]))


def holdout_set(files, max_side):
    """-> list of (name, uint8 [H, W, 3]) for evaluation, downscaled to max_side."""
    return [(os.path.splitext(os.path.basename(f))[0], graphnet.load_rgb(f, max_side)) for f in files]


@torch.no_grad()
def run_net(net, pixels, style, device="cpu"):
    """One image through a GraphNet with one-hot style `style` -> uint8 [H, W, 3]."""
    x = graphnet.hwc_to_tensor(pixels, device)
    w = graphnet.one_hot([style], len(net.styles), device)
    return graphnet.to_pixels(net(x, w))[0]


class HoldoutEval:
    """PSNR of a student against all teachers on held-out photos (teacher outputs cached)."""

    def __init__(self, images, teachers, device="cpu"):
        self.images = images
        self.device = device
        self.targets = [[run_net(t, px, 0, device) for _, px in images] for t in teachers]

    def __call__(self, student, pairs=None):
        """pairs: (student style index, its own teacher index), default (i, i) for every style.
        -> (own [P], table [P][T]): table[i][j] is the mean PSNR over the images of the student
        in pair i's style against teacher j; own[i] = table[i][pair i's teacher]."""
        pairs = [(i, i) for i in range(len(student.styles))] if pairs is None else pairs
        table = []
        for s, _ in pairs:
            outs = [run_net(student, px, s, self.device) for _, px in self.images]
            table.append([float(np.mean([graphnet.psnr(o, t) for o, t in zip(outs, tt)]))
                          for tt in self.targets])
        own = [table[i][t] for i, (_, t) in enumerate(pairs)]
        return own, table


def margins(table, own_index):
    """own PSNR minus the best PSNR against any other teacher, per row."""
    out = []
    for i, row in enumerate(table):
        j = own_index[i]
        others = [v for k, v in enumerate(row) if k != j]
        out.append(row[j] - max(others) if others else float("nan"))
    return out
