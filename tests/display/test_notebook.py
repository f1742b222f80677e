"""In a Jupyter notebook the live progress and the tables are rich outputs: a real notebook,
executed by nbclient on an ipykernel kernel running this Python, keeps the bar's last frame,
the final table and tn.summary's table as HTML (and text), with no warning and no error."""

import sys

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
kernelspec = pytest.importorskip("ipykernel.kernelspec")

CELLS = [
    "import numpy as np\nimport tinynet as tn\nrng = np.random.default_rng(0)\n"
    "x = rng.normal(size=(200, 4))\ny = (x[:, 0] + x[:, 1] > 0).astype(int)\n"
    "model = tn.Sequential(tn.Dense(4, 8, rng=rng), tn.ReLU(), tn.Dense(8, 2, rng=rng))\n"
    "loader = tn.DataLoader(x, y, batch_size=20, shuffle=True, rng=0)",
    "history = tn.fit(model, tn.SoftmaxCrossEntropy(), tn.Adam(model.parameters(), lr=0.01), loader,\n"
    "                 epochs=30, progress='auto')",
    "tn.summary(model, 4)",
]


def html_outputs(cell):
    return [out for out in cell.outputs if out.output_type == "display_data" and "text/html" in out.data]


def test_a_notebook_shows_the_bar_and_the_tables_as_rich_output(tmp_path):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    # A kernelspec of this very Python (sys.executable), whatever kernels the machine has.
    kernelspec.install(kernel_name="python3", prefix=str(tmp_path))
    specs = KernelSpecManager(kernel_dirs=[str(tmp_path / "share" / "jupyter" / "kernels")])
    assert specs.get_kernel_spec("python3").argv[0] == sys.executable
    manager = KernelManager(kernel_name="python3", kernel_spec_manager=specs)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code) for code in CELLS])
    nbclient.NotebookClient(notebook, km=manager, timeout=60).execute()

    setup, fit, summary = notebook.cells
    for cell in notebook.cells:
        assert not [out for out in cell.outputs if out.output_type in ("error", "stream")], cell.outputs
    bar, table = html_outputs(fit)  # the bar, replaced in place: one output, then the final table
    assert bar.data["text/plain"].startswith("epoch ") and "30/30" in bar.data["text/plain"]
    assert "loss" in bar.data["text/plain"] and "accuracy" in bar.data["text/plain"]
    assert bar.data["text/html"].startswith("<pre") and "━" in bar.data["text/html"]
    assert "training finished" in table.data["text/html"] and "epochs" in table.data["text/plain"]
    (layers,) = html_outputs(summary)
    assert "Sequential summary" in layers.data["text/html"] and "Dense" in layers.data["text/plain"]
    assert "(B, 8)" in layers.data["text/plain"]
