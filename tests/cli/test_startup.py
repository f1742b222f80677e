"""`tinynet --help` is quick: it imports no scikit-learn, scipy, pandas, matplotlib, onnx or
torch, and returns in under half a second (median of 3 runs, a fresh interpreter each).
`tinynet train` on iris does not import scikit-learn's model-selection machinery."""

import statistics
import subprocess
import sys
import time

HEAVY = ("sklearn", "scipy", "pandas", "matplotlib", "onnx", "torch", "IPython")


def median_seconds(*commands: list[str], runs: int = 3) -> list[float]:
    """The median wall time of each command, run in turns (a burst of load hits them alike)."""
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for argv, spent in zip(commands, times):
            started = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True, timeout=60)
            spent.append(time.perf_counter() - started)
    return [statistics.median(spent) for spent in times]


def loaded_after(code: str) -> list[str]:
    check = f"import sys\n{code}\nprint(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return eval(done.stdout.strip().splitlines()[-1])


def test_help_imports_no_heavy_library():
    assert loaded_after("from tinynet.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n"
                        "    pass") == []
    every = ("from tinynet.cli import main\nfor c in ('train', 'evaluate', 'predict', 'summary'):\n"
             "    try:\n        main([c, '--help'])\n    except SystemExit:\n        pass")
    assert loaded_after(every) == []


def test_help_returns_in_under_half_a_second():
    help_seconds, package_seconds = median_seconds([sys.executable, "-m", "tinynet.cli", "--help"],
                                                   [sys.executable, "-c", "import tinynet"])
    # `import tinynet` (numpy, the layers, rich: about 0.35 s on an idle machine) is the floor of
    # any run; on a machine so busy that it takes longer, the command may add 25% + 0.1 s to it.
    assert help_seconds < max(0.5, 1.25 * package_seconds + 0.1), (help_seconds, package_seconds)


def test_train_on_iris_does_not_import_model_selection():
    code = ("from tinynet.cli import main\n"
            "assert main(['train', '--epochs', '1', '--progress', 'none']) == 0\n"
            "assert 'sklearn.model_selection' not in sys.modules, 'model_selection imported'")
    assert "IPython" not in loaded_after(code)
