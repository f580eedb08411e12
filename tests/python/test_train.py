#!/usr/bin/env python3
"""Tests of the training tools in tools/train (run from the repository root:
PYTHONPATH=. /usr/bin/python3 tests/python/test_train.py).

Self-contained and quick: tiny synthetic teachers (the ml5 architecture with 4-8 channels) and
random photos are made in a temporary folder; nothing outside the repository is read.
"""
import contextlib
import io
import json
import os
import tempfile
import unittest

import numpy as np
import torch
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
from tools.train import add_style
from tools.train import distill
from tools.train import graphnet
from tools.convert import ml5_to_safetensors
from tools.convert import reference
from tools.convert import safetensors_io

torch.set_num_threads(1)


def tiny_ml5(rng, c1=4, c2=8, c3=8):
    """Random variables of the ml5 network with small channel counts."""
    shapes = [[9, 9, 3, c1], [c1], [c1], [3, 3, c1, c2], [c2], [c2], [3, 3, c2, c3], [c3], [c3]]
    shapes += [[3, 3, c3, c3], [c3], [c3]] * 10
    shapes += [[3, 3, c2, c3], [c2], [c2], [3, 3, c1, c2], [c1], [c1], [9, 9, c1, 3], [3], [3]]
    v = {}
    for n, s in enumerate(shapes):
        key = "Variable" if n == 0 else f"Variable_{n}"
        if len(s) == 4:
            a = rng.standard_normal(s) / np.sqrt(s[0] * s[1] * s[2])
        elif n % 3 == 2:            # gamma (scale)
            a = 1 + 0.3 * rng.standard_normal(s)
        else:                       # beta (shift)
            a = 0.3 * rng.standard_normal(s)
        v[key] = a.astype(np.float32)
    return v


def quiet():
    return contextlib.redirect_stdout(io.StringIO())


class TrainTools(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        root = cls.tmp.name
        rng = np.random.default_rng(1)
        cls.teachers = os.path.join(root, "teachers")
        os.makedirs(cls.teachers)
        cls.names = ["aa", "bb", "cc"]
        for n in cls.names:
            tensors, graph = ml5_to_safetensors.convert(tiny_ml5(rng), n, np.float16)
            safetensors_io.write(os.path.join(cls.teachers, n + ".safetensors"), tensors,
                                 {"vkstyle.graph": json.dumps(graph)})
        cls.photos = os.path.join(root, "photos")
        os.makedirs(cls.photos)
        for i in range(6):
            # smooth random images (upscaled noise), 48x40
            small = rng.integers(0, 256, (5, 6, 3), dtype=np.uint8)
            Image.fromarray(small).resize((48, 40), Image.BICUBIC).save(os.path.join(cls.photos, f"p{i}.png"))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def common_args(self, out_dir, steps, extra=()):
        return ["--data", self.photos, "--teachers", self.teachers, "--styles", ",".join(self.names),
                "--init-from", "bb", "--name", "tiny", "--holdout", "2", "--crop", "16", "--batch", "2",
                "--steps", str(steps), "--pool", "16", "--pool-init", "4", "--ckpt-every", "2",
                "--eval-every", "2", "--eval-size", "24", "--log-every", "1", "--out-dir", out_dir,
                "--lr", "1e-3", *extra]

    def test_student_init_and_reference(self):
        specs = [(n,) + graphnet.load_model(os.path.join(self.teachers, n + ".safetensors")) for n in self.names]
        graph, tensors = graphnet.make_student(specs, "bb", "tiny")
        self.assertEqual(graph["styles"], self.names)
        ops = [l["op"] for l in graph["layers"]]
        self.assertNotIn("instance_norm", ops)
        self.assertEqual(ops.count("conditional_instance_norm"), 16)
        self.assertEqual(tensors["in1.gamma"].shape, (3, 4))
        np.testing.assert_array_equal(tensors["res2.in1.beta"][2], specs[2][2]["res2.in1.beta"])
        np.testing.assert_array_equal(tensors["conv1.weight"], specs[1][2]["conv1.weight"])
        net = graphnet.GraphNet(graph, tensors)
        px = np.asarray(Image.open(os.path.join(self.photos, "p0.png")).convert("RGB"))[:37, :45]
        from tools.train import data
        for s in range(3):
            ours = data.run_net(net, px, s)
            ref = reference.run(graph, tensors, px, [float(i == s) for i in range(3)])
            self.assertLessEqual(np.abs(ours.astype(int) - ref.astype(int)).max(), 1)
        # style "bb" has all of teacher bb's parameters: identical to the teacher
        tg, tt = specs[1][1:]
        np.testing.assert_array_equal(data.run_net(net, px, 1), reference.run(tg, tt, px))
        # a batch of mixed styles equals the styles one at a time
        x = torch.rand(3, 3, 16, 20) * 255
        w = graphnet.one_hot([2, 0, 1], 3)
        with torch.no_grad():
            y = net(x, w)
            for i in range(3):
                torch.testing.assert_close(y[i:i + 1], net(x[i:i + 1], w[i:i + 1]), rtol=1e-4, atol=1e-3)

    def test_distill_resume_export_add_style(self):
        out = os.path.join(self.tmp.name, "run")
        with quiet():
            distill.main(self.common_args(out, 4))
        ck4 = torch.load(os.path.join(out, "latest.pt"))
        self.assertEqual(ck4["step"], 4)
        self.assertTrue(os.path.exists(os.path.join(out, "ckpt_000002.pt")))
        with open(os.path.join(out, "curve.csv")) as f:
            rows = f.read().strip().splitlines()
        self.assertEqual(len(rows), 1 + 3)                    # header + steps 0, 2, 4
        self.assertTrue(rows[0].startswith("step,elapsed_s,samples,loss,mean_psnr,min_margin,psnr_aa"))
        # training changed the shared convs and the tables
        specs = [(n,) + graphnet.load_model(os.path.join(self.teachers, n + ".safetensors")) for n in self.names]
        _, init = graphnet.make_student(specs, "bb")
        self.assertFalse(np.array_equal(ck4["tensors"]["res1.conv1.weight"].numpy(), init["res1.conv1.weight"]))
        self.assertFalse(np.array_equal(ck4["tensors"]["in2.gamma"].numpy(), init["in2.gamma"]))

        # resume to step 6: continues from step 4 (optimizer state included)
        with quiet():
            distill.main(self.common_args(out, 6, ["--resume"]))
        ck6 = torch.load(os.path.join(out, "latest.pt"))
        self.assertEqual(ck6["step"], 6)
        self.assertEqual(ck6["samples"], 12)
        self.assertEqual(int(ck6["opt"]["state"][0]["step"]), 6)
        with open(os.path.join(out, "curve.csv")) as f:
            self.assertEqual([r.split(",")[0] for r in f.read().strip().splitlines()[1:]], ["0", "2", "4", "6"])

        # export: F16, conditional_instance_norm, and reference.py reproduces the student
        model = os.path.join(out, "tiny.safetensors")
        img = os.path.join(self.photos, "p5.png")
        with quiet():
            rc = distill.main(["export", "--ckpt", os.path.join(out, "latest.pt"), "-o", model, "--check-image", img])
        self.assertEqual(rc, 0)
        tensors, meta = safetensors_io.read(model)
        graph = json.loads(meta["vkstyle.graph"])
        self.assertEqual(graph["styles"], self.names)
        self.assertEqual(graph["name"], "tiny")
        self.assertTrue(all(t.dtype == np.float16 for t in tensors.values()))
        self.assertEqual(tensors["res5.in2.beta"].shape, (3, 8))
        self.assertEqual(graph["layers"][-1], {"op": "activation", "name": "output", "activation": "tanh",
                                               "scale": 150.0, "offset": 127.5})
        self.assertTrue(all(l["eps"] == 1e-3 for l in graph["layers"] if "eps" in l))
        net = distill.net_from_checkpoint(ck6)
        worst16, worst32, _ = distill.check_export(net, model, img, log=lambda *_: None)
        self.assertLessEqual(worst16, 1)
        self.assertLessEqual(worst32, 2)

        # add a style: only the new gamma/beta row changes
        base_graph, base = add_style.load_base(model)
        args = add_style.build_parser().parse_args(
            ["--base", model, "--teacher", os.path.join(self.teachers, "aa.safetensors"), "--name", "new",
             "--data", self.photos, "--holdout", "2", "--steps", "3", "--batch", "2", "--crop", "16",
             "--pool", "8", "--pool-init", "4", "--lr", "1e-2", "--eval-every", "0", "--eval-size", "24",
             "-o", os.path.join(out, "plus.safetensors")])
        with quiet():
            net2, history, _ = add_style.add_style(args, log=lambda *_: None)
        self.assertEqual(net2.styles, self.names + ["new"])
        after = {k: v.detach().numpy() for k, v in net2.named_tensors().items()}
        tables = set(net2.norm_tensor_names())
        ta, _ = safetensors_io.read(os.path.join(self.teachers, "aa.safetensors"))
        changed_rows = 0
        for k, v in base.items():
            if k in tables:
                np.testing.assert_array_equal(after[k][:-1], v, err_msg=k)   # old styles frozen
                self.assertEqual(after[k].shape[0], 4)
                changed_rows += not np.array_equal(after[k][-1], ta[k].astype(np.float32))
            else:
                np.testing.assert_array_equal(after[k], v, err_msg=k)        # every conv frozen
        self.assertGreater(changed_rows, 0)
        # init from the teacher's instance-norm parameters (same architecture)
        _, ext, init = add_style.extend(base_graph, base, "new2", *graphnet.load_model(
            os.path.join(self.teachers, "aa.safetensors")))
        self.assertEqual(init, "teacher")
        np.testing.assert_array_equal(ext["in3.gamma"][-1], ta["in3.gamma"].astype(np.float32))
        plus, meta = safetensors_io.read(os.path.join(out, "plus.safetensors"))
        self.assertEqual(json.loads(meta["vkstyle.graph"])["styles"], self.names + ["new"])
        self.assertEqual(len(history), 2)

    def test_holdout_split(self):
        files = [f"/x/kodim{i:02d}.png" for i in range(1, 21)]
        self.assertEqual(graphnet.default_holdout(files), "kodim17,kodim18,kodim19,kodim20")
        tr, held = graphnet.split_holdout(files, graphnet.default_holdout(files))
        self.assertEqual(len(tr), 16)
        self.assertEqual([os.path.basename(h) for h in held], [f"kodim{i}.png" for i in range(17, 21)])
        tr, held = graphnet.split_holdout(["/a/b.png", "/a/a.png", "/a/c.png"], "1")
        self.assertEqual(held, ["/a/c.png"])
        with self.assertRaises(ValueError):
            graphnet.split_holdout(files, "nope")


if __name__ == "__main__":
    unittest.main()
