"""TinyNetClassifier / TinyNetRegressor: scikit-learn's own checks, accuracy against MLPClassifier,
pipelines, search, pickling, tn.save, partial_fit, warm_start and early stopping."""

import pickle
import warnings

import numpy as np
import pytest
from helpers.runs import scaled_iris
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

import tinynet as tn
from tinynet.sklearn import TinyNetClassifier, TinyNetRegressor

# Checks scikit-learn skips when an optional package is absent (not expected failures).
ENVIRONMENT_SKIPS = ("pandas is not installed", "SCIPY_ARRAY_API is not set")


@pytest.fixture(scope="module")
def iris():
    return scaled_iris()


@pytest.fixture(scope="module")
def iris_strings(iris):
    x, y = iris
    return x, np.array(["setosa", "versicolor", "virginica"])[y]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
@pytest.mark.parametrize("estimator", [TinyNetClassifier(), TinyNetRegressor()],
                         ids=lambda e: type(e).__name__)
def test_check_estimator_passes_with_no_expected_failures(estimator):
    results = check_estimator(estimator, on_fail=None)
    failed = [(r["check_name"], repr(r["exception"])) for r in results if r["status"] == "failed"]
    expected_failures = [r["check_name"] for r in results if r["status"] == "xfail"]
    skipped = [(r["check_name"], str(r["exception"])) for r in results if r["status"] == "skipped"]
    assert failed == []
    assert expected_failures == []
    assert all(any(reason in why for reason in ENVIRONMENT_SKIPS) for _, why in skipped), skipped
    assert sum(r["status"] == "passed" for r in results) >= 50


@pytest.mark.parametrize("load", [load_wine, load_breast_cancer, load_digits], ids=lambda f: f.__name__[5:])
def test_cross_validated_accuracy_is_within_two_points_of_mlp(load):
    x, y = load(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = cross_val_score(make_pipeline(StandardScaler(), MLPClassifier((32,), random_state=0)),
                              x, y, cv=5).mean()
    ours = cross_val_score(make_pipeline(StandardScaler(), TinyNetClassifier((32,), random_state=0)),
                           x, y, cv=5).mean()
    assert ours >= mlp - 0.02, f"tinynet {ours:.4f} vs MLPClassifier {mlp:.4f}"


def test_string_labels_probabilities_pipeline_and_grid_search(iris_strings):
    x, y = iris_strings
    clf = TinyNetClassifier((16,), random_state=0).fit(x, y)
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    assert clf.n_features_in_ == 4 and clf.predict(x[:3]).dtype.kind == "U"
    proba = clf.predict_proba(x)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(np.log(proba), clf.predict_log_proba(x), atol=1e-12)
    assert (clf.classes_[proba.argmax(axis=1)] == clf.predict(x)).all()
    assert clf.score(x, y) > 0.9 and len(clf.loss_curve_) == clf.n_iter_ <= 200
    search = GridSearchCV(make_pipeline(StandardScaler(), TinyNetClassifier(random_state=0)),
                          {"tinynetclassifier__hidden_layer_sizes": [(4,), (16,)]}, cv=3).fit(x, y)
    assert search.best_score_ > 0.85
    assert cross_val_score(TinyNetClassifier((8,), random_state=0), x, y, cv=3).mean() > 0.85


def test_regressor_on_diabetes_single_and_multi_output():
    x, y = load_diabetes(return_X_y=True)
    x = StandardScaler().fit_transform(x)
    y = (y - y.mean()) / y.std()
    reg = TinyNetRegressor((32,), epochs=100, random_state=0).fit(x[:350], y[:350])
    assert reg.predict(x[350:]).shape == (92,)
    assert reg.score(x[350:], y[350:]) > 0.3
    multi = TinyNetRegressor((16,), epochs=20, random_state=0).fit(x, np.c_[y, -y])
    assert multi.predict(x).shape == (442, 2) and multi.n_outputs_ == 2


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_pickle_and_tinynet_save_give_identical_predictions(tmp_path, iris_strings):
    x, y = iris_strings
    clf = TinyNetClassifier((8,), epochs=20, random_state=0).fit(x, y.astype(object))
    clf.feature_names_in_ = np.array(["a", "b", "c", "d"], dtype=object)
    clone = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clone.predict_proba(x), clf.predict_proba(x))
    tn.save(clf, tmp_path / "clf.npz")
    loaded = tn.load(tmp_path / "clf.npz")
    assert isinstance(loaded, TinyNetClassifier) and loaded.get_params() == clf.get_params()
    assert loaded.classes_.tobytes() == clf.classes_.tobytes()
    assert loaded.predict_proba(x).tobytes() == clf.predict_proba(x).tobytes()
    assert list(loaded.feature_names_in_) == ["a", "b", "c", "d"]
    assert loaded.loss_curve_ == clf.loss_curve_ and loaded.n_iter_ == clf.n_iter_
    reg = TinyNetRegressor((4,), epochs=5, random_state=1).fit(x, x[:, 0])
    tn.save(reg, tmp_path / "reg.npz")
    assert tn.load(tmp_path / "reg.npz").predict(x).tobytes() == reg.predict(x).tobytes()
    loaded.set_params(warm_start=True).fit(x, y.astype(object))  # training continues after a load
    assert loaded.n_iter_ > clf.n_iter_


def test_partial_fit_warm_start_and_early_stopping(iris_strings):
    x, y = iris_strings
    clf = TinyNetClassifier((8,), random_state=0)
    with pytest.raises(ValueError, match="classes="):
        clf.partial_fit(x, y)
    clf.partial_fit(x[:50], y[:50], classes=np.unique(y))  # first rows: one class only
    for _ in range(4):
        clf.partial_fit(x, y)
    assert clf.n_iter_ == 5 and len(clf.loss_curve_) == 5
    with pytest.raises(ValueError, match="'daisy' that is not among the classes"):
        clf.partial_fit(x[:2], np.array(["daisy", "setosa"]))

    warm = TinyNetClassifier((8,), epochs=10, tol=0, warm_start=True, random_state=0).fit(x, y)
    first = list(warm.loss_curve_)
    warm.fit(x, y)
    assert warm.n_iter_ == 20 and warm.loss_curve_[:10] == first and warm.loss_curve_[-1] < first[-1]

    early = TinyNetClassifier((8,), epochs=500, early_stopping=True, n_iter_no_change=5,
                              validation_fraction=0.2, random_state=0).fit(x, y)
    assert early.n_iter_ < 500 and len(early.validation_loss_curve_) == early.n_iter_
    assert early.best_validation_loss_ == min(early.validation_loss_curve_)
    assert early.score(x, y) > 0.8


def test_alpha_shrinks_the_weights(iris_strings):
    x, y = iris_strings
    norms = [np.linalg.norm(TinyNetClassifier((8,), alpha=alpha, epochs=40, tol=0, random_state=0)
                            .fit(x, y).model_[0].weight.data) for alpha in (0.0, 30.0)]
    assert norms[1] < 0.8 * norms[0]


@pytest.mark.parametrize("params, message", [
    ({"activation": "relu6"}, "activation must be one of"),
    ({"optimizer": "adamm"}, "did you mean 'adam'"),
    ({"hidden_layer_sizes": (10, 0)}, "hidden_layer_sizes entry must be an integer >= 1"),
    ({"learning_rate": -1.0}, "learning_rate must be a finite number > 0"),
    ({"progress": "loud"}, "progress must be one of"),
    ({"validation_fraction": 1.0}, "validation_fraction must be a finite number"),
])
def test_bad_parameters_are_reported_at_fit(iris_strings, params, message):
    x, y = iris_strings
    clf = TinyNetClassifier(**params)  # scikit-learn: __init__ stores, fit validates
    with pytest.raises(ValueError, match=message):
        clf.fit(x, y)


def test_warm_start_fit_builds_a_new_optimizer_partial_fit_keeps_it(iris):
    from tinynet.sklearn import TinyNetClassifier

    x, y = iris
    clf = TinyNetClassifier((8,), epochs=3, tol=0, warm_start=True, random_state=0).fit(x, y)
    first, weights = clf.optimizer_, clf.model_[0].weight.data.copy()
    clf.set_params(optimizer="sgd", learning_rate=0.5).fit(x, y)
    assert isinstance(clf.optimizer_, tn.SGD) and clf.optimizer_.lr == 0.5
    assert clf.optimizer_ is not first and clf.n_iter_ == 6  # new optimizer, same (warm) network
    assert not np.array_equal(clf.model_[0].weight.data, weights)
    kept = clf.optimizer_
    clf.partial_fit(x, y)
    assert clf.optimizer_ is kept and clf.n_iter_ == 7


def test_regressor_save_load_keeps_its_own_attributes_plainly(tmp_path, iris):
    from tinynet.sklearn import TinyNetRegressor

    x, _ = iris
    reg = TinyNetRegressor((4,), epochs=2, random_state=0).fit(x, x[:, :1])  # y of shape (n, 1)
    exported = reg._tinynet_export()
    assert exported["attributes"]["n_outputs_"] == 1 and exported["attributes"]["y_ndim"] == 2
    assert "y_ndim" not in vars(reg) and "n_outputs_" not in reg._export_own()[1]
    tn.save(reg, tmp_path / "reg.npz")
    loaded = tn.load(tmp_path / "reg.npz")
    assert loaded.predict(x).shape == (150, 1) and loaded.n_outputs_ == 1
    assert "y_ndim" not in vars(loaded)
    np.testing.assert_array_equal(loaded.predict(x), reg.predict(x))


def test_estimators_say_numpy_conversion_errors_in_their_own_words(iris):
    from tinynet.sklearn import TinyNetClassifier, TinyNetRegressor

    x, y = iris
    clf = TinyNetClassifier((4,), epochs=1, random_state=0).fit(x, y)
    ragged = "must be a table of numbers whose rows all have the same length"
    cases = [(lambda: clf.predict([["a", 1, 2, 3]]),
              "TinyNetClassifier: X must hold numbers only; it holds text such as 'a'"),
             (lambda: clf.predict_proba([[1, 2, 3, 4], [1]]), f"TinyNetClassifier: X {ragged}"),
             (lambda: TinyNetClassifier().fit([["a", 1]] * 4, [0, 1] * 2), "X must hold numbers only"),
             (lambda: TinyNetRegressor().fit(x, ["cheap"] * 150),
              "TinyNetRegressor: y must hold numbers only; it holds text such as 'cheap'"),
             (lambda: TinyNetRegressor().fit(x, [[1, 2]] * 149 + [[1]]), f"TinyNetRegressor: y {ragged}")]
    for call, message in cases:
        with pytest.raises(ValueError) as info:
            call()
        assert message in str(info.value)
        assert "inhomogeneous" not in str(info.value) and "convert string" not in str(info.value)


# -- weights, the regressor's target scaling, ConvergenceWarning ----------------------------------

def test_balanced_class_weight_lifts_balanced_accuracy_on_imbalanced_data():
    from sklearn.datasets import make_classification
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import train_test_split

    x, y = make_classification(n_samples=600, n_features=6, n_informative=3, n_redundant=1,
                               weights=[0.95, 0.05], class_sep=0.5, flip_y=0, random_state=1)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.5, random_state=0, stratify=y)
    scores = {}
    for class_weight in (None, "balanced"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = TinyNetClassifier((16,), epochs=50, class_weight=class_weight, random_state=0)
            scores[class_weight] = balanced_accuracy_score(y_te, clf.fit(x_tr, y_tr).predict(x_te))
    # measured: 0.533 unweighted (the rare class is barely found), 0.802 balanced
    assert scores["balanced"] >= scores[None] + 0.15, scores


def test_zero_and_integer_sample_weights_equal_dropped_and_repeated_rows(iris):
    x, y = iris
    weights = np.arange(150) % 3  # 0 drops a row, 2 counts it twice
    params = dict(hidden_layer_sizes=(8,), batch_size=400, epochs=30, alpha=0.1, tol=0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = TinyNetClassifier(**params).fit(x, y, sample_weight=weights)
        repeated = TinyNetClassifier(**params).fit(np.repeat(x, weights, 0), np.repeat(y, weights))
        by_class = TinyNetClassifier(**params, class_weight={0: 3.0, 2: 0.5}).fit(x, y)
        as_samples = TinyNetClassifier(**params).fit(x, y, sample_weight=np.array([3.0, 1.0, 0.5])[y])
    np.testing.assert_allclose(weighted.predict_proba(x), repeated.predict_proba(x), rtol=1e-9)
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-9)
    np.testing.assert_array_equal(by_class.predict_proba(x), as_samples.predict_proba(x))


def test_regressor_standardizes_its_target_inside():
    """A raw-scale target (diabetes' disease progression, 25..346) fits as well as a pre-scaled one;
    predictions come back in the target's units."""
    x, y = load_diabetes(return_X_y=True)
    x = StandardScaler().fit_transform(x)
    scaled = (y - y.mean()) / y.std()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        raw = TinyNetRegressor((32,), epochs=60, random_state=0).fit(x[:350], y[:350])
        pre = TinyNetRegressor((32,), epochs=60, random_state=0).fit(x[:350], scaled[:350])
    r2_raw, r2_pre = raw.score(x[350:], y[350:]), pre.score(x[350:], scaled[350:])
    assert r2_raw > 0.4 and r2_raw == pytest.approx(r2_pre, abs=0.02), (r2_raw, r2_pre)
    assert 20 < raw.predict(x).mean() < 300  # original units
    assert raw.y_mean_.shape == raw.y_scale_.shape == (1,)


def test_convergence_warning_when_the_budget_ends_while_the_loss_falls(iris):
    x, y = iris
    with pytest.warns(ConvergenceWarning, match=r"epoch budget \(epochs=3\) ran out"):
        TinyNetClassifier((8,), epochs=3, random_state=0).fit(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        stopped = TinyNetClassifier((8,), epochs=500, tol=1e-2, n_iter_no_change=2, random_state=0).fit(x, y)
        stopped.partial_fit(x, y)  # one epoch by design: never a warning
    assert stopped.n_iter_ < 500


def test_class_weight_is_saved_and_bad_weights_are_refused(tmp_path, iris_strings):
    x, y = iris_strings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = TinyNetClassifier((4,), epochs=2, class_weight={"setosa": 2.0}, random_state=0).fit(x, y)
        numeric = TinyNetClassifier((4,), epochs=2, class_weight={1: 0.5}, random_state=0)
        numeric.fit(x, (y == "setosa").astype(int))
    tn.save(clf, tmp_path / "clf.npz")
    assert tn.load(tmp_path / "clf.npz").get_params()["class_weight"] == {"setosa": 2.0}
    tn.save(numeric, tmp_path / "numeric.npz")
    assert tn.load(tmp_path / "numeric.npz").class_weight == {1: 0.5}
    for class_weight, message in [({"daisy": 1.0}, "label 'daisy', which is not among the classes"),
                                  ({"setosa": -1.0}, r"class_weight\['setosa'\] must be a finite number"),
                                  ("even", "class_weight must be None, 'balanced' or a dict")]:
        with pytest.raises(ValueError, match=message):
            TinyNetClassifier(class_weight=class_weight).fit(x, y)
    with pytest.raises(ValueError, match="class_weight='balanced' needs all of y at once"):
        TinyNetClassifier(class_weight="balanced").partial_fit(x, y, classes=np.unique(y))
    with pytest.raises(ValueError, match="weight"):
        TinyNetClassifier().fit(x, y, sample_weight=-np.ones(150))
