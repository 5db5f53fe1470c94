"""Lifecycle steps that tie the packages together: train, evaluate, compare, the demo."""

from seclearn.lifecycle.compare import CompareResult, compare_detectors, compare_frame
from seclearn.lifecycle.demo import DEMO_START, DemoResult, run_demo
from seclearn.lifecycle.train import (
    TrainResult,
    check_not_training_rows,
    evaluate_model,
    split_fingerprint,
    split_frame,
    train_model,
)

__all__ = [
    "CompareResult",
    "DEMO_START",
    "DemoResult",
    "TrainResult",
    "check_not_training_rows",
    "compare_detectors",
    "compare_frame",
    "evaluate_model",
    "run_demo",
    "split_fingerprint",
    "split_frame",
    "train_model",
]
