"""Explanations: exact attributions where the model allows, readable top features, one-sentence reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seclearn.explain import (
    explain_records,
    feature_contributions,
    global_importance,
    method_of,
    reason_sentence,
)
from seclearn.features import FlowFeaturizer
from seclearn.models import make_detector
from seclearn.pipeline import DetectionPipeline


def planted(seed: int, n_benign: int = 800, n_exfil: int = 80) -> pd.DataFrame:
    """Benign web flows; 'exfil' rows differ only in sending very many bytes over ssh."""
    rng = np.random.default_rng(seed)
    n = n_benign + n_exfil
    exfil = np.r_[np.zeros(n_benign, bool), np.ones(n_exfil, bool)]
    return pd.DataFrame(
        {
            "proto": pd.array(["tcp"] * n, dtype="str"),
            "service": pd.array(
                np.where(exfil, "ssh", rng.choice(["http", "ssl"], n)), dtype="str"
            ),
            "duration_s": rng.exponential(2.0, n),
            "src_bytes": np.where(
                exfil, rng.lognormal(15, 0.3, n), rng.lognormal(6, 0.5, n)
            ).round(),
            "dst_bytes": rng.lognormal(8, 0.5, n).round(),
            "label": pd.array(exfil.astype(int), dtype="Int8"),
            "attack_type": pd.array(np.where(exfil, "exfil", "benign"), dtype="str"),
        }
    )


def pipeline_for(name: str, **params) -> DetectionPipeline:
    detector = make_detector(name, **params)
    featurizer = FlowFeaturizer(
        derived=False, encoding=detector.preferred_encoding, log_counts=detector.prefers_log_counts
    )
    return DetectionPipeline(detector=detector, featurizer=featurizer, cv_folds=2).fit(planted(0))


@pytest.fixture(scope="module")
def lgbm() -> DetectionPipeline:
    return pipeline_for("lightgbm", n_estimators=30, n_jobs=1)


def test_treeshap_contributions_add_up_to_the_raw_lightgbm_score(lgbm):
    X = lgbm.transform_features(planted(1))
    contrib, supervised = feature_contributions(lgbm.detector_, X, lgbm.reference_)
    bias = lgbm.detector_.booster_.predict(X, pred_contrib=True)[:, -1]
    np.testing.assert_allclose(contrib.sum(axis=1) + bias, lgbm.detector_.risk_score(X), atol=1e-6)
    assert supervised.all() and method_of(lgbm.detector_) == "treeshap"


@pytest.mark.parametrize("name", ["ecod", "hbos", "logistic_regression"])
def test_exact_attributions_sum_to_the_score_difference_from_the_benign_median(name):
    pipeline = pipeline_for(name)
    X = pipeline.transform_features(planted(1))
    contrib, _ = feature_contributions(pipeline.detector_, X, pipeline.reference_)
    detector = pipeline.detector_
    expected = detector.risk_score(X) - detector.risk_score(pipeline.reference_[None, :])
    np.testing.assert_allclose(contrib.sum(axis=1), expected, atol=1e-8)


@pytest.mark.parametrize(
    "name", ["lightgbm", "random_forest", "logistic_regression", "isolation_forest", "ecod", "hbos"]
)
def test_the_planted_feature_is_the_top_contributor_of_the_planted_attacks(name):
    pipeline = pipeline_for(
        name,
        **(
            {"n_jobs": 1, "n_estimators": 30}
            if name in ("lightgbm", "random_forest", "isolation_forest")
            else {}
        ),
    )
    frame = planted(1)
    tops = explain_records(pipeline, frame[frame["label"] == 1].head(20), top_k=2)
    features = [t[0]["feature"] for t in tops]
    assert (
        np.mean(
            [f in ("src_bytes", "service", "service=ssh", "service=__other__") for f in features]
        )
        >= 0.9
    ), features


def test_top_features_are_sorted_readable_and_signed(lgbm):
    frame = planted(1).iloc[[0, 1, -1]]
    scored = lgbm.score(frame, explain_top_k=3)
    for items in scored["top_features"]:
        assert len(items) == 3 and all(
            set(it) == {"feature", "value", "contribution"} for it in items
        )
        mags = [abs(it["contribution"]) for it in items]
        assert mags == sorted(mags, reverse=True)
    attack = {it["feature"]: it for it in scored["top_features"].iloc[-1]}
    assert (
        attack["src_bytes"]["value"] == int(frame["src_bytes"].iloc[-1])
        and attack["src_bytes"]["contribution"] > 0
    )
    assert {it["feature"]: it["value"] for it in scored["top_features"].iloc[-1]}.get(
        "service", "ssh"
    ) == "ssh"


def test_reasons_are_one_sentence_naming_what_pushed_the_score(lgbm):
    frame = planted(1).iloc[[0, -1]]
    scored = lgbm.score(frame, explain_top_k=3)
    benign_reason, attack_reason = scored["reason"].tolist()
    assert attack_reason.startswith("Alert (score") and "src_bytes=" in attack_reason
    assert "typical of attacks in the training data" in attack_reason
    assert benign_reason.startswith("No alert")
    for text in (benign_reason, attack_reason):
        assert text.endswith(".") and "\n" not in text and text.count(". ") == 0


def test_hybrid_explains_known_attacks_by_its_supervised_part_and_new_ones_by_its_anomaly_part():
    train = planted(0)
    novel = planted(2, n_benign=5, n_exfil=0).assign(dst_bytes=9e9, label=1, attack_type="dump")
    pipeline = DetectionPipeline(
        detector=make_detector(
            "hybrid",
            supervised=make_detector("lightgbm", n_estimators=30, n_jobs=1),
            anomaly="ecod",
        )
    ).fit(train)
    known = pipeline.score(planted(1, n_benign=0, n_exfil=5), explain_top_k=2)
    new = pipeline.score(novel, explain_top_k=2)
    assert all("typical of attacks" in r for r in known["reason"])
    assert new["decision"].all() and all("unusual for benign traffic" in r for r in new["reason"])
    assert all(t[0]["feature"] == "dst_bytes" for t in new["top_features"])


def test_reason_sentence_formats_categories_numbers_and_absent_categories():
    items = [
        {"feature": "service=http", "value": False, "contribution": 0.4},
        {"feature": "src_bytes", "value": 123456, "contribution": 0.3},
        {"feature": "duration_s", "value": 0.5, "contribution": -0.2},
    ]
    text = reason_sentence(
        items,
        score=0.95,
        threshold=0.5,
        decision=True,
        supervised=False,
        typical={"src_bytes": 400},
    )
    assert text == (
        "Alert (score 0.950 > threshold 0.500): service≠http and src_bytes=123456 "
        "(benign median 400) are unusual for benign traffic."
    )
    quiet = reason_sentence(items[2:], score=0.1, threshold=0.5, decision=False, supervised=True)
    assert (
        quiet
        == "No alert (score 0.100 ≤ threshold 0.500): no feature stands out from typical benign traffic."
    )


def test_global_importance_ranks_the_planted_feature_first_and_survives_saving(lgbm, tmp_path):
    ranking = global_importance(lgbm)
    assert [f for f, _ in ranking] == sorted(
        lgbm.feature_names_, key=lambda f: (-dict(ranking)[f], f)
    )
    assert ranking[0][0] in ("src_bytes", "service") and sum(
        v for _, v in ranking
    ) == pytest.approx(1.0)
    lgbm.save(tmp_path / "m")
    assert global_importance(DetectionPipeline.load(tmp_path / "m")) == ranking


def test_explaining_no_records_gives_no_explanations(lgbm):
    assert explain_records(lgbm, planted(1).iloc[:0], top_k=3) == []


def test_repeated_records_get_the_same_contributions_as_when_explained_alone(lgbm):
    X = lgbm.transform_features(planted(seed=5))[:40]
    repeated = np.concatenate([X, X[::-1], X[:5]])
    together, _ = feature_contributions(lgbm.detector_, repeated, lgbm.reference_)
    alone = np.vstack(
        [
            feature_contributions(lgbm.detector_, row[None, :], lgbm.reference_)[0]
            for row in repeated
        ]
    )
    np.testing.assert_allclose(together, alone, rtol=1e-9, atol=1e-12)
