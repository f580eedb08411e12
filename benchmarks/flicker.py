#!/usr/bin/env python3
"""Temporal flicker of a stylized video: the flow-based warping error.

    benchmarks/flicker.py SOURCE STYLIZED [REFERENCE]

For each pair of consecutive frames, optical flow is computed on the *source* frames (OpenCV's
DIS, medium preset, on grey frames at the stylized video's size), from the current frame back to
the previous one. The previous frame is warped onto the current one with that flow; the error is
the mean absolute difference (0..255, over the three channels) between the warped previous frame
and the current one, over the pixels where the warped source matches the current source (mean
channel difference below --match, 8 by default: the flow is right there and nothing was occluded).

Printed: the warping error of STYLIZED, and of SOURCE itself (the floor: what the flow leaves
unexplained in the input), over all matched pixels and over the matched pixels that move (source
frames differ there by more than --moving, 8 by default, before warping). With REFERENCE (another
stylization of the same source, e.g. the unstabilized one), also the mean and the lowest per-frame
PSNR between STYLIZED and REFERENCE.

Needs python3-opencv and numpy. Frames are compared up to the shorter video's length.
"""
import argparse
import sys

import cv2
import numpy as np


def frames(path, size=None):
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        sys.exit(f"flicker.py: cannot open {path}")
    while True:
        ok, f = cap.read()
        if not ok:
            break
        if size is not None and (f.shape[1], f.shape[0]) != size:
            f = cv2.resize(f, size, interpolation=cv2.INTER_AREA)
        yield f.astype(np.float32)
    cap.release()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source")
    ap.add_argument("stylized")
    ap.add_argument("reference", nargs="?")
    ap.add_argument("--match", type=float, default=8.0, help="warped-source match threshold (0..255)")
    ap.add_argument("--moving", type=float, default=8.0, help="moving-pixel threshold (0..255)")
    ap.add_argument("--per-frame", action="store_true", help="print each frame's figures")
    a = ap.parse_args()

    sty = list(frames(a.stylized))
    if not sty:
        sys.exit(f"flicker.py: {a.stylized} has no frames")
    size = (sty[0].shape[1], sty[0].shape[0])
    src = list(frames(a.source, size))
    ref = list(frames(a.reference, size)) if a.reference else None
    n = min(len(sty), len(src), len(ref) if ref is not None else len(sty))
    if n < 2:
        sys.exit("flicker.py: fewer than two frames")

    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    gx, gy = np.meshgrid(np.arange(size[0], dtype=np.float32), np.arange(size[1], dtype=np.float32))
    tot = {"sty": [0.0, 0], "src": [0.0, 0], "sty_mov": [0.0, 0], "src_mov": [0.0, 0]}
    for t in range(1, n):
        g0 = cv2.cvtColor(src[t - 1].astype(np.uint8), cv2.COLOR_BGR2GRAY)
        g1 = cv2.cvtColor(src[t].astype(np.uint8), cv2.COLOR_BGR2GRAY)
        flow = dis.calc(g1, g0, None)   # current -> previous
        mx, my = gx + flow[..., 0], gy + flow[..., 1]

        def warp(img):
            return cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

        inside = (mx >= 0) & (mx <= size[0] - 1) & (my >= 0) & (my <= size[1] - 1)
        dsrc = np.abs(warp(src[t - 1]) - src[t]).mean(axis=2)
        valid = inside & (dsrc < a.match)
        moving = valid & (np.abs(src[t] - src[t - 1]).mean(axis=2) > a.moving)
        dsty = np.abs(warp(sty[t - 1]) - sty[t]).mean(axis=2)
        for key, d, m in (("sty", dsty, valid), ("src", dsrc, valid), ("sty_mov", dsty, moving), ("src_mov", dsrc, moving)):
            tot[key][0] += float(d[m].sum())
            tot[key][1] += int(m.sum())
        if a.per_frame:
            print(f"frame {t}: stylized {dsty[valid].mean():.3f} source {dsrc[valid].mean():.3f} "
                  f"({valid.mean() * 100:.0f}% matched, {moving.mean() * 100:.0f}% moving)")

    def mean(key):
        s, c = tot[key]
        return s / c if c else float("nan")

    print(f"frames: {n}, size {size[0]}x{size[1]}")
    print(f"warping error, stylized: {mean('sty'):.2f}")
    print(f"warping error, source:   {mean('src'):.2f}")
    print(f"moving pixels ({tot['sty_mov'][1] / max(tot['sty'][1], 1) * 100:.1f}% of matched): "
          f"stylized {mean('sty_mov'):.2f}, source {mean('src_mov'):.2f}")
    if ref is not None:
        ps = []
        for t in range(n):
            mse = float(np.mean((sty[t] - ref[t]) ** 2))
            ps.append(99.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse))
        print(f"PSNR against {a.reference}: mean {np.mean(ps):.2f} dB, lowest {np.min(ps):.2f} dB (frame {int(np.argmin(ps))})")


if __name__ == "__main__":
    main()
