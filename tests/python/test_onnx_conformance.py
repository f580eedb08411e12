#!/usr/bin/env python3
"""The ONNX conformance node tests (Debian's libonnx-testdata) for the ops vkstyle maps, run on
the device through the Python binding's float-tensor sessions:

    VKSTYLE_LIBRARY=build/python/libvkstyle.so PYTHONPATH=python \\
        /usr/bin/python3 tests/python/test_onnx_conformance.py build/vkstyle

For each test folder that matches PATTERNS: its graph inputs after the first become initializers
(tests/python/onnx_node_test.py), `vkstyle convert --tensor-io` translates it, and every data set
runs (a batch of N as N samples) against the expected output, within ONNX's own backend-test
tolerance (rtol 1e-3, atol 1e-7) widened to atol 1e-5 for float32 sums of products.

Every matched test ends as PASS, FAIL or REFUSED (with the translator's one-line reason). The run
fails on any FAIL, and on any test of MUST_PASS that did not pass: a refusal is listed, never
counted as a pass. The ONNX files, inputs and expected outputs were written by the ONNX project;
nothing here computes an expected value.
"""
import fnmatch
import glob
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx  # noqa: E402
import onnx_node_test  # noqa: E402
import vkstyle  # noqa: E402

NODE_DIR = "/usr/share/libonnx-testdata/data/node"
PATTERNS = ["test_conv_*", "test_convtranspose*", "test_instancenorm*", "test_batchnorm*", "test_reflect_pad",
            "test_edge_pad", "test_constant_pad", "test_relu", "test_tanh*", "test_sigmoid*", "test_leakyrelu*",
            "test_clip*", "test_add*", "test_sub*", "test_mul*", "test_div*", "test_upsample_nearest",
            "test_resize_*nearest*", "test_identity", "test_dropout_default*", "test_dropout_random_old"]
# Measured passing when this list was written; one that stops passing (refused or wrong) fails the run.
MUST_PASS = """test_batchnorm_epsilon test_batchnorm_example test_clip test_clip_default_inbounds
test_clip_default_max test_clip_default_min test_clip_example test_clip_inbounds test_clip_outbounds
test_clip_splitbounds test_constant_pad test_edge_pad test_reflect_pad test_conv_with_autopad_same
test_conv_with_strides_and_asymmetric_padding test_conv_with_strides_no_padding test_conv_with_strides_padding
test_convtranspose test_convtranspose_autopad_same test_convtranspose_pad test_convtranspose_pads
test_dropout_default test_dropout_default_old test_dropout_default_ratio test_dropout_random_old
test_identity test_instancenorm_epsilon test_instancenorm_example test_leakyrelu test_leakyrelu_default
test_leakyrelu_example test_relu test_sigmoid test_sigmoid_example test_tanh test_tanh_example
test_resize_upsample_scales_nearest test_upsample_nearest""".split()


def as_nchw(a):
    """An ONNX tensor of rank 1..4 as [N, C, H, W], the way --tensor-io reads the graph input."""
    return a.reshape((1,) * (4 - a.ndim) + a.shape)


def run_one(cli, ctx, test_dir, tmp):
    name = os.path.basename(test_dir)
    model, _, _ = onnx_node_test.load(test_dir)
    src, dst = os.path.join(tmp, name + ".onnx"), os.path.join(tmp, name + ".safetensors")
    onnx.save(model, src)
    p = subprocess.run([cli, "convert", "--tensor-io", "-q", src, "-o", dst], capture_output=True, text=True)
    if p.returncode != 0:
        return "REFUSED", p.stderr.strip().replace(src, name + ".onnx")
    m = vkstyle.Model(ctx, open(dst, "rb").read())
    worst = 0.0
    for ds in sorted(glob.glob(os.path.join(test_dir, "test_data_set_*"))):
        _, x, y = onnx_node_test.load(test_dir, data_set=int(ds.rsplit("_", 1)[1]))
        x4 = as_nchw(x)
        y4 = as_nchw(y)
        if y4.shape[0] != x4.shape[0]:
            return "FAIL", f"batch {x4.shape[0]} in, {y4.shape[0]} out"
        with vkstyle.TensorSession(m, x4.shape[3], x4.shape[2]) as s:
            for n in range(x4.shape[0]):
                got = s.run(x4[n])
                if got.shape != y4.shape[1:]:
                    return "FAIL", f"output {got.shape}, expected {y4.shape[1:]}"
                if not np.allclose(got, y4[n], rtol=1e-3, atol=1e-5):
                    err = np.abs(got - y4[n]).max()
                    return "FAIL", f"{os.path.basename(ds)} sample {n}: max |error| {err:.3g}"
                worst = max(worst, float(np.abs(got - y4[n]).max()))
    m.close()
    return "PASS", f"max |error| {worst:.2g}"


def main():
    cli = sys.argv[1]
    if not os.path.isdir(NODE_DIR):
        print(f"{NODE_DIR} is missing: apt-get install libonnx-testdata")
        return 1
    tests = sorted(d for d in glob.glob(os.path.join(NODE_DIR, "test_*"))
                   if any(fnmatch.fnmatch(os.path.basename(d), p) for p in PATTERNS))
    results = {}
    with tempfile.TemporaryDirectory() as tmp, vkstyle.Context(validation=True) as ctx:
        for d in tests:
            status, why = run_one(cli, ctx, d, tmp)
            results[os.path.basename(d)] = status
            print(f"{status:8} {os.path.basename(d):60} {why}")
        if ctx.validation_messages:
            print(f"validation error: {ctx.validation_messages} validation messages")
            return 1
    count = {s: sum(1 for v in results.values() if v == s) for s in ("PASS", "FAIL", "REFUSED")}
    print(f"{count['PASS']} passed, {count['FAIL']} failed, {count['REFUSED']} refused by the translator "
          f"(not counted as passing) of {len(results)}")
    missing = [t for t in MUST_PASS if results.get(t) != "PASS"]
    for t in missing:
        print(f"FAIL: {t} is in MUST_PASS but ended {results.get(t, 'absent')}")
    return 1 if count["FAIL"] or missing else 0


if __name__ == "__main__":
    sys.exit(main())
