"""Level 4, training: ``fit``, ``evaluate``, callbacks, early stopping, schedules, metrics."""

from tinynet.training.callbacks import Callback, History, Run
from tinynet.training.csv_logger import CSVLogger
from tinynet.training.early_stopping import EarlyStopping, RestoreOnInterrupt
from tinynet.training.evaluation import evaluate
from tinynet.training.loop import TrainingDiverged, fit
from tinynet.training.plateau import ReduceLROnPlateau
from tinynet.training.prediction import predict, predict_proba
from tinynet.training.schedules import (
    CosineAnnealingLR,
    ExponentialLR,
    LinearLR,
    LRScheduler,
    SequentialLR,
    StepLR,
)

__all__ = ["CSVLogger", "Callback", "CosineAnnealingLR", "EarlyStopping", "ExponentialLR", "History",
           "LRScheduler", "LinearLR", "ReduceLROnPlateau", "RestoreOnInterrupt", "Run", "SequentialLR",
           "StepLR", "TrainingDiverged", "evaluate", "fit", "predict", "predict_proba"]
