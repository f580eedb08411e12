#!/usr/bin/env python3
"""One ONNX conformance node test (Debian's libonnx-testdata, /usr/share/libonnx-testdata/data/node/
test_*/) made runnable by vkstyle, for a conformance runner:

  model, x, expected = load(test_dir, data_set=0)

The tests feed weights, pads, scales, ... as graph inputs (input_1.pb, ...); vkstyle runs one
input tensor, so every graph input but the first becomes an initializer holding its .pb data.
Returns the rewritten model (onnx.ModelProto: save it and `vkstyle convert --tensor-io`), the
first input as float32 and the expected first output as float32 (numpy arrays, their ONNX
shapes). Integer inputs (int32: test_edge_pad, test_reflect_pad) come back as float32, exact for
their values.

  python3 tests/python/onnx_node_test.py TEST_DIR OUT.onnx   writes the rewritten model
"""
import glob
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def _read_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t


def load(test_dir, data_set=0):
    model = onnx.load(os.path.join(test_dir, "model.onnx"))
    init = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in init]
    ds = os.path.join(test_dir, f"test_data_set_{data_set}")
    pbs = sorted(glob.glob(os.path.join(ds, "input_*.pb")), key=lambda p: int(p.rsplit("_", 1)[1][:-3]))
    if len(pbs) != len(inputs):
        raise ValueError(f"{test_dir}: {len(inputs)} graph inputs, {len(pbs)} input files")
    for vi, pb in list(zip(inputs, pbs))[1:]:
        t = _read_pb(pb)
        t.name = vi.name
        model.graph.initializer.append(t)
    first = [i for i in model.graph.input if i.name == inputs[0].name]
    del model.graph.input[:]
    model.graph.input.extend(first)
    x = numpy_helper.to_array(_read_pb(pbs[0])).astype(np.float32)
    y = numpy_helper.to_array(_read_pb(os.path.join(ds, "output_0.pb"))).astype(np.float32)
    return model, x, y


if __name__ == "__main__":
    m, _, _ = load(sys.argv[1])
    onnx.save(m, sys.argv[2])
