"""Ensembles (bagging, stacking, soft voting, histogram boosting) on planted problems."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from seclearn.errors import ConfigError, ParameterError
from seclearn.models import Detector, make_detector
from seclearn.models._members import logit
from seclearn.models.base import Kind


def lgbm() -> Detector:
    return make_detector("lightgbm", n_estimators=40, n_jobs=1)


def correlated(
    seed: int, n_benign: int = 800, n_attack: int = 120
) -> tuple[np.ndarray, np.ndarray]:
    """Benign x1 ~ x0, attacks x1 ~ -x0: trees see it, a linear model cannot (XOR-like)."""
    rng = np.random.default_rng(seed)
    x0 = rng.normal(0, 1, n_benign + n_attack)
    x0[n_benign:] = rng.choice([-1, 1], n_attack) * rng.uniform(1.0, 2.0, n_attack)
    sign = np.r_[np.ones(n_benign), -np.ones(n_attack)]
    x1 = sign * x0 + rng.normal(0, 0.1, len(x0))
    X = np.column_stack([x0, x1, rng.normal(0, 1, (len(x0), 2))]).astype(np.float32)
    return X, np.r_[np.zeros(n_benign), np.ones(n_attack)]


class Memoriser(Detector):
    """Scores 1 on the malicious rows it trained on and noise anywhere else.

    In-sample it is a perfect detector; on any row it did not train on it is useless.
    A combiner that saw its in-sample scores would trust it completely.
    """

    name: ClassVar[str] = "memoriser"
    kind: ClassVar[Kind] = "supervised"

    def __init__(self, *, random_state: int = 0) -> None:
        self.random_state = random_state

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        assert y is not None
        self.seen_ = {row.tobytes() for row in np.ascontiguousarray(X[y == 1])}

    def _risk(self, X: np.ndarray) -> np.ndarray:
        noise = np.random.default_rng(self.random_state).random(len(X)) * 0.5
        seen = np.array([row.tobytes() in self.seen_ for row in np.ascontiguousarray(X)])
        return np.where(seen, 1.0, noise)


def test_memoriser_is_perfect_in_sample_and_useless_out_of_sample():
    X, y = correlated(0)
    test, y_test = correlated(1)
    member = Memoriser().fit(X, y)
    assert roc_auc_score(y, member.risk_score(X)) == 1.0
    assert abs(roc_auc_score(y_test, member.risk_score(test)) - 0.5) < 0.1


def test_stacking_does_not_trust_a_member_that_memorises_training_rows():
    X, y = correlated(0)
    test, y_test = correlated(1)
    stack = make_detector("stacking", members=(lgbm(), Memoriser()))
    oof = stack.fit_oof(X, y)
    # each member's weight times the spread of its input: what it moves the score by
    effect = np.abs(stack.meta_coef_) * logit(stack.member_scores(test)).std(axis=0)
    assert effect[1] < 0.1 * effect[0], (stack.meta_coef_, effect)
    alone = roc_auc_score(y_test, lgbm().fit(X, y).risk_score(test))
    assert roc_auc_score(y_test, stack.risk_score(test)) >= alone - 0.02
    # the out-of-fold scores are as honest as the test scores: not inflated to 1
    assert roc_auc_score(y, oof) < 0.999


@pytest.mark.parametrize(
    "name, params",
    [
        ("stacking", {"members": (Memoriser(), Memoriser(random_state=1))}),
        ("soft_voting", {"members": (Memoriser(), Memoriser(random_state=1))}),
        ("bagging", {"base": Memoriser(), "n_estimators": 3}),
    ],
)
def test_out_of_fold_scores_carry_no_signal_when_members_only_memorise(name, params):
    X, y = correlated(0)
    y = np.random.default_rng(5).permutation(y)  # labels unrelated to X: nothing to learn
    oof = make_detector(name, **params).fit_oof(X, y)
    assert abs(roc_auc_score(y, oof) - 0.5) < 0.08


def test_stacking_beats_its_weakest_member_and_keeps_up_with_the_best():
    X, y = correlated(0)
    test, y_test = correlated(1)
    members = {"lightgbm": lgbm(), "logistic_regression": make_detector("logistic_regression")}
    auc = {n: roc_auc_score(y_test, m.fit(X, y).risk_score(test)) for n, m in members.items()}
    stack = make_detector("stacking", members=(lgbm(), make_detector("logistic_regression")))
    stacked = roc_auc_score(y_test, stack.fit(X, y).risk_score(test))
    assert auc["logistic_regression"] < 0.8 < auc["lightgbm"], auc
    assert stacked > min(auc.values()) + 0.15 and stacked >= max(auc.values()) - 0.02, (
        stacked,
        auc,
    )


def test_soft_voting_is_the_weighted_mean_of_calibrated_member_scores():
    X, y = correlated(0)
    test, _ = correlated(1)
    vote = make_detector(
        "soft_voting",
        members=(lgbm(), make_detector("random_forest", n_estimators=20, n_jobs=1)),
        weights=(3.0, 1.0),
    ).fit(X, y)
    parts = vote.member_scores(test)
    assert parts.shape == (len(test), 2) and ((parts >= 0) & (parts <= 1)).all()
    np.testing.assert_allclose(vote.risk_score(test), 0.75 * parts[:, 0] + 0.25 * parts[:, 1])


def test_bagging_an_anomaly_base_calibrates_members_to_benign_quantiles():
    X, y = correlated(0)
    bag = make_detector("bagging", base="ecod", n_estimators=3).fit(X, y)
    scores = bag.risk_score(X[y == 0])
    assert len(bag.members_) == 3 and ((scores >= 0) & (scores <= 1)).all()
    assert 0.3 < np.median(scores) < 0.7  # benign rows sit mid-range of the benign reference


def test_bagging_beats_a_single_deep_tree_model_on_noisy_labels():
    X, y = correlated(0)
    test, y_test = correlated(1)
    flip = np.random.default_rng(0).random(len(y)) < 0.1
    noisy = np.where(flip, 1 - y, y)
    deep = dict(n_estimators=200, learning_rate=0.3, num_leaves=64, min_child_samples=2, n_jobs=1)
    single = roc_auc_score(y_test, make_detector("lightgbm", **deep).fit(X, noisy).risk_score(test))
    bag = make_detector("bagging", base=make_detector("lightgbm", **deep), n_estimators=6)
    bagged = roc_auc_score(y_test, bag.fit(X, noisy).risk_score(test))
    assert bagged > single, (bagged, single)


def test_mixed_member_specs_round_trip_bit_identical(tmp_path: Path):
    X, y = correlated(0)
    test, _ = correlated(2)
    stack = make_detector("stacking", members=("ecod", lgbm()), meta_C=0.5).fit(X, y)
    stack.save(tmp_path / "stack")
    restored = Detector.load(tmp_path / "stack")
    assert restored.get_params()["members"][0] == "ecod" and restored.meta_C == 0.5
    np.testing.assert_array_equal(restored.risk_score(test), stack.risk_score(test))
    np.testing.assert_array_equal(restored.meta_coef_, stack.meta_coef_)


@pytest.mark.parametrize(
    "name, params, error, message",
    [
        ("stacking", {"members": ()}, ParameterError, "'members' parameter of StackingDetector"),
        ("stacking", {"members": ["lightgbm"]}, ParameterError, "'members' parameter"),
        ("stacking", {"members": ("xgboost",)}, ConfigError, "Unknown detector 'xgboost'"),
        ("stacking", {"meta_C": 0.0}, ParameterError, "'meta_C' parameter"),
        ("soft_voting", {"weights": (1.0,)}, ParameterError, "one positive float per member"),
        ("soft_voting", {"weights": (1.0, -1.0, 1.0)}, ParameterError, "'weights' parameter"),
        ("bagging", {"n_estimators": 2}, ParameterError, "at least cv_folds"),
        ("bagging", {"max_samples": 0.0}, ParameterError, "'max_samples' parameter"),
        ("bagging", {"base": 3}, ParameterError, "'base' parameter of BaggingDetector"),
        ("hist_gradient_boosting", {"max_iter": 0}, ParameterError, "'max_iter' parameter"),
    ],
)
def test_bad_parameters_say_what_is_allowed(name, params, error, message):
    X, y = correlated(0, n_benign=100, n_attack=20)
    with pytest.raises(error, match=message):
        make_detector(name, **params).fit(X, y)
