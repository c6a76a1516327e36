"""All-trees-at-once predictions equal scikit-learn's own, to the last bit."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from digitd.pipeline.boosted import predict_classes, predict_probabilities


def _data(n_classes: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(400, 6)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] ** 2 > 0.3).astype(int)
    if n_classes > 2:
        y += (x[:, 2] > 0.5).astype(int) + (x[:, 3] > 1.0).astype(int)
    x[rng.random(x.shape) < 0.05] = np.nan  # learned missing-value directions
    return x, np.asarray(["a", "b", "c", "d"])[y]


@pytest.mark.parametrize("n_classes", [2, 4])
def test_boosted_predictions_equal_scikit_learn(n_classes: int) -> None:
    x, y = _data(n_classes)
    model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(x, y)
    assert len(model.classes_) == n_classes
    queries, _ = _data(n_classes, seed=1)
    np.testing.assert_array_equal(
        predict_probabilities(model, queries), model.predict_proba(queries)
    )
    np.testing.assert_array_equal(predict_classes(model, queries), model.predict(queries))
    np.testing.assert_array_equal(
        predict_probabilities(model, queries[:1]), model.predict_proba(queries[:1])
    )


def test_other_estimators_use_their_own_predictions() -> None:
    x, y = _data(2)
    x = np.nan_to_num(x)
    model = LogisticRegression().fit(x, y)
    np.testing.assert_array_equal(predict_probabilities(model, x), model.predict_proba(x))
    np.testing.assert_array_equal(predict_classes(model, x), model.predict(x))
