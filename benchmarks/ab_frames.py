#!/usr/bin/env python3
"""Two configurations of vkstyle side by side, frame by frame: A/B of a switch or of two builds.

Each round starts one `vkstyle bench --paced` process per side (a warmed-up session that runs a
frame per line of input) and alternates their frames, A then B, then B then A, so that both see
the same state of the machine (on the development VM its speed moves by 1.5x within minutes:
separate runs compare moments, not code). Fresh processes every round, because a process keeps
the memory layout it drew at its start, and two processes of the same configuration differed by
up to 8% on that VM (benchmarks/README.md). Prints each round's medians and ratio (the VM's
speed moves both sides by up to 1.4x from round to round), then each side's median wall and GPU
ms per frame, the median of the pairs' ratios B / A with its interquartile range, and the
rounds' range.

  python3 -m benchmarks.ab_frames --b-env VKSTYLE_WINO_IN_UBO=0 --size 64x64 --rounds 6 --frames 30
  python3 -m benchmarks.ab_frames --a /tmp/base-build/vkstyle --b build/vkstyle --size 256x256
  python3 -m benchmarks.ab_frames --b-env VKSTYLE_NORM_V4=0 --driver mesa25   # scripts/mesa25.sh

A side is a vkstyle binary (--a, --b; default build/vkstyle for both) plus environment
assignments for it alone (--a-env, --b-env: NAME=VALUE, repeatable). Needs no Python package
beyond the standard library.
"""
import argparse
import os
import statistics
import sys

if not __package__:  # run as a file, where the package import cannot resolve
    sys.exit("run it from the repository root as: python3 -m benchmarks.ab_frames")
from benchmarks import paced  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start(binary, envs, a, label):
    env = dict(os.environ)
    for kv in envs:
        if "=" not in kv:
            sys.exit(f"ab_frames.py: --{label}-env takes NAME=VALUE, not '{kv}'")
        k, v = kv.split("=", 1)
        env[k] = v
    wrap = ["bash", os.path.join(ROOT, "scripts", "mesa25.sh")] if a.driver == "mesa25" else []
    cmd = wrap + [binary, "bench", "-m", a.model, "--size", a.size, "--warmup", str(a.warmup),
                  "--precision", a.precision, "--paced"]
    return paced.start(cmd, f"ab_frames.py: side {label.upper()} ({' '.join(cmd)})", env=env)


def quartiles(v):
    q = statistics.quantiles(v, n=4) if len(v) >= 2 else [v[0]] * 3
    return q[0], q[1], q[2]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--a", default=os.path.join(ROOT, "build", "vkstyle"), help="side A's vkstyle (default build/vkstyle)")
    p.add_argument("--b", default=None, help="side B's vkstyle (default: side A's)")
    p.add_argument("--a-env", action="append", default=[], metavar="NAME=VALUE", help="environment for side A only")
    p.add_argument("--b-env", action="append", default=[], metavar="NAME=VALUE", help="environment for side B only")
    p.add_argument("-m", "--model", default="udnie")
    p.add_argument("--size", default="256x256")
    p.add_argument("--precision", default="fp32")
    p.add_argument("--frames", type=int, default=20, help="pairs of frames a round (default 20)")
    p.add_argument("--rounds", type=int, default=4, help="rounds, each with fresh processes (default 4)")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--driver", choices=["system", "mesa25"], default="system",
                   help="mesa25: both sides through scripts/mesa25.sh")
    a = p.parse_args()
    if a.frames < 1 or a.rounds < 1:
        sys.exit("ab_frames.py: --frames and --rounds must be at least 1")
    b_bin = a.b or a.a
    for v in (a.a, b_bin):
        if not os.access(v, os.X_OK):
            sys.exit(f"ab_frames.py: {v} is not an executable (build first: bash scripts/build.sh)")
    wa, wb, ga, gb, ratios, round_ratios = [], [], [], [], [], []
    for r in range(a.rounds):
        # fresh processes every round, started in turns: a process draws its memory layout once
        # and keeps it (benchmarks/README.md), so one process a side would compare two draws
        if r % 2 == 0:
            pa, pb = start(a.a, a.a_env, a, "a"), start(b_bin, a.b_env, a, "b")
        else:
            pb, pa = start(b_bin, a.b_env, a, "b"), start(a.a, a.a_env, a, "a")
        n0 = len(ratios)
        for i in range(a.frames):
            if i % 2 == 0:
                fa, fb = paced.frame(pa, "ab_frames.py: side A", 2), paced.frame(pb, "ab_frames.py: side B", 2)
            else:
                fb, fa = paced.frame(pb, "ab_frames.py: side B", 2), paced.frame(pa, "ab_frames.py: side A", 2)
            wa.append(fa[0]); ga.append(fa[1]); wb.append(fb[0]); gb.append(fb[1])
            ratios.append(fb[0] / fa[0])
        paced.finish(pa, "ab_frames.py: side A")
        paced.finish(pb, "ab_frames.py: side B")
        round_ratios.append(statistics.median(ratios[n0:]))
        # each side's median too: the machine's speed moves between rounds, the sides together
        print(f"  round {r + 1}/{a.rounds}: A {statistics.median(wa[n0:]):.2f} ms, B {statistics.median(wb[n0:]):.2f} ms, "
              f"B / A {round_ratios[-1]:.3f}", file=sys.stderr, flush=True)
    print(f"{a.model} {a.size} {a.precision}, driver {a.driver}, {a.rounds} rounds of {a.frames} pairs of frames, "
          "alternating, fresh processes each round")
    print(f"A: {a.a} {' '.join(a.a_env)}".rstrip())
    print(f"B: {b_bin} {' '.join(a.b_env)}".rstrip())
    print(f"{'':4} {'wall ms':>10} {'GPU ms':>10}")
    print(f"{'A':4} {statistics.median(wa):10.2f} {statistics.median(ga):10.2f}")
    print(f"{'B':4} {statistics.median(wb):10.2f} {statistics.median(gb):10.2f}")
    q1, q2, q3 = quartiles(ratios)
    print(f"B / A, median of the pairs' wall ratios: {q2:.3f} (quartiles {q1:.3f}-{q3:.3f}); "
          f"rounds' {min(round_ratios):.3f}-{max(round_ratios):.3f}")


if __name__ == "__main__":
    main()
