"""A leaderboard of detectors compared on one split: data, JSON and one HTML page.

:func:`leaderboard_entry` reads the headline numbers of one detector out of the
metrics dict of :func:`~seclearn.evaluation.evaluate_scores`;
:func:`build_leaderboard` ranks the entries; :func:`write_leaderboard` writes
``leaderboard.json`` and a self-contained ``leaderboard.html`` (inline CSS, the
overlaid ROC curves as an embedded PNG, every text value escaped), like the
evaluation report of :mod:`seclearn.evaluation._report`, whose helpers it reuses.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import seclearn
from seclearn.errors import EvaluationError
from seclearn.evaluation._curves import DETECTION_NOTE
from seclearn.evaluation._plots import _figure, _png
from seclearn.evaluation._report import _STEM, _dump, _environment, _write_atomically

#: Headline columns: (key in an entry, column title, True when higher is better).
LEADERBOARD_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("roc_auc", "ROC-AUC", True),
    ("pr_auc", "PR-AUC", True),
    ("detection_at_1pct_fpr", "detection @ 1% FPR", True),
    ("detection_at_0.1pct_fpr", "detection @ 0.1% FPR", True),
    ("precision", "precision", True),
    ("recall", "recall", True),
    ("fpr", "FPR", False),
    ("brier", "Brier", False),
    ("ece", "ECE", False),
    ("fit_s", "fit s", False),
    ("score_rows_per_s", "score rows/s", True),
)
#: What the leaderboard is ranked by: average precision suits rare attacks better than
#: ROC-AUC, which a flood of easy benign rows inflates.
RANK_BY = "pr_auc"
_COLORS = ("#4477aa", "#cc3311", "#228833", "#ccbb44", "#66ccee", "#aa3377", "#bbbbbb", "#000000")


@dataclass(frozen=True)
class Leaderboard:
    """Detectors compared on the same split with the same operating-point rule.

    ``entries`` are :func:`leaderboard_entry` dicts, best first (see :data:`RANK_BY`);
    ``split`` is the split's description (``SplitResult.describe()``);
    ``operating_rule`` says how every detector's threshold was chosen (on training
    data only).
    """

    entries: list[dict[str, Any]]
    split: dict[str, Any] | None
    operating_rule: dict[str, Any]
    dataset_name: str | None = None
    created_at: str = ""
    seclearn_version: str = seclearn.__version__
    notes: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of everything in the leaderboard."""
        return asdict(self)


def leaderboard_entry(
    name: str,
    metrics: dict[str, Any],
    *,
    fit_s: float,
    score_s: float,
    n_train: int,
    operating_point: dict[str, Any] | None = None,
    detector: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One detector's row: headline numbers, timings, and the full ``metrics`` dict.

    ``fit_s`` is the wall time of fitting on ``n_train`` rows (cross-validated
    calibration and threshold included); ``score_s`` the wall time of scoring the
    ``metrics["n"]`` test rows, so ``score_rows_per_s`` is throughput on this machine.
    """
    detection = metrics.get("detection_at_fpr") or {}
    n_scored = int(metrics.get("n") or 0)
    return {
        "name": name,
        "detector": detector or {},
        "roc_auc": metrics.get("roc_auc"),
        "pr_auc": metrics.get("pr_auc"),
        "detection_at_1pct_fpr": detection.get("0.01"),
        "detection_at_0.1pct_fpr": detection.get("0.001"),
        "precision": metrics.get("precision"),
        "recall": metrics.get("recall"),
        "fpr": metrics.get("fpr"),
        "brier": metrics.get("brier"),
        "ece": metrics.get("ece"),
        "threshold": metrics.get("threshold"),
        "fit_s": float(fit_s),
        "score_s": float(score_s),
        "score_rows_per_s": n_scored / score_s if score_s > 0 else None,
        "n_train": int(n_train),
        "n_test": n_scored,
        "operating_point": dict(operating_point or {}),
        "metrics": metrics,
    }


def build_leaderboard(
    entries: list[dict[str, Any]],
    *,
    split: dict[str, Any] | None,
    operating_rule: dict[str, Any],
    dataset_name: str | None = None,
) -> Leaderboard:
    """The leaderboard of ``entries``, best :data:`RANK_BY` first (n/a last, then by name)."""
    if not entries:
        raise EvaluationError("A leaderboard needs at least one detector; got none.")

    def key(entry: dict[str, Any]) -> tuple[bool, float, str]:
        raw = entry.get(RANK_BY)
        value = math.nan if raw is None else float(raw)
        missing = not math.isfinite(value)
        return (missing, 0.0 if missing else -value, str(entry.get("name")))

    return Leaderboard(
        entries=sorted(entries, key=key),
        split=dict(split) if split is not None else None,
        operating_rule=dict(operating_rule),
        dataset_name=dataset_name,
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        notes={
            "ranking": f"Ranked by {RANK_BY} on the test side (higher is better).",
            "detection_at_fpr": DETECTION_NOTE,
            "operating_point": (
                "Every detector's threshold was chosen by the same rule on its own out-of-fold "
                "training scores, never on the test side."
            ),
        },
    )


def write_leaderboard(
    board: Leaderboard, out_dir: Path, *, stem: str = "leaderboard"
) -> tuple[Path, Path]:
    """Write ``<out_dir>/<stem>.json`` and ``<out_dir>/<stem>.html``; return both paths."""
    if _STEM.fullmatch(stem) is None:
        raise EvaluationError(
            f"Invalid leaderboard stem {stem!r}: expected letters, digits, '.', '_' or '-' "
            "(for example 'leaderboard')."
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out_dir / f"{stem}.json", out_dir / f"{stem}.html"
    _write_atomically(json_path, _dump(board.to_dict()))
    _write_atomically(html_path, render_leaderboard_html(board).encode("utf-8"))
    return json_path, html_path


def render_leaderboard_html(board: Leaderboard) -> str:
    """The leaderboard page as one self-contained HTML string."""
    entries = board.entries
    best = {key: _best(entries, key, higher) for key, _, higher in LEADERBOARD_COLUMNS}
    template = _environment().get_template("leaderboard.html.j2")
    return template.render(
        b=board,
        entries=entries,
        columns=LEADERBOARD_COLUMNS,
        best=best,
        split=board.split or {},
        rule_rows=list(board.operating_rule.items()),
        attack_rows=_attack_rows(entries),
        roc_png=_roc_overlay(entries),
        split_json=json.dumps(board.split or {}, indent=2, sort_keys=True, default=str),
    )


def _best(entries: list[dict[str, Any]], key: str, higher: bool) -> float | None:
    values = [float(e[key]) for e in entries if e.get(key) is not None]
    if len(values) < 2:
        return None
    return max(values) if higher else min(values)


def _attack_rows(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per attack type: its test count and each detector's detection rate (None if absent)."""
    rates: dict[str, dict[str, float]] = {}
    counts: dict[str, int] = {}
    for entry in entries:
        for row in (entry.get("metrics") or {}).get("per_attack_type") or []:
            if row.get("kind") == "benign":
                continue
            rates.setdefault(row["attack_type"], {})[entry["name"]] = row["rate"]
            counts[row["attack_type"]] = int(row["count"])
    return [
        {"attack_type": t, "count": counts[t], "rates": [rates[t].get(e["name"]) for e in entries]}
        for t in sorted(rates, key=lambda t: (-counts[t], t))
    ]


def _roc_overlay(entries: list[dict[str, Any]]) -> str | None:
    """Every detector's test ROC curve on linear and log FPR axes, with its operating point."""
    drawn = [e for e in entries if (e.get("metrics") or {}).get("roc_curve")]
    if not drawn:
        return None
    fig = _figure(9.6, 4.0)
    lin, log = fig.subplots(1, 2)
    n_benign = max(int(e["metrics"].get("n_benign") or 1) for e in drawn)
    for i, entry in enumerate(drawn):
        color = _COLORS[i % len(_COLORS)]
        curve, m = entry["metrics"]["roc_curve"], entry["metrics"]
        label = f"{entry['name']} (AUC {m['roc_auc']:.4f})".replace("$", r"\$")
        for ax in (lin, log):
            ax.plot(curve["fpr"], curve["tpr"], color=color, lw=1.4, label=label)
            if m.get("fpr") is not None and m.get("recall") is not None:
                ax.plot([m["fpr"]], [m["recall"]], "o", color=color, ms=5)
    for ax in (lin, log):
        ax.set_xlabel("false-positive rate")
        ax.set_ylabel("detection rate (TPR)")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    lin.plot([0, 1], [0, 1], ls="--", color="#777777", lw=0.8)
    lin.set_title("ROC (dots: operating points)")
    lin.legend(loc="lower right", fontsize=7)
    log.set_xscale("log")
    log.set_xlim(max(1.0 / n_benign, 1e-6), 1)
    log.set_title("ROC, log FPR (low-FPR region)")
    return _png(fig)


__all__ = [
    "LEADERBOARD_COLUMNS",
    "RANK_BY",
    "Leaderboard",
    "build_leaderboard",
    "leaderboard_entry",
    "render_leaderboard_html",
    "write_leaderboard",
]
