"""summary: rows, shapes and parameter counts, plain text outside a terminal, a table inside."""

import io

import pytest
from rich.console import Console

import tinynet as tn
from tinynet.display.layer_table import summary_rows, summary_text


def deep_model() -> tn.Sequential:
    return tn.Sequential(tn.Dense(64, 128, bias=False, rng=0), tn.BatchNorm(128), tn.ReLU(),
                         tn.Dropout(0.2), tn.Sequential(tn.Dense(128, 10, rng=0), tn.Identity()))


def test_summary_rows_shapes_and_counts():
    model = deep_model()
    rows = summary_rows(model, 64)
    assert [r.name for r in rows] == ["0", "1", "2", "3", "4", "4.0", "4.1"]
    assert [r.output_shape for r in rows] == ["(B, 128)"] * 4 + ["(B, 10)"] * 3
    assert [r.params for r in rows] == [8192, 256, 0, 0, 1290, 1290, 0]
    assert rows[1].buffers == 256 and rows[5].depth == 1
    text = summary_text(model, 64)
    assert "Total params: 9,994" in text  # 8192 + 256 + 1290 trainable + 256 running stats
    assert "Trainable params: 9,738" in text and "Non-trainable params: 256" in text
    assert "4.0: Dense(in_features=128, out_features=10, bias=True)" in text


def test_summary_prints_plain_text_outside_a_terminal_and_a_table_inside(capsys):
    model = deep_model()
    model.summary(64)  # Layer.summary, via the shared console (not a terminal under pytest)
    plain = capsys.readouterr().out
    assert plain.strip() == summary_text(model, 64).strip()
    assert "┃" not in plain and "\x1b[" not in plain
    buffer = io.StringIO()
    tn.summary(model, 64, console=Console(file=buffer, force_terminal=True, width=120))
    rich_text = buffer.getvalue()
    assert "Output shape" in rich_text and "9,994" in rich_text and "┃" in rich_text


def test_summary_errors():
    with pytest.raises(ValueError, match=r"layer '0' cannot take input of shape \(B, 5\)"):
        summary_text(deep_model(), 5)
    with pytest.raises(ValueError, match="input_features"):
        summary_text(deep_model(), 0)
    assert "(B, 3)" in summary_text(tn.Dense(2, 3), 2)


def test_summary_of_sequences_shared_layers_and_a_two_input_graph():
    shared = tn.Dense(4, 4)
    chain = tn.Sequential(shared, tn.Tanh(), shared, tn.Flatten())
    rows = summary_rows(chain, (5, 4))
    assert [r.output_shape for r in rows] == ["(B, 5, 4)", "(B, 5, 4)", "(B, 5, 4)", "(B, 20)"]
    assert "Total params: 20 " in summary_text(chain, (5, 4))  # the shared layer counted once
    graph = tn.Graph(inputs=["a", "b"], nodes={
        "ha": (tn.Dense(4, 8), "a"), "hb": (tn.Dense(3, 8), "b"), "c": (tn.Concat(), ["ha", "hb"]),
        "o": (tn.Dense(16, 2), "c"), "p": (tn.Dense(16, 1), "c")}, output=["o", "p"])
    for shapes in ([(4,), (3,)], {"a": 4, "b": 3}):
        rows = summary_rows(graph, shapes)
        assert [r.output_shape for r in rows] == ["(B, 2), (B, 1)", "(B, 8)", "(B, 8)", "(B, 16)",
                                                 "(B, 2)", "(B, 1)"]


def test_a_shared_layer_is_counted_at_its_first_place_only():
    shared = tn.Dense(3, 3)
    rows = summary_rows(tn.Sequential(shared, tn.Tanh(), shared), 3)
    assert [r.params for r in rows] == [12, 0, 0] and rows[2].layer.endswith("(same as 0)")
