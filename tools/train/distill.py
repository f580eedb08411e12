#!/usr/bin/env python3
"""Distil single-style vkstyle models into one conditional-instance-norm network.

The student has the teachers' architecture with every instance norm replaced by a conditional
instance norm over S styles (shared convolutions, per-style gamma/beta tables [S, C]); for a photo
crop x and style s it is trained towards teacher_s(x) with an L1 loss on the 0..255 outputs.
Convolutions start from one teacher (--init-from), each style's gamma/beta from its teacher.

  train:  python3 -m tools.train.distill --data PHOTOS [--teachers models] [--steps 3000]
              [--batch 16 --crop 256] [--out-dir .train/styles9] [--resume]
              [--export models/styles9.safetensors]
  export: python3 -m tools.train.distill export [--ckpt .train/styles9/latest.pt]
              -o models/styles9.safetensors [--check-image PHOTO]

Checkpoints (latest.pt, ckpt_<step>.pt), the PSNR-against-steps curve (curve.csv, measured on the
held-out photos) and log.txt go to --out-dir. See docs/styles9.md.
"""
import argparse
import csv
import json
import math
import os
import sys
import time

import numpy as np
import torch

if not __package__:  # run as a file, where the package imports cannot resolve
    sys.exit("run it from the repository root as: python3 -m tools.train.distill")
from tools.train import data
from tools.train import graphnet

HERE = os.path.dirname(os.path.abspath(__file__))

REPO = os.path.normpath(os.path.join(HERE, "..", ".."))


def pick_device(name):
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return name


def fmt_time(s):
    s = int(max(s, 0))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def load_teachers(folder, styles, device):
    """-> list of (name, graph, tensors) and list of GraphNet (eval mode, no grad)."""
    specs, nets = [], []
    for s in styles:
        path = s if s.endswith(".safetensors") else os.path.join(folder, s + ".safetensors")
        name = os.path.splitext(os.path.basename(path))[0]
        g, t = graphnet.load_model(path)
        specs.append((name, g, t))
        net = graphnet.GraphNet(g, t).to(device).eval()
        for p in net.parameters():
            p.requires_grad_(False)
        nets.append(net)
    return specs, nets


class Logger:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1) if path else None

    def __call__(self, msg):
        print(msg, flush=True)
        if self.f:
            self.f.write(msg + "\n")

    def close(self):
        if self.f:
            self.f.close()
            self.f = None


def curve_header(styles):
    return (["step", "elapsed_s", "samples", "loss", "mean_psnr", "min_margin"]
            + [f"psnr_{s}" for s in styles] + [f"margin_{s}" for s in styles])


def append_curve(path, styles, row):
    new = not os.path.exists(path)
    with open(path, "a", newline="") as f:
        w = csv.writer(f)
        if new:
            w.writerow(curve_header(styles))
        w.writerow(row)


def save_checkpoint(out_dir, step, net, opt, state, keep=True):
    ck = {"step": step, "graph": net.graph,
          "tensors": {k: v.detach().cpu().clone() for k, v in net.named_tensors().items()},
          "opt": opt.state_dict(), **state}
    tmp = os.path.join(out_dir, "latest.pt.tmp")
    torch.save(ck, tmp)
    os.replace(tmp, os.path.join(out_dir, "latest.pt"))
    if keep:
        torch.save(ck, os.path.join(out_dir, f"ckpt_{step:06d}.pt"))


def load_checkpoint(path):
    return torch.load(path, map_location="cpu")


def net_from_checkpoint(ck):
    return graphnet.GraphNet(ck["graph"], {k: v.float() for k, v in ck["tensors"].items()})


def evaluate_into_curve(ev, net, styles_idx, style_names, step, elapsed, samples, loss, curve_path, log):
    net.eval()
    own, table = ev(net, [(i, i) for i in styles_idx])
    net.train()
    marg = data.margins(table, styles_idx)
    row = [step, f"{elapsed:.1f}", samples, f"{loss:.4f}" if loss == loss else "",
           f"{np.mean(own):.3f}", f"{min(marg):.3f}"] + [f"{v:.3f}" for v in own] + [f"{v:.3f}" for v in marg]
    append_curve(curve_path, style_names, row)
    log(f"eval step {step}: mean PSNR {np.mean(own):.2f} dB, min margin {min(marg):+.2f} dB | "
        + " ".join(f"{n} {v:.1f}({m:+.1f})" for n, v, m in zip(style_names, own, marg)))
    return own, marg


def train(args):
    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    torch.manual_seed(args.seed)
    out_dir = args.out_dir
    os.makedirs(out_dir, exist_ok=True)
    log = Logger(os.path.join(out_dir, "log.txt"))

    styles = [s.strip() for s in args.styles.split(",") if s.strip()]
    leave = [s.strip() for s in (args.leave_out or "").split(",") if s.strip()]
    styles = [s for s in styles if s not in leave]
    specs, teachers = load_teachers(args.teachers, styles, device)
    names = [n for n, _, _ in specs]

    files = graphnet.list_images(args.data)
    holdout = args.holdout if args.holdout is not None else graphnet.default_holdout(files)
    train_files, held = graphnet.split_holdout(files, holdout)
    if not train_files:
        raise SystemExit("no training photos left after --holdout")

    resume_path = None
    if args.resume:
        resume_path = args.resume if isinstance(args.resume, str) else os.path.join(out_dir, "latest.pt")
        if not os.path.exists(resume_path):
            raise SystemExit(f"--resume: {resume_path} not found")
    if resume_path:
        ck = load_checkpoint(resume_path)
        net = net_from_checkpoint(ck)
        if net.styles != names:
            raise SystemExit(f"checkpoint styles {net.styles} != {names}")
        start, elapsed0, samples = ck["step"], ck.get("elapsed", 0.0), ck.get("samples", 0)
    else:
        g, t = graphnet.make_student(specs, args.init_from, args.name)
        net = graphnet.GraphNet(g, t)
        start, elapsed0, samples = 0, 0.0, 0
    net = net.to(device).train()
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    if resume_path:
        opt.load_state_dict(ck["opt"])
        for gr in opt.param_groups:
            gr["lr"] = args.lr
        del ck

    refresh = args.refresh if args.refresh is not None else (args.batch if device == "cuda" else 1)
    sampler = data.CropSampler(train_files, args.crop, args.scale_min, args.scale_max, seed=args.seed + 7919 * start)
    pool = data.Pool(sampler, teachers, args.pool, device, seed=args.seed + 7919 * start)
    log(f"distill: {len(names)} styles {names}; convs from {args.init_from}; device {device}, "
        f"{args.threads} thread(s); {len(train_files)} training photos, holdout "
        f"{[os.path.basename(f) for f in held]}; batch {args.batch}, crop {args.crop}, "
        f"scales {args.scale_min}-{args.scale_max}, lr {args.lr}, steps {start}->{args.steps}; "
        f"pool {args.pool} (refresh {refresh}/step)")
    t0 = time.time()
    if refresh < args.batch:
        pool.add(min(args.pool_init, args.pool))
        log(f"pool: {len(pool.x)} samples in {time.time() - t0:.1f} s")

    ev = None
    curve = os.path.join(out_dir, "curve.csv")
    style_idx = list(range(len(names)))
    if held and args.eval_every:
        ev = data.HoldoutEval(data.holdout_set(held, args.eval_size), teachers, device)
        if start == 0:
            evaluate_into_curve(ev, net, style_idx, names, 0, 0.0, 0, float("nan"), curve, log)

    def state(step, elapsed):
        return {"elapsed": elapsed, "samples": samples, "args": vars(args), "styles": names}

    t_start = time.time()
    loss_acc, loss_n = 0.0, 0
    last_log_t, last_log_step = time.time(), start
    step = start
    rate = None
    stop_reason = "steps"
    while step < args.steps:
        x, s, y = pool.batch(args.batch, refresh)
        x = x.to(device).float()
        y = y.to(device).float()
        w = graphnet.one_hot(s, len(names), device)
        out = net(x, w)
        loss = (out - y).abs().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        samples += args.batch
        loss_acc += float(loss)
        loss_n += 1
        elapsed = elapsed0 + time.time() - t_start
        if step % args.log_every == 0 or step == args.steps:
            now = time.time()
            r = (step - last_log_step) / max(now - last_log_t, 1e-9)
            rate = r if rate is None else 0.7 * rate + 0.3 * r
            last_log_t, last_log_step = now, step
            eta = (args.steps - step) / rate
            if args.time_limit:
                eta = min(eta, args.time_limit * 60 - elapsed)
            log(f"step {step}/{args.steps} loss {loss_acc / loss_n:.3f} (L1, levels) "
                f"{rate:.3f} steps/s elapsed {fmt_time(elapsed)} ETA {fmt_time(eta)}")
            if args.time_limit and elapsed0 + time.time() - t_start >= args.time_limit * 60:
                stop_reason = "time limit"
        if ev is not None and step % args.eval_every == 0:
            evaluate_into_curve(ev, net, style_idx, names, step, elapsed, samples,
                                loss_acc / max(loss_n, 1), curve, log)
            loss_acc, loss_n = 0.0, 0
        if step % args.ckpt_every == 0 or step == args.steps or stop_reason != "steps":
            save_checkpoint(out_dir, step, net, opt, state(step, elapsed), keep=step % args.ckpt_every == 0)
            log(f"checkpoint step {step} -> {out_dir}/latest.pt")
        if stop_reason != "steps":
            break
    elapsed = elapsed0 + time.time() - t_start
    if ev is not None and step % args.eval_every != 0:
        evaluate_into_curve(ev, net, style_idx, names, step, elapsed, samples,
                            loss_acc / max(loss_n, 1), curve, log)
    if step % args.ckpt_every != 0:
        save_checkpoint(out_dir, step, net, opt, state(step, elapsed), keep=True)
    log(f"done ({stop_reason}): step {step}, training wall time {fmt_time(elapsed)} "
        f"({elapsed:.0f} s; teachers {pool.teacher_s:.0f} s this run)")
    if args.export:
        export_net(net.cpu(), args.export, args.name, check_image=args.check_image, log=log,
                   provenance={"steps": step, "batch": args.batch, "crop": args.crop, "lr": args.lr,
                               "init_from": args.init_from, "wall_s": round(elapsed)})
    log.close()
    return net


def export_net(net, path, name=None, check_image=None, log=print, provenance=None, check_side=256):
    """Write the student as F16 and check that tools/convert/reference.py reproduces it."""
    extra = {"vkstyle.training": json.dumps(provenance)} if provenance else None
    net = net.cpu().eval()
    net.export(path, name, extra_metadata=extra)
    log(f"exported {path} ({os.path.getsize(path)} bytes, {len(net.styles)} styles)")
    if check_image:
        return check_export(net, path, check_image, log, check_side)
    return None


def check_export(net, path, image, log=print, max_side=256):
    """reference.py on the exported file vs the PyTorch student (F32 weights, and F16-rounded
    weights) for every style: -> max abs difference (levels) against the F16-rounded student."""
    from tools.convert import reference
    graph, tensors = reference.load_model(path)
    px = graphnet.load_rgb(image, max_side) if isinstance(image, str) else image
    net16 = graphnet.GraphNet(net.graph, {k: v.detach().half().float() for k, v in net.named_tensors().items()})
    worst16, worst32, p32 = 0, 0, []
    S = len(net.styles)
    for s in range(S):
        ref = reference.run(graph, tensors, px, [1.0 if i == s else 0.0 for i in range(S)])
        a32 = data.run_net(net, px, s)
        a16 = data.run_net(net16, px, s)
        worst32 = max(worst32, int(np.abs(ref.astype(int) - a32.astype(int)).max()))
        worst16 = max(worst16, int(np.abs(ref.astype(int) - a16.astype(int)).max()))
        p32.append(graphnet.psnr(ref, a32))
    log(f"export check on {px.shape[1]}x{px.shape[0]}: reference.py (F16 file) vs PyTorch student: "
        f"max |diff| {worst16} level(s) with F16-rounded weights, {worst32} with F32 weights "
        f"(PSNR vs F32 student min {min(p32):.1f} dB)")
    return worst16, worst32, min(p32)


def export_main(argv):
    ap = argparse.ArgumentParser(prog="distill.py export", description="Export a checkpoint as a vkstyle model.")
    ap.add_argument("--ckpt", default=os.path.join(".train", "styles9", "latest.pt"))
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--name", help="graph name (default: the checkpoint's)")
    ap.add_argument("--check-image", help="check reference.py reproduces the student on this photo")
    args = ap.parse_args(argv)
    ck = load_checkpoint(args.ckpt)
    net = net_from_checkpoint(ck)
    a = ck.get("args", {})
    prov = {"steps": ck["step"], "batch": a.get("batch"), "crop": a.get("crop"), "lr": a.get("lr"),
            "init_from": a.get("init_from"), "wall_s": round(ck.get("elapsed", 0))}
    res = export_net(net, args.output, args.name, args.check_image, provenance=prov)
    if res is not None and res[0] > 1:
        print("export check FAILED: more than 1 level off", file=sys.stderr)
        return 1
    return 0


def build_parser():
    ap = argparse.ArgumentParser(description="Distil single-style vkstyle models into one "
                                             "conditional-instance-norm network (train; or 'export').")
    ap.add_argument("--data", required=True, help="folder of photos")
    ap.add_argument("--teachers", default=os.path.join(REPO, "models"),
                    help="folder with <style>.safetensors (default: the repo's models/)")
    ap.add_argument("--styles", default=",".join(graphnet.STYLES9),
                    help="comma-separated teacher names (or .safetensors paths), in style order")
    ap.add_argument("--leave-out", help="comma-separated styles to drop from --styles")
    ap.add_argument("--init-from", default="udnie", help="teacher whose convolutions start the student")
    ap.add_argument("--name", default="styles9", help="graph name of the exported model")
    ap.add_argument("--holdout", help="photos kept out of training: comma-separated names, or a count "
                                      "(the last N by name); default kodim17-20 if present, else the last 4")
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--scale-min", type=float, default=0.33, help="smallest photo scale for crops")
    ap.add_argument("--scale-max", type=float, default=1.0)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=3000, help="total steps (including resumed ones)")
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--pool", type=int, default=2048, help="samples kept for reuse")
    ap.add_argument("--pool-init", type=int, default=128, help="samples made before the first step")
    ap.add_argument("--refresh", type=int, help="fresh samples per step (default: --batch on CUDA, 1 on CPU)")
    ap.add_argument("--out-dir", default=os.path.join(".train", "styles9"))
    ap.add_argument("--resume", nargs="?", const=True, default=False,
                    help="resume from OUT_DIR/latest.pt (or the given checkpoint)")
    ap.add_argument("--ckpt-every", type=int, default=200)
    ap.add_argument("--eval-every", type=int, default=200, help="holdout PSNR every N steps (0: never)")
    ap.add_argument("--eval-size", type=int, default=256, help="max side of the held-out photos for evaluation")
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--time-limit", type=float, help="stop (with a checkpoint) after this many minutes of training")
    ap.add_argument("--export", metavar="PATH", help="export the final student here (F16)")
    ap.add_argument("--check-image", help="with --export: check reference.py reproduces the student on this photo")
    ap.add_argument("--device", default="auto", help="auto (CUDA if available), cpu, cuda, cuda:1 ...")
    ap.add_argument("--threads", type=int, default=1, help="CPU threads for torch (default 1)")
    ap.add_argument("--seed", type=int, default=0)
    return ap


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "export":
        return export_main(argv[1:])
    if argv and argv[0] == "train":
        argv = argv[1:]
    train(build_parser().parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
