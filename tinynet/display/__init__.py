"""Level 5, display: the rich console, training progress, the layer table, loss plots."""

from tinynet.display import progress as progress  # registers the training display with fit
from tinynet.display.layer_table import summary
from tinynet.display.plot import plot_history

__all__ = ["plot_history", "summary"]
