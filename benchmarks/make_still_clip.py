#!/usr/bin/env python3
"""A clip with a still camera and a moving subject, for benchmarks/stabilize.sh:

    benchmarks/make_still_clip.py OUT.mp4 [--frames 48] [--width 128] [--height 96]

The background is the test photo (tests/data/kodim05_crop333x257.png, resized); a patch cut
from another part of the photo (a quarter of the frame's height) moves across it left to right
and back, 3 px a frame, and every frame gets its own Gaussian noise (sigma 3 levels), as a
camera would. Written losslessly (libx264 -qp 0, 4:4:4) at 30 fps with ffmpeg.
"""
import argparse
import os
import subprocess
import sys

import cv2
import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--height", type=int, default=96)
    a = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    photo = cv2.imread(os.path.join(here, "..", "tests", "data", "kodim05_crop333x257.png"))
    if photo is None:
        sys.exit("make_still_clip.py: cannot read the test photo")
    bg = cv2.resize(photo, (a.width, a.height), interpolation=cv2.INTER_AREA).astype(np.float32)
    ps = a.height // 4
    patch = cv2.resize(photo[20:120, 200:300], (ps, ps), interpolation=cv2.INTER_AREA).astype(np.float32)
    rng = np.random.default_rng(7)
    cmd = ["ffmpeg", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{a.width}x{a.height}",
           "-r", "30", "-i", "-", "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv444p", a.out]
    enc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    span = a.width - ps
    for t in range(a.frames):
        f = bg.copy()
        x = (3 * t) % (2 * span)
        x = x if x < span else 2 * span - x
        y = a.height // 2 - ps // 2
        f[y:y + ps, x:x + ps] = patch
        f += rng.normal(0, 3, f.shape).astype(np.float32)
        enc.stdin.write(np.clip(np.rint(f), 0, 255).astype(np.uint8).tobytes())
    enc.stdin.close()
    sys.exit(enc.wait())


if __name__ == "__main__":
    main()
