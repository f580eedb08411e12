#!/usr/bin/env python3
"""Measure a multi-style model against its teachers on held-out photos.

  python3 -m tools.train.evaluate --model models/styles9.safetensors --data PHOTOS [--teachers models]
              [--holdout kodim17,...] [--max-side 256] [--grid docs/img/styles9/grid.jpg]
              [--markdown results.md] [--csv results.csv]

Every output (student and teachers) is computed with tools/convert/reference.py, the float32
reference implementation of the model format, from the model files as they are (F16 weights),
and rounded to 8 bits like the engine. For each style s of the model: PSNR of the student in
style s against teacher s (<teachers>/<s>.safetensors), averaged over the photos, and against
every other teacher; the margin is own PSNR minus the best PSNR against another teacher.
Targets (issue 4): mean >= 20 dB, every margin >= 1 dB.
"""
import argparse
import csv
import os
import sys

import numpy as np
from PIL import Image, ImageDraw

if not __package__:  # run as a file, where the package imports cannot resolve
    sys.exit("run it from the repository root as: python3 -m tools.train.evaluate")
from tools.train import graphnet
from tools.convert import reference

HERE = os.path.dirname(os.path.abspath(__file__))

REPO = os.path.normpath(os.path.join(HERE, "..", ".."))


def evaluate(model_path, teacher_paths, images, log=print):
    """teacher_paths: {name: path}; images: [(name, uint8 HxWx3)].
    -> dict with styles, teacher names, table [S][T] of mean PSNR, outputs for the grid."""
    graph, tensors = reference.load_model(model_path)
    styles = graph["styles"]
    S = len(styles)
    tnames = list(teacher_paths)
    missing = [s for s in styles if s not in teacher_paths]
    if missing:
        raise SystemExit(f"no teacher for styles {missing}")
    teach = {}
    for t in tnames:
        g, tt = reference.load_model(teacher_paths[t])
        teach[t] = [reference.run(g, tt, px) for _, px in images]
    table, outs = [], {}
    for i, s in enumerate(styles):
        w = [1.0 if j == i else 0.0 for j in range(S)]
        o = [reference.run(graph, tensors, px, w) for _, px in images]
        outs[s] = o
        table.append([float(np.mean([graphnet.psnr(a, b) for a, b in zip(o, teach[t])])) for t in tnames])
        log(f"  {s}: {table[-1][tnames.index(s)]:.2f} dB vs its teacher")
    return {"styles": styles, "teachers": tnames, "table": table, "student": outs, "teacher": teach}


def summarize(res):
    rows = []
    for i, s in enumerate(res["styles"]):
        row = res["table"][i]
        own = row[res["teachers"].index(s)]
        others = [(v, t) for v, t in zip(row, res["teachers"]) if t != s]
        best, who = max(others) if others else (float("nan"), "-")
        rows.append({"style": s, "psnr": own, "next": who, "next_psnr": best, "margin": own - best})
    return rows


def markdown(rows, size_note):
    lines = ["| style | PSNR vs own teacher (dB) | next-closest teacher | PSNR vs it (dB) | margin (dB) |",
             "|---|---:|---|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['style']} | {r['psnr']:.2f} | {r['next']} | {r['next_psnr']:.2f} | {r['margin']:+.2f} |")
    mean = np.mean([r["psnr"] for r in rows])
    mmin = min(r["margin"] for r in rows)
    lines.append(f"| **mean** | **{mean:.2f}** | | | min **{mmin:+.2f}** |")
    ok = mean >= 20 and mmin >= 1
    lines.append("")
    lines.append(f"{size_note}. Target (mean >= 20 dB, every margin >= 1 dB): "
                 f"{'reached' if ok else 'not reached'} (mean {mean:.2f} dB, smallest margin {mmin:+.2f} dB).")
    return "\n".join(lines)


def grid(res, image_index, path, cols=3, photo=None):
    """Cells of [teacher | student] (3x3 for 9 styles) for one held-out photo, captioned."""
    styles = res["styles"]
    h, w = res["student"][styles[0]][image_index].shape[:2]
    rows_n = -(-len(styles) // cols)
    pad, cap = 4, 14
    top = cap + pad if photo is None else cap + pad + h + pad
    W = cols * (2 * w + pad) + pad
    H = top + rows_n * (cap + h + pad)
    canvas = Image.new("RGB", (W, H), (255, 255, 255))
    d = ImageDraw.Draw(canvas)
    d.text((pad, 2), "each pair: teacher (left) | student, one network (right)", fill=(0, 0, 0))
    if photo is not None:
        canvas.paste(Image.fromarray(photo), (pad, cap + pad))
        d.text((2 * pad + photo.shape[1], cap + pad), "held-out photo", fill=(0, 0, 0))
    for k, s in enumerate(styles):
        r, c = divmod(k, cols)
        x, y = pad + c * (2 * w + pad), top + r * (cap + h + pad)
        d.text((x, y + 1), f"{s}: teacher | student", fill=(0, 0, 0))
        canvas.paste(Image.fromarray(res["teacher"][s][image_index]), (x, y + cap))
        canvas.paste(Image.fromarray(res["student"][s][image_index]), (x + w, y + cap))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if path.lower().endswith((".jpg", ".jpeg")):
        canvas.save(path, quality=85, optimize=True)
    else:
        canvas.save(path, optimize=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description="PSNR of a multi-style model against its teachers on held-out photos.")
    ap.add_argument("--model", required=True)
    ap.add_argument("--teachers", default=os.path.join(REPO, "models"),
                    help="folder of <style>.safetensors teachers (default: the repo's models/)")
    ap.add_argument("--against", help="comma-separated teacher names to compare with (default: the "
                                      "model's styles, plus any of the nine ml5 styles present)")
    ap.add_argument("--data", required=True, help="folder of photos")
    ap.add_argument("--holdout", help="held-out photos (default: kodim17-20 if present, else the last 4)")
    ap.add_argument("--max-side", type=int, default=256, help="downscale photos to this max side (0: as they are)")
    ap.add_argument("--grid", help="write a teacher-vs-student grid image here")
    ap.add_argument("--grid-image", help="which held-out photo for the grid (default: the first)")
    ap.add_argument("--markdown", help="write the results table here (markdown)")
    ap.add_argument("--csv", help="write the full PSNR table (style x teacher) here")
    args = ap.parse_args(argv)

    files = graphnet.list_images(args.data)
    holdout = args.holdout if args.holdout is not None else graphnet.default_holdout(files)
    _, held = graphnet.split_holdout(files, holdout)
    if not held:
        raise SystemExit("no held-out photos")
    images = [(os.path.splitext(os.path.basename(f))[0], graphnet.load_rgb(f, args.max_side or None)) for f in held]
    graph, _ = reference.load_model(args.model)
    names = args.against.split(",") if args.against else list(dict.fromkeys(
        graph["styles"] + [s for s in graphnet.STYLES9
                           if os.path.exists(os.path.join(args.teachers, s + ".safetensors"))]))
    teacher_paths = {n: os.path.join(args.teachers, n + ".safetensors") for n in names}
    h, w = images[0][1].shape[:2]
    size_note = (f"{len(images)} held-out photos ({', '.join(n for n, _ in images)}), "
                 f"{'max side ' + str(args.max_side) if args.max_side else 'full size'} ({w}x{h}), "
                 f"outputs of `{os.path.basename(args.model)}` and the teachers by tools/convert/reference.py")
    print(f"evaluating {args.model}: {size_note}")
    res = evaluate(args.model, teacher_paths, images)
    rows = summarize(res)
    md = markdown(rows, size_note)
    print(md)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(md + "\n")
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            wr = csv.writer(f)
            wr.writerow(["style"] + res["teachers"])
            for s, row in zip(res["styles"], res["table"]):
                wr.writerow([s] + [f"{v:.3f}" for v in row])
    if args.grid:
        k = 0
        if args.grid_image:
            k = [n for n, _ in images].index(args.grid_image)
        grid(res, k, args.grid, photo=images[k][1])
        print(f"grid -> {args.grid} ({os.path.getsize(args.grid)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
