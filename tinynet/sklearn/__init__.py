"""A face: scikit-learn estimators wrapping a tinynet network and ``fit``.

Importing this package registers the estimators with ``tinynet.save``/``tinynet.load``.
"""

from tinynet.sklearn.estimators import ESTIMATORS, TinyNetClassifier, TinyNetRegressor

__all__ = ["ESTIMATORS", "TinyNetClassifier", "TinyNetRegressor"]
