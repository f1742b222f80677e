"""A hyperparameter search over TinyNetClassifier on a Dask cluster of worker processes gives the
search run here with n_jobs=1: the recipe of docs/scaling.md."""

import joblib
import numpy as np
import pytest
from helpers.runs import scaled_iris
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from tinynet.sklearn import TinyNetClassifier

distributed = pytest.importorskip("distributed")


def search(n_jobs: int | None) -> GridSearchCV:
    model = TinyNetClassifier(hidden_layer_sizes=(8,), epochs=60, batch_size=16, tol=1e-2,
                              n_iter_no_change=2, random_state=0)
    grid = {"learning_rate": [1e-2, 1e-1], "hidden_layer_sizes": [(4,), (8,)]}
    return GridSearchCV(model, grid, cv=StratifiedKFold(3, shuffle=True, random_state=0), n_jobs=n_jobs)


def test_grid_search_on_a_local_dask_cluster_equals_the_local_search():
    x, y = scaled_iris()
    local = search(n_jobs=1).fit(x, y)
    # Two worker processes of one thread each: the models are fitted outside this process,
    # sent there and back by pickle, as on a real cluster.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster, distributed.Client(cluster) as client:
        with distributed.get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
            remote = search(n_jobs=-1).fit(x, y)
        workers = {task["worker"] for task in tasks.data}
        ran = len(tasks.data)
    assert ran >= 4 * 3 and len(workers) == 2  # every (candidate, fold) fit, on both workers
    assert remote.best_params_ == local.best_params_
    assert remote.best_score_ == local.best_score_
    for key in ("mean_test_score", *[f"split{i}_test_score" for i in range(3)]):
        np.testing.assert_array_equal(remote.cv_results_[key], local.cv_results_[key], err_msg=key)
    assert list(remote.cv_results_["params"]) == list(local.cv_results_["params"])
    # The refitted best model predicts as the local one: same weights, bit for bit.
    np.testing.assert_array_equal(remote.predict_proba(x), local.predict_proba(x))
    assert local.best_score_ > 0.8
