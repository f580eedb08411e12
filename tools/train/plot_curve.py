#!/usr/bin/env python3
"""Plot distill.py's curve.csv (held-out PSNR against steps) as a small PNG, with PIL only.

  python3 -m tools.train.plot_curve .train/styles9/curve.csv -o docs/img/styles9/curve.png

One thin line per style, the mean of the styles in black (PSNR against identical images is
capped at 100 dB, so the udnie line at step 0, where it equals its teacher, is clipped at the top).
"""
import argparse
import csv
import sys

from PIL import Image, ImageDraw

COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
          (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


def read_curve(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    styles = [k[5:] for k in rows[0] if k.startswith("psnr_")]
    steps = [int(r["step"]) for r in rows]
    series = {s: [float(r[f"psnr_{s}"]) for r in rows] for s in styles}
    mean = [float(r["mean_psnr"]) for r in rows]
    return steps, styles, series, mean


def plot(path, out, ymin=5.0, ymax=40.0, size=(720, 420), title=None):
    steps, styles, series, mean = read_curve(path)
    W, H = size
    L, R, T, B = 48, 130, 24, 34
    img = Image.new("RGB", (W, H), (255, 255, 255))
    d = ImageDraw.Draw(img)
    xmax = max(steps) or 1

    def px(step, v):
        v = min(max(v, ymin), ymax)
        return L + (W - L - R) * step / xmax, T + (H - T - B) * (1 - (v - ymin) / (ymax - ymin))

    for v in range(int(ymin), int(ymax) + 1, 5):
        _, y = px(0, v)
        d.line([(L, y), (W - R, y)], fill=(225, 225, 225))
        d.text((L - 22, y - 6), f"{v}", fill=(0, 0, 0))
    nt = 5
    for i in range(nt + 1):
        st = round(xmax * i / nt)
        x, _ = px(st, ymin)
        d.line([(x, H - B), (x, H - B + 4)], fill=(0, 0, 0))
        d.text((x - 10, H - B + 6), str(st), fill=(0, 0, 0))
    d.rectangle([L, T, W - R, H - B], outline=(0, 0, 0))
    d.text((L + (W - L - R) // 2 - 15, H - 14), "step", fill=(0, 0, 0))
    d.text((4, T - 18), "PSNR vs own teacher, held-out photos (dB)" if title is None else title, fill=(0, 0, 0))
    for k, s in enumerate(styles):
        pts = [px(st, v) for st, v in zip(steps, series[s])]
        d.line(pts, fill=COLORS[k % len(COLORS)], width=1)
        d.text((W - R + 8, T + 14 * k), s, fill=COLORS[k % len(COLORS)])
    pts = [px(st, v) for st, v in zip(steps, mean)]
    d.line(pts, fill=(0, 0, 0), width=3)
    d.text((W - R + 8, T + 14 * len(styles) + 4), "mean", fill=(0, 0, 0))
    _, y20 = px(0, 20)
    for x in range(L, W - R, 8):
        d.line([(x, y20), (x + 3, y20)], fill=(0, 0, 0))
    img.save(out, optimize=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Plot a distill.py curve.csv as PNG.")
    ap.add_argument("csv")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--ymin", type=float, default=5.0)
    ap.add_argument("--ymax", type=float, default=40.0)
    args = ap.parse_args(argv)
    plot(args.csv, args.output, args.ymin, args.ymax)
    return 0


if __name__ == "__main__":
    sys.exit(main())
