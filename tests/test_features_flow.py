"""FlowFeaturizer: learned columns and categories, robustness at transform, metadata."""

from __future__ import annotations

import numpy as np
import orjson
import pandas as pd
import pytest

from seclearn.errors import FeatureMismatchError, NotFittedError, ParameterError
from seclearn.features import MISSING, OTHER, FeatureSpec, FlowFeaturizer


def _flows(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "ts": 1.7e9 + np.arange(n, dtype=float),
            "src_ip": [f"10.0.0.{i % 7}" for i in range(n)],
            "src_port": pd.array(rng.integers(30000, 60000, n), dtype="Int64"),
            "dst_ip": "10.0.1.1",
            "dst_port": pd.array(rng.choice([22, 80, 443, 50000], n), dtype="Int64"),
            "proto": pd.array(rng.choice(["tcp", "udp"], n, p=[0.8, 0.2]), dtype="str"),
            "service": pd.array(
                rng.choice(["http", "ssl", "dns", "ftp"], n, p=[0.4, 0.4, 0.17, 0.03]), dtype="str"
            ),
            "duration_s": rng.exponential(2.0, n),
            "src_bytes": rng.lognormal(6, 1, n).round(),
            "dst_bytes": rng.lognormal(8, 1, n).round(),
            "src_pkts": rng.poisson(8, n) + 1.0,
            "dst_pkts": rng.poisson(10, n) + 1.0,
            "conn_state": pd.array(rng.choice(["SF", "S0"], n), dtype="str"),
            "serror_rate": rng.random(n),
            "label": pd.array(rng.integers(0, 2, n), dtype="Int8"),
            "attack_type": pd.array(["benign"] * n, dtype="str"),
            "meta_difficulty": rng.integers(0, 21, n),
            "uid": pd.array([f"C{i}" for i in range(n)], dtype="str"),
            "user_agent": pd.array([f"agent-{i}" for i in range(n)], dtype="str"),
        }
    )
    return frame


def test_output_is_float32_and_excludes_labels_identities_and_meta_columns():
    frame = _flows()
    fz = FlowFeaturizer()
    X = fz.fit_transform(frame)
    assert X.dtype == np.float32 and X.shape == (len(frame), len(fz.feature_names_out_))
    names = set(fz.feature_names_out_)
    for never in (
        "label",
        "attack_type",
        "ts",
        "src_ip",
        "dst_ip",
        "src_port",
        "uid",
        "meta_difficulty",
    ):
        assert never not in names
    assert {"dst_port", "src_bytes", "serror_rate", "proto", "service", "conn_state"} <= names
    assert "user_agent" in fz.ignored_columns_  # unique per row: looks like an identifier


def test_derived_flow_features_are_computed_from_their_inputs():
    frame = _flows(50)
    fz = FlowFeaturizer(derived=True).fit(frame)
    X = fz.transform(frame)
    col = fz.feature_names_out_.index
    np.testing.assert_allclose(
        X[:, col("src_bytes_per_pkt")], frame.src_bytes / frame.src_pkts, rtol=1e-6
    )
    share = frame.src_bytes / (frame.src_bytes + frame.dst_bytes)
    np.testing.assert_allclose(X[:, col("src_byte_share")], share, rtol=1e-6)
    pps = (frame.src_pkts + frame.dst_pkts) / np.maximum(frame.duration_s, 0.001)
    np.testing.assert_allclose(X[:, col("pkts_per_s")], pps, rtol=1e-5)
    assert "dst_port_class" in fz.categories_
    assert set(fz.categories_["dst_port_class"]) == {"22/ssh", "80/http", "443/https", "ephemeral"}
    assert FlowFeaturizer(derived=False).fit(frame).derived_columns_ == []


def test_unseen_and_missing_categories_map_to_other_and_missing_buckets():
    frame = _flows()
    fz = FlowFeaturizer(encoding="ordinal").fit(frame)
    probe = frame.head(3).copy()
    probe["service"] = pd.array(["gopher", None, "http"], dtype="str")
    X = fz.transform(probe)
    j = fz.feature_names_out_.index("service")
    assert [fz.display_value(j, v) for v in X[:, j]] == [OTHER, MISSING, "http"]

    onehot = FlowFeaturizer(encoding="onehot").fit(frame)
    Xo = onehot.transform(probe)
    names = onehot.feature_names_out_
    assert (
        Xo[0, names.index(f"service={OTHER}")] == 1
        and Xo[1, names.index(f"service={MISSING}")] == 1
    )
    service_cols = [i for i, n in enumerate(names) if n.startswith("service=")]
    np.testing.assert_array_equal(Xo[:, service_cols].sum(axis=1), [1, 1, 1])


def test_only_the_top_k_frequent_categories_seen_often_enough_are_kept():
    frame = _flows(400)
    fz = FlowFeaturizer(max_categories=2, min_category_count=5).fit(frame)
    assert fz.categories_["service"] == ["http", "ssl"] or fz.categories_["service"] == [
        "ssl",
        "http",
    ]
    rare = FlowFeaturizer(max_categories=10, min_category_count=50).fit(frame)
    assert "ftp" not in rare.categories_["service"]


def test_missing_fields_new_fields_and_column_order_at_transform():
    frame = _flows()
    fz = FlowFeaturizer().fit(frame)
    X = fz.transform(frame)
    shuffled = frame[list(reversed(frame.columns))].assign(brand_new=1.0, other_text="x")
    np.testing.assert_array_equal(fz.transform(shuffled), X)
    partial = fz.transform(frame.drop(columns=["src_bytes", "service"]))
    names = fz.feature_names_out_
    assert np.isnan(partial[:, names.index("src_bytes")]).all()
    assert np.isnan(partial[:, names.index("src_bytes_per_pkt")]).all()
    assert (partial[:, names.index("service")] == 0).all()  # code 0 = __missing__
    np.testing.assert_array_equal(
        partial[:, names.index("dst_bytes")], X[:, names.index("dst_bytes")]
    )


def test_no_known_field_at_all_is_a_feature_mismatch_naming_the_expected_columns():
    fz = FlowFeaturizer().fit(_flows())
    with pytest.raises(FeatureMismatchError, match="src_bytes"):
        fz.transform(pd.DataFrame({"foo": [1, 2], "bar": ["a", "b"]}))


def test_input_frame_is_not_mutated():
    frame = _flows()
    before = frame.copy(deep=True)
    fz = FlowFeaturizer(encoding="onehot", log_counts=True).fit(frame)
    fz.transform(frame)
    pd.testing.assert_frame_equal(frame, before)


def test_log_counts_applies_to_heavy_tailed_counts_but_not_rates_or_ports():
    frame = _flows()
    fz = FlowFeaturizer(log_counts=True).fit(frame)
    assert {"src_bytes", "dst_bytes", "bytes_per_s"} <= set(fz.log_columns_)
    assert "serror_rate" not in fz.log_columns_ and "dst_port" not in fz.log_columns_
    X = fz.transform(frame)
    j = fz.feature_names_out_.index("src_bytes")
    np.testing.assert_allclose(X[:, j], np.log1p(frame.src_bytes), rtol=1e-6)
    assert fz.display_value(j, float(X[0, j])) == int(frame.src_bytes.iloc[0])


def test_numeric_strings_and_nullable_ints_are_read_as_numbers():
    frame = _flows(30)
    fz = FlowFeaturizer().fit(frame)
    text = frame.assign(
        src_bytes=frame.src_bytes.astype("str"), dst_port=frame.dst_port.astype("float64")
    )
    text.loc[0, "src_bytes"] = "not a number"
    X = fz.transform(text)
    j = fz.feature_names_out_.index("src_bytes")
    assert np.isnan(X[0, j]) and X[1, j] == pytest.approx(frame.src_bytes.iloc[1])


def test_fingerprint_depends_on_learned_state_not_on_column_order():
    frame = _flows()
    a = FlowFeaturizer().fit(frame).fingerprint()
    assert FlowFeaturizer().fit(frame[list(reversed(frame.columns))]).fingerprint() == a
    assert FlowFeaturizer(max_categories=1).fit(frame).fingerprint() != a
    assert FlowFeaturizer().fit(frame.drop(columns=["serror_rate"])).fingerprint() != a


def test_saved_state_round_trips_through_json():
    frame = _flows()
    fz = FlowFeaturizer(encoding="onehot", log_counts=True).fit(frame)
    again = FlowFeaturizer.from_dict(orjson.loads(orjson.dumps(fz.to_dict())))
    np.testing.assert_array_equal(again.transform(frame), fz.transform(frame))
    assert again.fingerprint() == fz.fingerprint()
    assert again.feature_specs_ == fz.feature_specs_


def test_feature_specs_describe_ranges_integrality_and_sources():
    frame = _flows()
    fz = FlowFeaturizer(encoding="onehot").fit(frame)
    specs = {s.name: s for s in fz.feature_specs_}
    assert all(isinstance(s, FeatureSpec) for s in specs.values())
    assert (
        specs["src_pkts"].integer
        and specs["src_pkts"].non_negative
        and specs["src_pkts"].kind == "numeric"
    )
    assert (
        specs["src_pkts"].min_seen == frame.src_pkts.min()
        and specs["src_pkts"].max_seen == frame.src_pkts.max()
    )
    assert not specs["duration_s"].integer
    assert specs["pkts_per_s"].kind == "derived" and specs["pkts_per_s"].sources == (
        "src_pkts",
        "dst_pkts",
        "duration_s",
    )
    assert specs["proto=tcp"].kind == "categorical" and specs["proto=tcp"].category == "tcp"
    assert specs["dst_port_class=22/ssh"].sources == ("dst_port",)


def test_bad_parameters_are_reported_in_scikit_learn_style():
    with pytest.raises(
        ParameterError,
        match=r"The 'encoding' parameter of FlowFeaturizer must be a str among "
        r"\{'ordinal', 'onehot'\}\. Got 'binary' instead\.",
    ):
        FlowFeaturizer(encoding="binary").fit(_flows())
    with pytest.raises(ParameterError, match="max_categories"):
        FlowFeaturizer(max_categories=0).fit(_flows())


def test_transform_before_fit_says_how_to_fix():
    with pytest.raises(NotFittedError, match="Call fit"):
        FlowFeaturizer().transform(_flows())
