"""Behaviour of the semi-supervised detectors: self-training, PU learning, anomaly features.

Labels are 1 (malicious), 0 (benign) or NaN (unlabeled). Every comparison is seeded and
measured against plain LightGBM (the same small settings) trained on the labeled rows.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors

from seclearn.errors import ModelError
from seclearn.models import Detector, make_detector
from seclearn.models.base import Kind
from seclearn.models.pu import PULearningDetector, estimate_prior
from seclearn.models.supervised import LightGBMDetector
from seclearn.pipeline import DetectionPipeline


def small_lightgbm() -> Detector:
    """LightGBM small enough to learn from a few dozen labeled rows."""
    return make_detector("lightgbm", n_estimators=50, min_child_samples=5, n_jobs=1)


def gaussian(
    rng: np.random.Generator, n: int = 3000, d: int = 8, shift: float = 0.9, prior: float = 0.3
) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian classes, malicious shifted by ``shift`` in every feature."""
    y = (rng.random(n) < prior).astype(np.float64)
    X = rng.normal(size=(n, d)) + shift * y[:, None]
    return X, y


def keep_labels(rng: np.random.Generator, y: np.ndarray, per_class: dict[int, int]) -> np.ndarray:
    """``y`` with all but ``per_class[v]`` random labels of each class set to NaN."""
    out = np.full(len(y), np.nan)
    for value, count in per_class.items():
        rows = rng.choice(np.flatnonzero(y == value), count, replace=False)
        out[rows] = value
    return out


class RecordingLightGBM(LightGBMDetector):
    """LightGBM that keeps the rows and targets of its last fit (to see pseudo-labels)."""

    name: ClassVar[str] = "recording_lightgbm"

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        self.seen_X_, self.seen_y_ = X.copy(), None if y is None else y.copy()
        super()._fit(X, y)


class NearestNeighbourDistance(Detector):
    """Anomaly score = distance to the nearest training row: 0 on every training row.

    In-sample scores of such a detector say "seen in training", nothing about the row,
    which makes it the sharpest probe for in-sample anomaly features.
    """

    name: ClassVar[str] = "nearest_neighbour_distance"
    kind: ClassVar[Kind] = "anomaly"

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        self.index_ = NearestNeighbors(n_neighbors=1).fit(X)

    def _risk(self, X: np.ndarray) -> np.ndarray:
        return self.index_.kneighbors(X)[0][:, 0]


# ------------------------------------------------------------------ self-training
#: Measured on the data of the test below (5 seeds): mean ROC-AUC change -0.03 (-0.04 to 0.00).
#: Training LightGBM on the labeled rows plus the 480 most confident unlabeled rows with their
#: true labels still lowered ROC-AUC in 3 of 4 seeds (0.861 -> 0.824, say), while 480 random
#: rows with true labels raised it to 0.94: the selection, not the pseudo-labels' errors, hurts.
SELF_TRAINING_XFAIL = (
    "confidence-selected pseudo-labels lie far from the boundary, where the labeled-only trees "
    "are already sure: they add no new split and outweigh the labeled rows "
    "(confirmation bias), so self-training over LightGBM does not beat LightGBM here"
)


@pytest.mark.xfail(strict=True, reason=SELF_TRAINING_XFAIL)
def test_self_training_beats_lightgbm_on_the_labeled_rows_alone():
    gains = []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        X, y = gaussian(rng)
        X_test, y_test = gaussian(rng)
        labels = keep_labels(rng, y, {0: 20, 1: 10})
        labeled = ~np.isnan(labels)
        plain = small_lightgbm().fit(X[labeled], labels[labeled])
        semi = make_detector(
            "self_training", base=small_lightgbm(), threshold=0.9, max_iter=8, max_new_share=2.0
        ).fit(X, labels)
        gains.append(
            roc_auc_score(y_test, semi.risk_score(X_test))
            - roc_auc_score(y_test, plain.risk_score(X_test))
        )
    assert np.mean(gains) >= 0.02 and min(gains) > 0, gains


def test_self_training_pseudo_labels_never_overwrite_given_labels():
    rng = np.random.default_rng(0)
    X, y = gaussian(rng, n=1500, shift=2.0)
    labels = keep_labels(rng, y, {0: 40, 1: 20})
    labeled = np.flatnonzero(~np.isnan(labels))
    flipped = labeled[:6]  # given labels the model will confidently disagree with
    labels[flipped] = 1.0 - labels[flipped]
    base = RecordingLightGBM(n_estimators=30, min_child_samples=5, n_jobs=1)
    detector = make_detector("self_training", base=base).fit(X, labels)
    assert detector.pseudo_labels_["malicious"] + detector.pseudo_labels_["benign"] > 0
    final = detector.base_
    assert isinstance(final, RecordingLightGBM) and final.seen_y_ is not None
    position = {row.tobytes(): i for i, row in enumerate(X)}
    seen = np.array([position[row.tobytes()] for row in final.seen_X_])
    assert len(np.unique(seen)) == len(seen)  # no row trained twice (labeled and pseudo)
    given = ~np.isnan(labels[seen])
    assert set(seen[given]) == set(labeled)
    np.testing.assert_array_equal(final.seen_y_[given], labels[seen[given]])


def test_self_training_respects_the_max_new_share_cap_per_round():
    rng = np.random.default_rng(1)
    X, y = gaussian(rng, n=2000, shift=2.0)
    labels = keep_labels(rng, y, {0: 30, 1: 12})
    detector = make_detector(
        "self_training", base=small_lightgbm(), threshold=0.8, max_iter=4, max_new_share=0.5
    ).fit(X, labels)
    rounds = detector.pseudo_labels_["rounds"]
    assert rounds, "no pseudo-labels at all: the cap was never tested"
    caps = {"benign": int(0.5 * 30), "malicious": int(0.5 * 12)}
    for r in rounds:
        assert r["benign"] <= caps["benign"] and r["malicious"] <= caps["malicious"], (r, caps)
    assert any(r["benign"] == caps["benign"] for r in rounds)  # the cap bound at least once
    for cls in ("benign", "malicious"):
        assert sum(r[cls] for r in rounds) == detector.pseudo_labels_[cls]


def test_self_training_does_not_pick_pseudo_labels_by_row_order():
    """Trees tie hundreds of rows in confidence; the rows picked must not be the first ones."""
    rng = np.random.default_rng(1)
    X, y = gaussian(rng, n=2000, shift=2.0)
    labels = keep_labels(rng, y, {0: 30, 1: 12})
    unlabeled = np.flatnonzero(np.isnan(labels))
    order = np.r_[np.flatnonzero(~np.isnan(labels)), unlabeled[np.argsort(X[unlabeled, 0])]]
    X, labels = X[order], labels[order]  # unlabeled rows sorted by the first feature
    base = RecordingLightGBM(n_estimators=50, min_child_samples=5, n_jobs=1)
    detector = make_detector("self_training", base=base, max_iter=1, max_new_share=0.5)
    detector.fit(X, labels)
    final = detector.base_
    assert isinstance(final, RecordingLightGBM) and final.seen_y_ is not None
    position = {row.tobytes(): i for i, row in enumerate(X)}
    seen = np.array([position[row.tobytes()] for row in final.seen_X_])
    benign = seen[np.isnan(labels[seen]) & (final.seen_y_ == 0)]
    assert len(benign) == 15
    # the confident benign rows tie; by row order they would be the 15 lowest first features
    rank = np.searchsorted(np.sort(X[np.isnan(labels), 0]), X[benign, 0]) / np.isnan(labels).sum()
    assert rank.mean() > 0.1, np.sort(rank)


# ---------------------------------------------------------------- PU learning
def pu_data(
    rng: np.random.Generator, *, n_unlabeled: int, prior: float, n_confirmed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unlabeled rows holding ``prior`` hidden threats, plus ``n_confirmed`` labeled threats.

    Returns X, labels (1 confirmed, NaN unlabeled) and the truth.
    """
    hidden = rng.random(n_unlabeled) < prior
    truth = np.r_[hidden.astype(np.float64), np.ones(n_confirmed)]
    X = rng.normal(size=(len(truth), 6))
    X[truth == 1, :3] += 2.0
    labels = np.r_[np.full(n_unlabeled, np.nan), np.ones(n_confirmed)]
    return X, labels, truth


def test_pu_learning_ranks_hidden_threats_above_benign_rows():
    rng = np.random.default_rng(0)
    X, labels, truth = pu_data(rng, n_unlabeled=3000, prior=0.1, n_confirmed=30)
    detector = make_detector("pu_learning", base=small_lightgbm()).fit(X, labels)
    unlabeled = np.isnan(labels)
    auc = roc_auc_score(truth[unlabeled], detector.risk_score(X[unlabeled]))
    X_new, _, truth_new = pu_data(rng, n_unlabeled=2000, prior=0.1, n_confirmed=0)
    auc_new = roc_auc_score(truth_new, detector.risk_score(X_new))
    assert auc >= 0.9 and auc_new >= 0.9, (auc, auc_new)


@pytest.mark.parametrize("prior", [0.05, 0.15, 0.3])
def test_pu_learning_prior_estimate_is_near_the_true_prior(prior):
    rng = np.random.default_rng(2)
    X, labels, truth = pu_data(rng, n_unlabeled=3000, prior=prior, n_confirmed=150)
    detector = make_detector("pu_learning", base=small_lightgbm()).fit(X, labels)
    true_prior = float(truth[np.isnan(labels)].mean())
    # measured: 0.045 / 0.191 / 0.391 for true 0.043 / 0.149 / 0.305 (it errs high, by design)
    assert true_prior / 1.5 <= detector.prior_ <= 1.5 * true_prior, (detector.prior_, true_prior)


def test_prior_estimate_is_zero_without_unlabeled_rows_and_kept_on_save(tmp_path):
    assert estimate_prior(np.array([0.9, 0.8]), np.array([])) == 0.0
    rng = np.random.default_rng(3)
    X, labels, _ = pu_data(rng, n_unlabeled=400, prior=0.2, n_confirmed=20)
    detector = make_detector("pu_learning", base=small_lightgbm(), n_estimators=3).fit(X, labels)
    detector.save(tmp_path / "pu")
    loaded = Detector.load(tmp_path / "pu")
    assert isinstance(loaded, PULearningDetector) and isinstance(detector, PULearningDetector)
    assert loaded.prior_ == detector.prior_


# ------------------------------------------------------- anomaly features (augmented)
def test_anomaly_features_are_out_of_fold_so_a_memorising_detector_leaks_nothing():
    """Pure noise: labels carry no signal, so honest out-of-fold scores have ROC-AUC near 0.5.

    With in-sample anomaly scores, every benign or unlabeled training row would score 0
    (it is its own nearest neighbour) and every labeled threat more, and the supervised
    model would learn "anomaly score > 0 means malicious": ROC-AUC near 1 on training
    rows, which the control below shows.
    """
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1200, 4))
    y = (rng.random(1200) < 0.3).astype(np.float64)
    labels = keep_labels(rng, y, {0: 200, 1: 100})
    labeled = ~np.isnan(labels)
    detector = make_detector(
        "anomaly_features", supervised=small_lightgbm(), anomaly=(NearestNeighbourDistance(),)
    )
    oof = detector.fit_oof(X, labels)
    honest = roc_auc_score(labels[labeled], oof[labeled])
    assert 0.35 < honest < 0.65, honest

    # control: the same supervised model on in-sample anomaly scores does leak
    reference = labels != 1
    in_sample = NearestNeighbourDistance().fit(X[reference]).risk_score(X)
    leaky = make_detector("lightgbm", n_estimators=50, min_child_samples=5, n_jobs=1)
    leaked = leaky.fit_oof(np.column_stack([X, in_sample])[labeled], labels[labeled])
    assert roc_auc_score(labels[labeled], leaked) > 0.95

    # and scoring new rows uses the same kind of value the model trained on
    X_new = rng.normal(size=(400, 4))
    augmented = detector.augment(X_new)
    assert augmented.shape == (400, 5) and (augmented[:, -1] > 0).all()


def outliers(rng: np.random.Generator, n: int = 3000, prior: float = 0.05) -> tuple:
    """Benign rows Gaussian; each attack far out in a random direction of 6 features."""
    y = (rng.random(n) < prior).astype(np.float64)
    X = rng.normal(size=(n, 6))
    direction = rng.normal(size=(n, 6))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    X[y == 1] += 5.0 * direction[y == 1]
    return X, y


def test_anomaly_features_help_when_labels_are_very_few():
    gains = []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        X, y = outliers(rng)
        X_test, y_test = outliers(rng)
        labels = keep_labels(rng, y, {0: 40, 1: 6})
        labeled = ~np.isnan(labels)
        plain = small_lightgbm().fit(X[labeled], labels[labeled])
        augmented = make_detector("anomaly_features", supervised=small_lightgbm()).fit(X, labels)
        plain_auc = roc_auc_score(y_test, plain.risk_score(X_test))
        gains.append(roc_auc_score(y_test, augmented.risk_score(X_test)) - plain_auc)
    assert min(gains) >= 0.05, gains


# ------------------------------------------------------------------ bad inputs
@pytest.mark.parametrize("name", ["self_training", "anomaly_features", "pu_learning"])
def test_no_labeled_rows_raise_a_model_error_that_says_what_to_label(name):
    X = np.random.default_rng(0).normal(size=(200, 3))
    with pytest.raises(ModelError, match=r"Label a few .*anomaly detector"):
        make_detector(name).fit(X, np.full(200, np.nan))


@pytest.mark.parametrize("only", [0.0, 1.0])
def test_self_training_with_one_class_labeled_names_the_fix(only):
    X = np.random.default_rng(0).normal(size=(200, 3))
    labels = np.full(200, np.nan)
    labels[:20] = only
    with pytest.raises(
        ModelError, match=r"needs both benign \(0\) and malicious \(1\).*pu_learning"
    ):
        make_detector("self_training").fit(X, labels)


def test_pu_learning_without_positives_names_the_fix():
    X = np.random.default_rng(0).normal(size=(200, 3))
    labels = np.full(200, np.nan)
    labels[:50] = 0.0  # confirmed benign rows, but no confirmed threat
    with pytest.raises(ModelError, match=r"got 0 malicious.*Label a few confirmed threats"):
        make_detector("pu_learning").fit(X, labels)


def test_pipeline_hands_unlabeled_rows_to_a_semi_supervised_detector():
    rng = np.random.default_rng(0)
    X, y = gaussian(rng, n=800, d=3, shift=2.5)
    labels = keep_labels(rng, y, {0: 60, 1: 30})
    frame = pd.DataFrame(X, columns=["src_bytes", "dst_bytes", "duration_s"])
    frame["label"] = pd.array(labels, dtype="Float64")
    detector = make_detector("pu_learning", base=small_lightgbm())
    pipeline = DetectionPipeline(detector=detector).fit(frame)
    assert pipeline.n_train_ == 800 and pipeline.detector_.n_background_ == 800 - 30
    scores = pipeline.risk_score(frame)
    assert roc_auc_score(y, scores) > 0.9 and ((scores >= 0) & (scores <= 1)).all()
