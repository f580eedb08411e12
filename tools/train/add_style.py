#!/usr/bin/env python3
"""Add a style to a conditional-instance-norm model by training only its gamma/beta.

  python3 -m tools.train.add_style --base models/styles9.safetensors --teacher my_style.safetensors \\
               --data PHOTOS -o models/styles10.safetensors [--name my_style] [--steps 300]

The teacher is any single-style model in the vkstyle format (docs/model-format.md) that does
what the new style should do, e.g. one converted with tools/convert/. Every convolution of the
base model and the other styles' gamma/beta stay exactly as they are; one new row is appended to
every conditional-instance-norm table and trained so that model(x, new style) matches
teacher(x) (L1 on 0..255 outputs, Adam). The new row starts from the teacher's own instance-norm
parameters when the teacher has the base's architecture (--init auto/teacher), else from the
mean of the base's styles (--init mean). The base may be a model file (a single-style
instance-norm model counts as one style) or a distill.py checkpoint (.pt).

Prints the new style's PSNR against its teacher on the held-out photos before and after.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

if not __package__:  # run as a file, where the package imports cannot resolve
    sys.exit("run it from the repository root as: python3 -m tools.train.add_style")
from tools.train import data
from tools.train import distill
from tools.train import graphnet


def load_base(path):
    """-> (graph with conditional_instance_norm layers, tensors with [S, C] tables)."""
    if path.endswith(".pt"):
        ck = torch.load(path, map_location="cpu")
        graph, tensors = ck["graph"], {k: v.float().numpy() for k, v in ck["tensors"].items()}
    else:
        graph, tensors = graphnet.load_model(path)
    graph = json.loads(json.dumps(graph))
    graph.setdefault("styles", [graph.get("name", "style")])
    for l in graph["layers"]:
        if l["op"] == "instance_norm":
            l["op"] = "conditional_instance_norm"
            for f in ("gamma", "beta"):
                tensors[l[f]] = tensors[l[f]].reshape(1, -1)
    return graph, tensors


def extend(graph, tensors, name, teacher_graph, teacher_tensors, init="auto"):
    """Append one style row to every table. -> (graph, tensors, init used)."""
    if name in graph["styles"]:
        raise ValueError(f"the base already has a style named {name!r}")
    tables = sorted({l[f] for l in graph["layers"] if l["op"] == "conditional_instance_norm"
                     for f in ("gamma", "beta")})
    if not tables:
        raise ValueError("the base model has no instance-norm layers to condition")
    fits = all(k in teacher_tensors and teacher_tensors[k].size == tensors[k].shape[1] for k in tables) \
        and graphnet.structure_key(teacher_graph) == graphnet.structure_key(graph)
    if init == "auto":
        init = "teacher" if fits else "mean"
    if init == "teacher" and not fits:
        raise ValueError("--init teacher: the teacher does not have the base's architecture")
    graph = json.loads(json.dumps(graph))
    graph["styles"] = graph["styles"] + [name]
    out = dict(tensors)
    for k in tables:
        row = teacher_tensors[k].reshape(1, -1) if init == "teacher" else tensors[k].mean(0, keepdims=True)
        out[k] = np.concatenate([tensors[k], row.astype(np.float32)], 0)
    return graph, out, init


def freeze_all_but_last_row(net):
    """Only the last row of each conditional-instance-norm table is trainable. -> its params."""
    tables = set(net.norm_tensor_names())
    params = []
    for k, p in net.named_tensors().items():
        if k in tables:
            p.requires_grad_(True)
            mask = torch.zeros_like(p)
            mask[-1] = 1
            p.register_hook(lambda g, m=mask: g * m)
            params.append(p)
        else:
            p.requires_grad_(False)
    return params


def add_style(args, log=print):
    torch.set_num_threads(args.threads)
    device = distill.pick_device(args.device)
    torch.manual_seed(args.seed)
    base_graph, base_tensors = load_base(args.base)
    tg, tt = graphnet.load_model(args.teacher)
    name = args.name or os.path.splitext(os.path.basename(args.teacher))[0]
    graph, tensors, init = extend(base_graph, base_tensors, name, tg, tt, args.init)
    if args.graph_name:
        graph["name"] = args.graph_name
    net = graphnet.GraphNet(graph, tensors).to(device).train()
    new = len(net.styles) - 1
    params = freeze_all_but_last_row(net)
    opt = torch.optim.Adam(params, lr=args.lr)
    teacher = graphnet.GraphNet(tg, tt).to(device).eval()
    for p in teacher.parameters():
        p.requires_grad_(False)

    files = graphnet.list_images(args.data)
    holdout = args.holdout if args.holdout is not None else graphnet.default_holdout(files)
    train_files, held = graphnet.split_holdout(files, holdout)
    refresh = args.refresh if args.refresh is not None else (args.batch if device == "cuda" else 1)
    sampler = data.CropSampler(train_files, args.crop, args.scale_min, args.scale_max, seed=args.seed)
    pool = data.Pool(sampler, [teacher], args.pool, device, seed=args.seed)
    log(f"add_style: {name!r} as style {new} of {net.styles}; init {init}; trainable "
        f"{sum(int(p[-1].numel()) for p in params)} parameters; steps {args.steps}, batch {args.batch}, "
        f"crop {args.crop}, lr {args.lr}, device {device}, {args.threads} thread(s)")
    ev = data.HoldoutEval(data.holdout_set(held, args.eval_size), [teacher], device) if held else None

    eval_s = [0.0]

    def evaluate(step):
        if ev is None:
            return float("nan")
        te = time.time()
        net.eval()
        own, _ = ev(net, [(new, 0)])
        net.train()
        eval_s[0] += time.time() - te
        log(f"eval step {step}: {name} PSNR vs its teacher {own[0]:.2f} dB "
            f"({len(held)} held-out photos, max side {args.eval_size})")
        return own[0]

    history = [(0, 0.0, evaluate(0))]
    eval_s[0] = 0.0
    t0 = time.time()
    if refresh < args.batch:
        pool.add(min(args.pool_init, args.pool))
    loss_acc, n = 0.0, 0
    for step in range(1, args.steps + 1):
        x, _, y = pool.batch(args.batch, refresh)
        x, y = x.to(device).float(), y.to(device).float()
        w = graphnet.one_hot(torch.full((x.shape[0],), new), len(net.styles), device)
        loss = (net(x, w) - y).abs().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss_acc += float(loss)
        n += 1
        if step % args.log_every == 0 or step == args.steps:
            el = time.time() - t0 - eval_s[0]
            log(f"step {step}/{args.steps} loss {loss_acc / n:.3f} {step / el:.3f} steps/s "
                f"elapsed {distill.fmt_time(el)} ETA {distill.fmt_time((args.steps - step) * el / step)}")
            loss_acc, n = 0.0, 0
        if args.eval_every and step % args.eval_every == 0 and step != args.steps:
            history.append((step, time.time() - t0 - eval_s[0], evaluate(step)))
    train_s = time.time() - t0 - eval_s[0]
    history.append((args.steps, train_s, evaluate(args.steps)))
    log(f"trained {args.steps} steps in {train_s:.0f} s wall (evaluations excluded)")
    if args.output:
        distill.export_net(net.cpu(), args.output, graph.get("name"), check_image=args.check_image, log=log,
                           provenance={"added_style": name, "base": os.path.basename(args.base),
                                       "steps": args.steps, "batch": args.batch, "crop": args.crop,
                                       "lr": args.lr, "init": init, "wall_s": round(train_s)})
    return net, history, train_s


def build_parser():
    ap = argparse.ArgumentParser(description="Add a style to a conditional-instance-norm vkstyle model, "
                                             "training only its gamma/beta against a teacher model.")
    ap.add_argument("--base", required=True, help="model .safetensors (or a distill.py checkpoint .pt)")
    ap.add_argument("--teacher", required=True, help="single-style vkstyle model of the new style")
    ap.add_argument("--name", help="the new style's name (default: the teacher file's name)")
    ap.add_argument("--graph-name", help="name of the output graph (default: the base's)")
    ap.add_argument("--data", required=True, help="folder of photos")
    ap.add_argument("-o", "--output", help="output model (F16)")
    ap.add_argument("--init", choices=["auto", "teacher", "mean"], default="auto")
    ap.add_argument("--holdout", help="as distill.py (default kodim17-20 if present, else the last 4)")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--scale-min", type=float, default=0.33)
    ap.add_argument("--scale-max", type=float, default=1.0)
    ap.add_argument("--lr", type=float, default=1e-3,
                    help="Adam learning rate (default 1e-3: better than 2e-4 in 300 steps, docs/styles9.md)")
    ap.add_argument("--pool", type=int, default=2048)
    ap.add_argument("--pool-init", type=int, default=128)
    ap.add_argument("--refresh", type=int, help="fresh samples per step (default: --batch on CUDA, 1 on CPU)")
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--eval-size", type=int, default=256)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--check-image", help="check reference.py reproduces the result on this photo")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    return ap


def main(argv=None):
    add_style(build_parser().parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
