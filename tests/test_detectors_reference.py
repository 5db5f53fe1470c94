"""Wrapped third-party models: same scores as the reference library, one score direction, safe loading."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.ensemble import IsolationForest, RandomForestClassifier

from seclearn.errors import ModelError
from seclearn.models import (
    ECODDetector,
    HBOSDetector,
    IsolationForestDetector,
    RandomForestDetector,
)
from seclearn.models._skops import dump_skops, load_skops


def _data(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = np.column_stack(
        [
            rng.normal(0, 1, 400),
            rng.lognormal(0, 1, 400),
            rng.exponential(1, 400),
            rng.integers(0, 3, 400).astype(float),
        ]
    )
    return X


def test_hbos_scores_equal_pyod_hbos_decision_function():
    from pyod.models.hbos import HBOS

    X, test = _data(0), _data(1) * 1.5
    ours = HBOSDetector(n_bins=10, alpha=0.1, tol=0.5).fit(X)
    reference = HBOS(n_bins=10, alpha=0.1, tol=0.5).fit(X)
    np.testing.assert_allclose(ours.risk_score(test), reference.decision_function(test), rtol=1e-10)


def test_ecod_ranks_training_rows_like_pyod_ecod():
    from pyod.models.ecod import ECOD

    X = _data(0)
    ours = ECODDetector().fit(X).risk_score(X)
    reference = ECOD().fit(X).decision_scores_
    assert spearmanr(ours, reference).statistic > 0.99


def test_ecod_scores_a_record_the_same_whatever_batch_it_arrives_in():
    X, test = _data(0), _data(1)
    detector = ECODDetector().fit(X)
    alone = np.array([detector.risk_score(test[i : i + 1])[0] for i in range(5)])
    np.testing.assert_allclose(alone, detector.risk_score(test)[:5])


def test_isolation_forest_direction_is_converted_once_in_its_wrapper():
    X, test = _data(0), _data(2)
    ours = IsolationForestDetector(n_estimators=50, n_jobs=1, random_state=3).fit(X)
    sk = IsolationForest(n_estimators=50, random_state=3).fit(X)
    np.testing.assert_allclose(ours.risk_score(test), -sk.score_samples(test))
    far = np.array([[8.0, 50.0, 20.0, 2.0]])
    assert ours.risk_score(far)[0] > np.quantile(ours.risk_score(X), 0.99)


def test_skops_files_asking_for_types_outside_the_fixed_list_are_refused(tmp_path):
    X = _data(0)
    path = dump_skops(
        RandomForestClassifier(n_estimators=3, random_state=0).fit(X, X[:, 3] > 0),
        tmp_path / "m.skops",
    )
    with pytest.raises(ModelError, match=r"needs types \['sklearn.tree._tree.Tree'\].*refusing"):
        load_skops(path, trusted=(), expected=RandomForestClassifier)
    with pytest.raises(
        ModelError, match="holds a RandomForestClassifier, expected a IsolationForest"
    ):
        load_skops(path, trusted=IsolationForestDetector.SKOPS_TRUSTED, expected=IsolationForest)
    assert isinstance(
        load_skops(
            path, trusted=RandomForestDetector.SKOPS_TRUSTED, expected=RandomForestClassifier
        ),
        RandomForestClassifier,
    )


def test_damaged_or_missing_model_files_raise_model_errors(tmp_path):
    detector = ECODDetector().fit(_data(0))
    detector.save(tmp_path / "m")
    (tmp_path / "m" / "ecod.npz").unlink()
    with pytest.raises(ModelError, match="Missing model file"):
        ECODDetector.load(tmp_path / "m")
    (tmp_path / "m" / "detector.json").write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        ECODDetector.load(tmp_path / "m")
