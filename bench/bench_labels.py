"""Detection with few labels: plain LightGBM on the labeled subset vs semi-supervised detectors.

For each share of labels (1%, 5%, 20%, 100%; labeled rows drawn at random, stratified by
label, seed 0) every detector is fitted through a :class:`DetectionPipeline` on the
training rows, the unlabeled rest included (label missing; plain LightGBM uses only the
labeled rows, the semi-supervised detectors use them all). The operating point is the
pipeline's: 1% FPR on out-of-fold scores of the labeled benign training rows. The
figures are measured once on the test set: detection (share of attacks alerted), FPR
and ROC-AUC. Nothing is tuned on the test set.

Datasets: NSL-KDD (train KDDTrain+_20Percent, or KDDTrain+ with ``--full-kdd``; test
KDDTest+) and UNSW-NB15 (feature-duplicate rows dropped, then a 70/30 split stratified
by attack category, as ``tests/test_quality_flows.py`` does).

``--validate`` chooses the semi-supervised detector and settings that
``tests/test_quality_labels.py`` uses, on training data only: KDDTrain+_20Percent is
split four ways (a random 70/30 split, then each attack category - DoS, Probe, R2L+U2R -
left out of training, as KDDTest+ holds attacks unseen in training), 5% of the labels of
the fitted part are kept (stratified, seed 0), and every candidate is scored on the fully
labeled held-out part. The best mean validation ROC-AUC wins; KDDTest+ is not read.

Run: ``PYTHONPATH=src .venv/bin/python bench/bench_labels.py [--quick] [--validate]``
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from seclearn.config import shared_data_dir
from seclearn.ingest import read_flows
from seclearn.models import Detector, make_detector
from seclearn.pipeline import DetectionPipeline

SHARES = (0.01, 0.05, 0.2, 1.0)


def lightgbm(quick: bool) -> Detector:
    return make_detector("lightgbm", n_estimators=100 if quick else 200, n_jobs=1)


def detectors(quick: bool) -> dict[str, Callable[[], Detector]]:
    """Every detector compared, with its members; defaults otherwise (none tuned on test)."""
    return {
        "lightgbm (labeled only)": lambda: lightgbm(quick),
        "self_training": lambda: make_detector("self_training", base=lightgbm(quick)),
        "pu_learning": lambda: make_detector("pu_learning", base=lightgbm(quick)),
        "anomaly_features": lambda: make_detector("anomaly_features", supervised=lightgbm(quick)),
    }


def hide_labels(frame: pd.DataFrame, share: float, seed: int = 0) -> pd.DataFrame:
    """``frame`` with all but ``share`` of the labels (per class, at random) set missing."""
    if share >= 1.0:
        return frame
    rng = np.random.default_rng(seed)
    label = frame["label"].astype("Float64")
    keep = np.zeros(len(frame), dtype=bool)
    for value in (0, 1):
        rows = np.flatnonzero(label.to_numpy(dtype=float, na_value=np.nan) == value)
        keep[rng.choice(rows, max(2, round(share * len(rows))), replace=False)] = True
    out = frame.copy()
    out["label"] = label.where(keep, pd.NA)
    return out


def dedupe_and_split(frame: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop feature-duplicate rows, then a 70/30 split stratified by attack_type."""
    features = [
        c for c in frame.columns if c not in ("label", "attack_type") and not c.startswith("meta_")
    ]
    unique = frame.drop_duplicates(subset=features, keep="first").reset_index(drop=True)
    rng = np.random.default_rng(seed)
    test = np.zeros(len(unique), dtype=bool)
    for _, index in unique.groupby("attack_type", observed=True).indices.items():
        test[rng.choice(index, round(0.3 * len(index)), replace=False)] = True
    return unique[~test].reset_index(drop=True), unique[test].reset_index(drop=True)


def load(full_kdd: bool, quick: bool) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    root = shared_data_dir()
    if root is None:
        raise SystemExit(
            "public datasets not found: set SECLEARN_DATA or place them in ../shared/data"
        )
    kdd_train = "KDDTrain+.txt.gz" if full_kdd else "KDDTrain+_20Percent.txt.gz"
    data = {
        "NSL-KDD": (
            read_flows(root / "nsl-kdd" / kdd_train).frame,
            read_flows(root / "nsl-kdd" / "KDDTest+.txt.gz").frame,
        ),
        "UNSW-NB15": dedupe_and_split(
            read_flows(root / "unsw-nb15" / "UNSW_NB15_training-set.csv.gz").frame
        ),
    }
    if quick:  # a stratified third of the training rows
        data = {
            name: (train.groupby("label", observed=True).sample(frac=1 / 3, random_state=0), test)
            for name, (train, test) in data.items()
        }
    return data


#: Semi-supervised candidates compared by ``--validate`` (parameters over the defaults).
CANDIDATES: dict[str, tuple[str, dict[str, object]]] = {
    "self_training": ("self_training", {}),
    "self_training threshold=0.99": ("self_training", {"threshold": 0.99}),
    "self_training max_new_share=0.25": ("self_training", {"max_new_share": 0.25}),
    "pu_learning": ("pu_learning", {}),
    "pu_learning background_ratio=20": ("pu_learning", {"background_ratio": 20.0}),
    "anomaly_features": ("anomaly_features", {}),
    "anomaly_features ecod+hbos": ("anomaly_features", {"anomaly": ("ecod", "hbos")}),
}
VALIDATION_SHARE = 0.05
#: Validation folds: a random 30% of the rows, then each attack category unseen in training.
VALIDATION_FOLDS = ("random", "DoS", "Probe", "R2L+U2R")


def candidate(detector: str, params: dict[str, object], quick: bool) -> Callable[[], Detector]:
    """A builder of ``detector`` over the benchmark's LightGBM, with ``params``."""
    member = "supervised" if detector == "anomaly_features" else "base"

    def build() -> Detector:
        return make_detector(detector, **{member: lightgbm(quick)}, **params)

    return build


def validation_split(frame: pd.DataFrame, fold: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(fit, held-out) parts of NSL-KDD training rows for one validation fold.

    ``"random"``: 30% of every attack type held out. An attack category (``"R2L+U2R"``
    joins the two small ones): all its attacks and 30% of the benign rows held out, the
    rest fitted on - attacks unseen in training, as KDDTest+ holds many.
    """
    rng = np.random.default_rng(0)
    held = np.zeros(len(frame), dtype=bool)
    for _, index in frame.groupby("attack_type", observed=True).indices.items():
        held[rng.choice(index, round(0.3 * len(index)), replace=False)] = True
    if fold != "random":
        category = frame["meta_attack_category"].astype("string").fillna("")
        unseen = category.isin(fold.split("+")).to_numpy()
        held = unseen | (held & (frame["label"] == 0).to_numpy())
    return frame[~held].reset_index(drop=True), frame[held].reset_index(drop=True)


def validate(quick: bool) -> None:
    """Choose the semi-supervised detector on held-out KDDTrain+_20Percent rows (module docstring)."""
    root = shared_data_dir()
    if root is None:
        raise SystemExit(
            "public datasets not found: set SECLEARN_DATA or place them in ../shared/data"
        )
    frame = read_flows(root / "nsl-kdd" / "KDDTrain+_20Percent.txt.gz").frame
    builds: dict[str, Callable[[], Detector]] = {
        "lightgbm (100% labels)": lambda: lightgbm(quick),
        "lightgbm (labeled only)": lambda: lightgbm(quick),
    }
    for name, (detector, params) in CANDIDATES.items():
        builds[name] = candidate(detector, params, quick)
    rows = []
    for fold in VALIDATION_FOLDS:
        fit_part, held = validation_split(frame, fold)
        partly = hide_labels(fit_part, VALIDATION_SHARE)
        y = held["label"].astype(int).to_numpy()
        for name, build in builds.items():
            t0 = time.perf_counter()
            train = fit_part if name == "lightgbm (100% labels)" else partly
            pipeline = DetectionPipeline(detector=build()).fit(train)
            auc = float(roc_auc_score(y, pipeline.risk_score(held)))
            rows.append({"fold": fold, "detector": name, "roc_auc": auc})
            print(
                f"  {fold:<8} {name:<34} validation ROC-AUC {auc:.4f}  "
                f"fit {time.perf_counter() - t0:.1f} s",
                flush=True,
            )
    table = pd.DataFrame(rows).pivot_table(
        index="detector", columns="fold", values="roc_auc", sort=False
    )
    table["mean"] = table.mean(axis=1)
    table["ratio_to_100%"] = table["mean"] / table.loc["lightgbm (100% labels)", "mean"]
    print(f"\nValidation inside KDDTrain+_20Percent, {VALIDATION_SHARE:.0%} of the labels kept")
    print(table.round(4).to_string())
    semi = table.loc[list(CANDIDATES), "mean"]
    print(f"\nchosen: {semi.idxmax()} (mean validation ROC-AUC {semi.max():.4f})")


def figures(pipeline: DetectionPipeline, test: pd.DataFrame) -> dict[str, float]:
    scored = pipeline.score(test)
    y = test["label"].astype(int).to_numpy()
    alert = scored["decision"].to_numpy()
    return {
        "detection": float(alert[y == 1].mean()),
        "fpr": float(alert[y == 0].mean()),
        "roc_auc": float(roc_auc_score(y, scored["score"])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a third of the training rows")
    parser.add_argument("--full-kdd", action="store_true", help="train on KDDTrain+ (126k rows)")
    parser.add_argument(
        "--validate",
        action="store_true",
        help="choose the semi-supervised detector on held-out NSL-KDD training rows only",
    )
    args = parser.parse_args()
    if args.validate:
        validate(args.quick)
        return
    rows = []
    for dataset, (train, test) in load(args.full_kdd, args.quick).items():
        print(f"\n{dataset}: {len(train):,} training rows, {len(test):,} test rows", flush=True)
        for share in SHARES:
            partly = hide_labels(train, share)
            n_labeled = int(partly["label"].notna().sum())
            for name, build in detectors(args.quick).items():
                t0 = time.perf_counter()
                pipeline = DetectionPipeline(detector=build()).fit(partly)
                row = {
                    "dataset": dataset,
                    "labels": f"{share:.0%}",
                    "n_labeled": n_labeled,
                    "detector": name,
                    **figures(pipeline, test),
                    "fit_s": time.perf_counter() - t0,
                }
                rows.append(row)
                print(
                    f"  {row['labels']:>4} labels ({n_labeled:>6,})  {name:<24} "
                    f"detection {row['detection']:.4f}  FPR {row['fpr']:.4f}  "
                    f"ROC-AUC {row['roc_auc']:.4f}  fit {row['fit_s']:.1f} s",
                    flush=True,
                )
    table = pd.DataFrame(rows)
    print("\nROC-AUC on the test set (rows: labels; columns: detector)")
    for dataset, part in table.groupby("dataset", sort=False):
        print(f"\n{dataset}")
        print(
            part.pivot_table(index="labels", columns="detector", values="roc_auc", sort=False)
            .round(4)
            .to_string()
        )


if __name__ == "__main__":
    main()
