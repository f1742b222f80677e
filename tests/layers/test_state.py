"""Model state: a user's own buffers are saved, counted and restored like BatchNorm's."""

import numpy as np
from helpers.models import Counted, model_with_buffers

import tinynet as tn
from tinynet.display.layer_table import summary_rows
from tinynet.layers.state import state_arrays


def test_own_buffers_are_saved_counted_and_restored_like_batchnorms(tmp_path):
    model = model_with_buffers()
    model.forward(np.random.default_rng(0).standard_normal((8, 3)), True)
    tn.save(model, tmp_path / "m.npz")
    loaded = tn.load(tmp_path / "m.npz", custom_layers={"Counted": Counted})
    np.testing.assert_array_equal(loaded[2].block[0].seen, 1.0)
    state = state_arrays(model)
    assert any(a is model[2].block[0].seen for a in state) and len(state) == 8 + 5
    rows = {row.name: row for row in summary_rows(model, 3)}
    assert rows["2.block.0"].buffers == 4 and rows["2"].buffers == 4 + 8
