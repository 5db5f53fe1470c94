"""Members of composite detectors: built, scored out-of-fold, calibrated and saved.

Ensembles and semi-supervised detectors hold other detectors ("members"). Whatever a
member's raw scale, it is combined only after calibration, on held-out rows:

* a member that learned from labels (supervised, hybrid, semi-supervised) gets a
  :class:`ProbabilityCalibrator`: the calibrated probability that a record is malicious;
* an anomaly member gets a :class:`BenignQuantileCalibrator`: the share of held-out
  benign rows scoring lower.

Members are saved into sub-folders ``member_0``, ``member_1``, ... of the owner's folder,
each a complete detector folder; calibrators are saved as JSON in the owner's state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold

from seclearn.errors import ModelError
from seclearn.models.base import Detector
from seclearn.models.calibration import (
    BenignQuantileCalibrator,
    ProbabilityCalibrator,
    calibrator_from_dict,
)

Calibrator = ProbabilityCalibrator | BenignQuantileCalibrator
#: Calibrated scores are clipped to [EPS, 1 - EPS] before a logit.
EPS = 1e-6


def make_member(spec: str | Detector, random_state: int | None = None) -> Detector:
    """A new unfitted member from a registered name or a detector instance (cloned).

    When ``random_state`` is given and the member has that parameter, it is set, so
    that members of one ensemble differ and a seeded owner gives seeded members.
    """
    from seclearn.models.registry import make_detector

    member = make_detector(spec) if isinstance(spec, str) else clone(spec)
    if random_state is not None and "random_state" in member.get_params(deep=False):
        member.set_params(random_state=int(random_state))
    return member


def stratified_folds(y: np.ndarray, cv_folds: int, random_state: int, *, where: str) -> np.ndarray:
    """Fold number (0..k-1) per row, stratified by the binary labels ``y``."""
    counts = np.bincount(y.astype(np.int64), minlength=2)
    folds = min(cv_folds, int(counts.min()))
    if folds < 2:
        raise ModelError(
            f"{where} needs at least 2 benign and 2 malicious labeled rows for out-of-fold "
            f"calibration; got {int(counts[0])} benign and {int(counts[1])} malicious."
        )
    out = np.empty(len(y), dtype=np.int64)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=random_state)
    for k, (_, held) in enumerate(splitter.split(np.zeros((len(y), 1)), y)):
        out[held] = k
    return out


def oof_raw(member: Detector, X: np.ndarray, y: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Raw score of every row from a copy of ``member`` fitted without that row's fold.

    ``y`` holds 0/1 labels; an anomaly member's copies train on the benign rows of the
    other folds (its ``fit`` drops malicious rows).
    """
    out = np.empty(len(X), dtype=np.float64)
    for k in np.unique(folds):
        held = folds == k
        out[held] = clone(member).fit(X[~held], y[~held]).risk_score(X[held])
    return out


def fit_calibrator(member: Detector, raw: np.ndarray, y: np.ndarray) -> Calibrator:
    """Calibrator of a member from held-out raw scores ``raw`` and labels ``y`` (0/1/NaN).

    Anomaly members: benign quantile on the benign rows (on all rows when none is
    labeled benign); other members: a probability fitted on the labeled rows.
    """
    if member.kind == "anomaly":
        reference = y == 0 if (y == 0).any() else np.ones(len(y), dtype=bool)
        return BenignQuantileCalibrator().fit(raw[reference])
    known = ~np.isnan(y)
    return ProbabilityCalibrator().fit(raw[known], y[known])


def cross_fitted(member: Detector, raw: np.ndarray, y: np.ndarray, parts: np.ndarray) -> np.ndarray:
    """Calibrated held-out scores where no row's own label shaped its calibrator.

    ``parts`` gives each row a part number; the rows of part ``k`` are transformed by a
    calibrator fitted (:func:`fit_calibrator`) on the rows of the other parts. A part
    whose complement lacks what the calibrator needs (both classes, or a benign row)
    falls back to the calibrator of all rows, which is then stated by the caller.
    """
    out = np.empty(len(raw), dtype=np.float64)
    for k in np.unique(parts):
        mine = parts == k
        try:
            calibrator = fit_calibrator(member, raw[~mine], y[~mine])
        except ModelError:  # the other parts hold one class only
            calibrator = fit_calibrator(member, raw, y)
        out[mine] = calibrator.transform(raw[mine])
    return out


def split_in_two(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Part 0 or 1 per row, each class of ``y`` (0/1/NaN) split in two halves at random."""
    parts = np.zeros(len(y), dtype=np.int64)
    for value in (0.0, 1.0, np.nan):
        rows = np.flatnonzero(np.isnan(y) if np.isnan(value) else y == value)
        chosen = rng.permutation(rows)[: len(rows) // 2 + rng.integers(0, 2) * (len(rows) % 2)]
        parts[chosen] = 1
    return parts


def logit(p: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)) of calibrated scores clipped to [EPS, 1 - EPS]."""
    p = np.clip(p, EPS, 1.0 - EPS)
    return np.log(p) - np.log1p(-p)


def save_members(members: list[Detector], folder: Path) -> list[Path]:
    """Save each member into ``folder/member_<i>``; return every file written."""
    files: list[Path] = []
    for i, member in enumerate(members):
        files += member.save(folder / f"member_{i}")
    return files


def load_members(folder: Path, count: int) -> list[Detector]:
    """Load ``count`` members saved by :func:`save_members`."""
    return [Detector.load(folder / f"member_{i}") for i in range(count)]


def calibrators_to_json(calibrators: list[Calibrator]) -> list[dict[str, Any]]:
    return [c.to_dict() for c in calibrators]


def calibrators_from_json(states: list[dict[str, Any]]) -> list[Calibrator]:
    out = []
    for state in states:
        calibrator = calibrator_from_dict(state)
        if not isinstance(calibrator, ProbabilityCalibrator | BenignQuantileCalibrator):
            raise ModelError(
                f"A member calibrator must be a probability or benign quantile; got {state.get('type')!r}."
            )
        out.append(calibrator)
    return out


__all__ = [
    "EPS",
    "Calibrator",
    "calibrators_from_json",
    "calibrators_to_json",
    "cross_fitted",
    "fit_calibrator",
    "load_members",
    "logit",
    "make_member",
    "oof_raw",
    "save_members",
    "split_in_two",
    "stratified_folds",
]
