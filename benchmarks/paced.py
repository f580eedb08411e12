"""Paced processes, as `vkstyle bench --paced` and bench_vs_pytorch.py's PyTorch worker run: 'ready'
after a warm-up, then one frame per line of standard input, its times in ms on one line. Shared by
bench_vs_pytorch.py and ab_frames.py."""
import subprocess
import sys


def start(cmd, what, env=None, cwd=None):
    """Start cmd and wait for its 'ready'; exits naming `what` if it fails first."""
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=cwd)
    if proc.stdout.readline().strip() != "ready":
        sys.exit(f"{what} failed: {proc.communicate()[1].strip()}")
    return proc


def frame(proc, what, fields):
    """One frame: the `fields` numbers the process prints for it."""
    proc.stdin.write("\n")
    proc.stdin.flush()
    line = proc.stdout.readline().split()
    if len(line) != fields:
        sys.exit(f"{what} stopped: {proc.communicate()[1].strip()}")
    return [float(v) for v in line]


def finish(proc, what):
    """End of input; exits naming `what` if the process then fails."""
    proc.stdin.close()
    if proc.wait() != 0:
        sys.exit(f"{what} failed: {proc.stderr.read().strip()}")
