"""The common detector suite: every registered detector goes through the same checks.

A known failure is declared with its reason (``xfail(strict=True)``), never skipped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from seclearn.errors import (
    ConfigError,
    FeatureMismatchError,
    ModelError,
    NotFittedError,
    ParameterError,
)
from seclearn.models import DETECTORS, Detector, make_detector
from seclearn.pipeline import DetectionPipeline

#: Small settings so that the whole suite stays fast on two cores.
SMALL: dict[str, dict] = {
    "lightgbm": {"n_estimators": 30, "n_jobs": 1},
    "random_forest": {"n_estimators": 30, "n_jobs": 1},
    "isolation_forest": {"n_estimators": 50, "n_jobs": 1},
    "hist_gradient_boosting": {"max_iter": 30},
}
SAFE_SUFFIXES = {".json", ".txt", ".npz", ".skops"}
PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")


def small(name: str) -> Detector:
    if name == "hybrid":
        return make_detector(
            "hybrid",
            supervised=small("lightgbm"),
            anomaly=small("isolation_forest"),
            anomaly_weight=0.5,
        )
    if name in COMPOSITE:
        return make_detector(name, **COMPOSITE[name]())
    return make_detector(name, **SMALL.get(name, {}))


#: Composite detectors get small members (built fresh for every call).
COMPOSITE = {
    "bagging": lambda: {"base": small("lightgbm"), "n_estimators": 3},
    "stacking": lambda: {"members": (small("lightgbm"), small("ecod"))},
    "soft_voting": lambda: {"members": (small("lightgbm"), small("random_forest"))},
    "self_training": lambda: {"base": small("lightgbm"), "max_iter": 1},
    "pu_learning": lambda: {"base": small("lightgbm"), "n_estimators": 3},
    "anomaly_features": lambda: {"supervised": small("lightgbm"), "anomaly": (small("ecod"),)},
}


def planted(
    seed: int, n_benign: int = 600, n_attack: int = 60, d: int = 6
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian benign rows; attacks far out in two of the features."""
    rng = np.random.default_rng(seed)
    benign = rng.normal(0, 1, (n_benign, d))
    attack = rng.normal(0, 1, (n_attack, d))
    attack[:, 0] += 6
    attack[:, 1] -= 5
    return np.vstack([benign, attack]).astype(np.float32), np.r_[
        np.zeros(n_benign), np.ones(n_attack)
    ]


def correlated(seed: int, n_benign: int = 800, n_attack: int = 80) -> tuple[np.ndarray, np.ndarray]:
    """Benign rows have x1 ~ x0; attacks have x1 ~ -x0, with every marginal inside the benign range."""
    rng = np.random.default_rng(seed)
    x0 = rng.normal(0, 1, n_benign + n_attack)
    x0[n_benign:] = rng.choice([-1, 1], n_attack) * rng.uniform(1.0, 2.0, n_attack)
    sign = np.r_[np.ones(n_benign), -np.ones(n_attack)]
    x1 = sign * x0 + rng.normal(0, 0.1, len(x0))
    noise = rng.normal(0, 1, (len(x0), 2))
    return np.column_stack([x0, x1, noise]).astype(np.float32), np.r_[
        np.zeros(n_benign), np.ones(n_attack)
    ]


ALL = sorted(DETECTORS)
INDEPENDENT_FEATURES = (
    "scores each feature on its own, so attacks that only break a correlation look normal"
)
CORRELATION_XFAIL = {
    "ecod": INDEPENDENT_FEATURES,
    "hbos": INDEPENDENT_FEATURES,
    "logistic_regression": "a linear model cannot separate x1 ~ x0 from x1 ~ -x0 (an XOR-like boundary)",
    "isolation_forest": "axis-parallel random cuts isolate points off a diagonal only slowly (AUC about 0.85 "
    "here; the weakness the Extended Isolation Forest addresses)",
}


def _mark(name: str, reasons: dict[str, str]):
    return (
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=reasons[name]))
        if name in reasons
        else name
    )


@pytest.mark.parametrize("name", ALL)
def test_fit_returns_self_and_sets_learned_attributes(name):
    X, y = planted(0)
    detector = small(name)
    assert detector.fit(X, y) is detector
    assert detector.n_features_in_ == X.shape[1]
    assert detector.kind in ("supervised", "anomaly", "hybrid", "semi_supervised")
    assert detector.name == name


@pytest.mark.parametrize("name", ALL)
def test_fit_and_scoring_do_not_mutate_their_input(name):
    X, y = planted(0)
    X[::17, 2] = np.nan  # missing values must not be imputed in place
    X_before, y_before = X.copy(), y.copy()
    detector = small(name).fit(X, y)
    detector.risk_score(X)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


@pytest.mark.parametrize("name", ALL)
def test_seeded_fits_give_identical_scores(name):
    X, y = planted(0)
    test, _ = planted(1)
    np.testing.assert_array_equal(
        small(name).fit(X, y).risk_score(test), small(name).fit(X, y).risk_score(test)
    )


@pytest.mark.parametrize("name", ALL)
def test_save_load_round_trip_gives_identical_scores_and_only_non_executable_files(
    name, tmp_path: Path
):
    X, y = planted(0)
    test, _ = planted(2)
    detector = small(name).fit(X, y)
    files = detector.save(tmp_path / "model")
    on_disk = sorted(p for p in (tmp_path / "model").rglob("*") if p.is_file())
    assert sorted(files) == on_disk
    assert {p.suffix for p in on_disk} <= SAFE_SUFFIXES, [p.name for p in on_disk]
    for path in on_disk:
        assert not path.read_bytes().startswith(PICKLE_MAGIC), path
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                assert all(data[k].dtype != object for k in data.files)
    restored = Detector.load(tmp_path / "model")
    assert type(restored) is type(detector) and repr(restored) == repr(detector)
    np.testing.assert_array_equal(restored.risk_score(test), detector.risk_score(test))


@pytest.mark.parametrize("name", ALL)
def test_planted_attacks_score_higher_than_benign_rows(name):
    X, y = planted(0)
    test, y_test = planted(3)
    scores = small(name).fit(X, y).risk_score(test)
    assert scores.dtype == np.float64 and np.isfinite(scores).all()
    assert roc_auc_score(y_test, scores) > 0.9


@pytest.mark.parametrize("name", [_mark(n, CORRELATION_XFAIL) for n in ALL])
def test_attacks_that_only_break_a_correlation_score_higher(name):
    X, y = correlated(0)
    test, y_test = correlated(4)
    assert roc_auc_score(y_test, small(name).fit(X, y).risk_score(test)) > 0.9


@pytest.mark.parametrize("name", ALL)
def test_scoring_a_matrix_of_the_wrong_width_is_a_feature_mismatch(name):
    X, y = planted(0)
    detector = small(name).fit(X, y)
    with pytest.raises(FeatureMismatchError, match="fitted on 6 features; got 5"):
        detector.risk_score(X[:, :5])


@pytest.mark.parametrize("name", ALL)
def test_scoring_before_fit_says_how_to_fix(name):
    with pytest.raises(NotFittedError, match="Call fit"):
        small(name).risk_score(np.zeros((2, 6)))


@pytest.mark.parametrize("name", [n for n in ALL if DETECTORS[n].kind != "anomaly"])
def test_supervised_detectors_refuse_single_class_training_data(name):
    X, _ = planted(0)
    with pytest.raises(ModelError, match="both benign"):
        small(name).fit(X, np.zeros(len(X)))


# ---------------------------------------------------------------- through a pipeline
def _frame(seed: int, n: int = 500) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    attack = rng.random(n) < 0.15
    return pd.DataFrame(
        {
            "dst_port": pd.array(
                np.where(attack, rng.integers(1, 1024, n), rng.choice([80, 443], n)), dtype="Int64"
            ),
            "proto": pd.array(np.where(attack, "tcp", rng.choice(["tcp", "udp"], n)), dtype="str"),
            "service": pd.array(np.where(attack, "-", rng.choice(["http", "ssl"], n)), dtype="str"),
            "duration_s": np.where(attack, 0.0, rng.exponential(2, n)),
            "src_bytes": np.where(attack, 0.0, rng.lognormal(6, 1, n)),
            "dst_bytes": np.where(attack, 0.0, rng.lognormal(8, 1, n)),
            "src_pkts": np.where(attack, 1.0, rng.poisson(8, n) + 1.0),
            "dst_pkts": np.where(attack, 1.0, rng.poisson(9, n) + 1.0),
            "label": pd.array(attack.astype(int), dtype="Int8"),
            "attack_type": pd.array(np.where(attack, "scan", "benign"), dtype="str"),
        }
    )


@pytest.fixture(scope="module", params=ALL)
def fitted_pipeline(request) -> tuple[str, DetectionPipeline]:
    return request.param, DetectionPipeline(detector=small(request.param), cv_folds=2).fit(
        _frame(0)
    )


def test_pipeline_scores_ignore_column_order_and_new_fields(fitted_pipeline):
    _, pipeline = fitted_pipeline
    frame = _frame(1)
    expected = pipeline.risk_score(frame)
    shuffled = frame[list(reversed(frame.columns))].assign(never_seen=7.0, note="x")
    np.testing.assert_array_equal(pipeline.risk_score(shuffled), expected)


def test_pipeline_scores_records_with_missing_fields(fitted_pipeline):
    _, pipeline = fitted_pipeline
    scores = pipeline.risk_score(_frame(1).drop(columns=["service", "dst_bytes"]))
    assert np.isfinite(scores).all() and ((scores >= 0) & (scores <= 1)).all()


def test_registry_lists_every_detector_with_a_kind():
    assert set(DETECTORS) == {
        "lightgbm",
        "lightgbm_monotone",
        "random_forest",
        "logistic_regression",
        "isolation_forest",
        "ecod",
        "hbos",
        "hybrid",
        "hist_gradient_boosting",
        "bagging",
        "stacking",
        "soft_voting",
        "self_training",
        "pu_learning",
        "anomaly_features",
    }
    assert {c.kind for c in DETECTORS.values()} == {
        "supervised",
        "anomaly",
        "hybrid",
        "semi_supervised",
    }


def test_unknown_detector_names_list_the_known_ones():
    with pytest.raises(
        ConfigError,
        match="Known detectors: anomaly_features, bagging, ecod, hbos, hist_gradient_boosting, hybrid",
    ):
        make_detector("xgboost")
    with pytest.raises(ConfigError, match="does not take parameters"):
        make_detector("ecod", n_estimators=5)


def test_detector_parameters_are_checked_in_fit_with_a_clear_message():
    X, y = planted(0)
    with pytest.raises(
        ParameterError,
        match=r"The 'n_estimators' parameter of LightGBMDetector must be an int "
        r"in \[1, 100000\]\. Got 0 instead\.",
    ):
        make_detector("lightgbm", n_estimators=0).fit(X, y)
    with pytest.raises(ParameterError, match="'combine' parameter of HybridDetector"):
        make_detector("hybrid", combine="mean").fit(X, y)
