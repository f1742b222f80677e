"""Every name ``tinynet`` exported before the package was split by level still works, from
the same place, and ``__all__`` is sorted and complete."""

import tinynet as tn

BEFORE_THE_SPLIT = [
    "Adam", "AdamW", "Add", "BatchNorm", "Callback", "Concat", "CosineAnnealingLR", "DataLoader", "Dense",
    "Dropout", "EarlyStopping", "Einsum", "ExponentialLR", "Graph", "History", "Identity", "LRScheduler",
    "Layer", "LeakyReLU", "Loss", "MeanSquaredError", "Optimizer", "Parallel", "Parameter", "ReLU",
    "Residual", "RestoreOnInterrupt", "Run", "SGD", "Sequential", "Sigmoid", "SigmoidBinaryCrossEntropy",
    "Softmax", "SoftmaxCrossEntropy", "StepLR", "Tanh", "TrainingDiverged", "__version__", "einsum",
    "evaluate", "fit", "gradcheck", "gradcheck_details", "load", "one_hot", "plot_history", "save", "summary",
]


def test_every_earlier_public_name_is_still_exported():
    missing = [name for name in BEFORE_THE_SPLIT if not hasattr(tn, name) or name not in tn.__all__]
    assert missing == []


def test_all_is_sorted_and_names_only_what_exists():
    assert tn.__all__ == sorted(tn.__all__)
    assert [name for name in tn.__all__ if not hasattr(tn, name)] == []


def test_the_version_comes_from_the_package_metadata():
    from importlib import metadata

    assert tn.__version__ == metadata.version("tinynet")


def test_the_summary_function_is_not_shadowed_by_a_module():
    assert callable(tn.summary) and callable(tn.gradcheck) and callable(tn.einsum)
