"""Level 3, data: the strided ``DataLoader`` and the article's iris split."""

from tinynet.data.loader import DataLoader, one_hot

__all__ = ["DataLoader", "one_hot"]
