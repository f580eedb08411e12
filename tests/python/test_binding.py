#!/usr/bin/env python3
"""Tests of the Python binding (python/vkstyle), pytest-style functions run by main() below.

    VKSTYLE_LIBRARY=build/python/libvkstyle.so PYTHONPATH=python \
        /usr/bin/python3 tests/python/test_binding.py build/vkstyle 0.1.0

(ctest test_python_binding, with the validation layer on). The binding's output must equal the
vkstyle command's, pixel for pixel, on the same input.
"""
import gc
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

import vkstyle

SRC = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CLI = VERSION = TMP = None
W, H = 48, 36


def raises(exc, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except exc as e:
        return e
    raise AssertionError(f"{fn.__name__} did not raise {exc.__name__}")


def photo():
    """A small RGB photo, as in.png (for the command) and as an array (for the binding)."""
    path = os.path.join(TMP, "in.png")
    if not os.path.exists(path):
        im = Image.open(os.path.join(SRC, "tests", "data", "kodim05_crop333x257.png")).convert("RGB")
        im.resize((W, H), Image.BILINEAR).save(path)
    return path, np.asarray(Image.open(path).convert("RGB"))


def cli(*args):
    """vkstyle image on in.png; the output's pixels."""
    path, _ = photo()
    out = os.path.join(TMP, "cli.png")
    subprocess.run([CLI, "image", "-q", "-i", path, "-o", out, *args], check=True)
    return np.asarray(Image.open(out).convert("RGB"))


def test_version_and_status_names():
    assert vkstyle.version() == VERSION == vkstyle.__version__
    header = open(os.path.join(SRC, "include", "vkstyle", "vkstyle.h")).read()
    listed = re.findall(r"X\((VKS_\w+),", header)
    assert tuple(listed) == vkstyle.STATUS_NAMES, listed


def test_context_and_models():
    with vkstyle.Context() as ctx:
        dev = ctx.device
        assert dev["name"] and dev["type"] in ("discrete", "integrated", "virtual", "cpu", "other"), dev
        styles9 = vkstyle.Model(ctx, "styles9")
        assert len(styles9.styles) == 9 and styles9.styles[0] == "la_muse" and "wave" in styles9.styles
        udnie = vkstyle.Model(ctx, os.path.join(SRC, "models", "udnie.safetensors"))
        assert len(udnie.styles) == 1 and udnie.name


def test_same_pixels_as_vkstyle_image():
    _, rgb = photo()
    ctx = vkstyle.Context()
    model = vkstyle.Model(ctx, "styles9")
    session = vkstyle.Session(model, W, H, styles={"udnie": 0.7, "wave": 0.3})
    out = session.run(rgb)
    assert out.shape == rgb.shape and out.dtype == np.uint8 and not np.array_equal(out, rgb)
    assert np.array_equal(out, cli("-m", "styles9", "-s", "udnie=0.7,wave=0.3"))
    # the same mix as a list of weights, by index: the same pixels
    w = [0.0] * 9
    w[model.styles.index("udnie")], w[model.styles.index("wave")] = 0.7, 0.3
    session.style_weights = w
    assert session.style_weights == w
    assert np.array_equal(session.run(rgb), out)
    # a single-style model
    single = vkstyle.Session(vkstyle.Model(ctx, "udnie"), W, H)
    assert np.array_equal(single.run(rgb), cli("-m", "udnie"))
    assert ctx.validation_messages == 0


def test_tensor_session():
    """udnie's graph maps pixels to floats and floats to pixels by identity (input and output
    scale 1, offset 0), so a float-tensor session on the photo's pixels gives the pixel session's
    output before its rounding, clamping and crop."""
    _, rgb = photo()
    ctx = vkstyle.Context()
    model = vkstyle.Model(ctx, "udnie")
    t = vkstyle.TensorSession(model, W, H)
    assert t.input_channels == 3 and t.output_shape[0] == 3 and t.output_shape[1:] >= (H, W), t.output_shape
    y = t.run(rgb.transpose(2, 0, 1).astype(np.float32))
    assert y.dtype == np.float32 and y.shape == t.output_shape
    pixels = np.clip(np.rint(y[:, :H, :W]), 0, 255).astype(np.uint8).transpose(1, 2, 0)
    diff = np.abs(pixels.astype(int) - vkstyle.Session(model, W, H).run(rgb).astype(int))
    assert diff.max() <= 1 and (diff == 0).mean() > 0.999, (diff.max(), (diff == 0).mean())
    assert "shape" in str(raises(ValueError, t.run, np.zeros((3, H, W + 1), np.float32)))
    assert ctx.validation_messages == 0


def test_precision():
    _, rgb = photo()
    ctx = vkstyle.Context()
    model = vkstyle.Model(ctx, "udnie")
    assert vkstyle.Session(model, W, H).precision == "fp32"
    auto = vkstyle.Session(model, W, H, precision="auto")
    assert auto.precision == ("fp16" if ctx.device["fp16"] else "fp32")
    if ctx.device["fp16"]:
        fp16 = vkstyle.Session(model, W, H, precision="fp16")
        assert fp16.precision == "fp16"
        assert np.array_equal(fp16.run(rgb), cli("-m", "udnie", "--precision", "fp16"))
    assert "precision must be" in str(raises(ValueError, vkstyle.Session, model, W, H, precision="fp8"))


def test_stabilize():
    """Off: the command's pixels; on: the first frame (and the first after a reset) too."""
    _, rgb = photo()
    s = vkstyle.Session(vkstyle.Model(vkstyle.Context(), "udnie"), W, H)
    assert s.stabilize == 0
    want = cli("-m", "udnie")
    s.stabilize = 0.8
    assert abs(s.stabilize - 0.8) < 1e-6
    assert np.array_equal(s.run(rgb), want)
    s.run(rgb[:, ::-1].copy())
    s.reset_stabilize()
    assert np.array_equal(s.run(rgb), want)
    assert "must be in [0, 1]" in str(raises(vkstyle.Error, setattr, s, "stabilize", 2.0))


def test_rgba_and_model_bytes():
    _, rgb = photo()
    ctx = vkstyle.Context()
    path = os.path.join(SRC, "models", "wave.safetensors")
    a = vkstyle.Session(vkstyle.Model(ctx, path), W, H)
    b = vkstyle.Session(vkstyle.Model(ctx, open(path, "rb").read()), W, H)
    rgba = np.concatenate([rgb, np.full((H, W, 1), 7, np.uint8)], axis=2)
    out = b.run(rgba)
    assert out.shape == (H, W, 4) and (out[..., 3] == 255).all()
    assert np.array_equal(out[..., :3], a.run(rgb))
    # a non-contiguous view is fine
    assert np.array_equal(a.run(rgba[..., :3]), out[..., :3])


def test_errors_carry_the_engine_message():
    ctx = vkstyle.Context()
    missing = os.path.join(TMP, "missing.safetensors")
    e = raises(vkstyle.Error, vkstyle.Model, ctx, missing)
    assert e.status == "VKS_ERR_IO" and missing in str(e) and "No such file" in str(e), (e.status, str(e))
    e = raises(vkstyle.Error, vkstyle.Model, ctx, b"\x10\0\0\0\0\0\0\0{\"a\":")
    assert e.status == "VKS_ERR_MODEL_FORMAT" and str(e), (e.status, str(e))
    assert "no model named 'nope'" in str(raises(FileNotFoundError, vkstyle.Model, ctx, "nope"))
    e = raises(vkstyle.Error, vkstyle.Context, device="no such device")
    assert e.status == "VKS_ERR_NO_DEVICE" and "no such device" in str(e), str(e)

    model = vkstyle.Model(ctx, "styles9")
    session = vkstyle.Session(model, W, H)
    e = raises(vkstyle.Error, setattr, session, "style_weights", [0.1] * 10)
    assert e.status == "VKS_ERR_STYLE" and str(e) == "10 style weights given, the model has 9 styles", str(e)
    e = raises(vkstyle.Error, setattr, session, "style_weights", {"nope": 1})
    assert e.status == "VKS_ERR_STYLE" and "wave" in str(e)
    e = raises(vkstyle.Error, setattr, session, "style_weights", [float("nan")])
    assert e.status == "VKS_ERR_STYLE" and "not finite" in str(e), str(e)
    assert "shape" in str(raises(ValueError, session.run, np.zeros((H, W + 1, 3), np.uint8)))
    assert "uint8" in str(raises(TypeError, session.run, np.zeros((H, W, 3), np.float32)))
    e = raises(vkstyle.Error, vkstyle.Session, model, 0, H)
    assert e.status in ("VKS_ERR_SHAPE", "VKS_ERR_INVALID_ARGUMENT") and str(e), (e.status, str(e))


def test_tiles():
    """A budget too small for one piece: TOO_LARGE naming the size that fits, or tiles with the
    same pixels as the command's tiles (and, to rounding, as one piece)."""
    _, rgb = photo()
    ctx = vkstyle.Context()
    model = vkstyle.Model(ctx, "udnie")
    e = raises(vkstyle.Error, vkstyle.Session, model, W, H, max_memory=256 << 10)
    assert e.status == "VKS_ERR_TOO_LARGE" and "fits)" in str(e), (e.status, str(e))
    tiled = vkstyle.Session(model, W, H, max_memory=256 << 10, tiling="auto")
    assert tiled.tiles > 0 and vkstyle.Session(model, W, H).tiles == 0
    out = tiled.run(rgb)
    assert np.array_equal(out, cli("-m", "udnie", "--max-memory", "256K"))
    assert np.abs(out.astype(int) - vkstyle.Session(model, W, H).run(rgb)).max() <= 1
    assert "tiling must be" in str(raises(ValueError, vkstyle.Session, model, W, H, tiling="maybe"))


def test_close_order():
    ctx = vkstyle.Context()
    session = vkstyle.Session(vkstyle.Model(ctx, "udnie"), W, H)
    ctx.close()  # closes the session and the model first
    assert "closed" in str(raises(ValueError, session.run, np.zeros((H, W, 3), np.uint8)))
    session.close()
    ctx.close()


def test_collected_in_any_order():
    # a reference cycle: the garbage collector finalizes its objects in no particular order, and
    # the context must still be destroyed last (the validation layer reports objects left behind)
    ctx = vkstyle.Context()
    session = vkstyle.Session(vkstyle.Model(ctx, "udnie"), W, H)
    ctx.cycle = [ctx, session]
    del ctx, session
    gc.collect()


def main():
    global CLI, VERSION, TMP
    CLI, VERSION = sys.argv[1], sys.argv[2]
    tests = [(n, f) for n, f in globals().items() if n.startswith("test_") and callable(f)]
    with tempfile.TemporaryDirectory() as TMP:
        for name, fn in tests:
            fn()
            print(f"ok {name}")
    print(f"{len(tests)} tests passed")


if __name__ == "__main__":
    main()
