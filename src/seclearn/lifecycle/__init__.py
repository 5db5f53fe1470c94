"""Lifecycle steps that tie the packages together: train, evaluate, compare, cluster, alerting,
the demo."""

from seclearn.lifecycle.alerting import (
    SINK_KINDS,
    SinkConfig,
    deliver_pending,
    load_sinks,
    record_alerts,
)
from seclearn.lifecycle.cluster import ClusterResult, cluster_dataset, render_cluster_html
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
    "ClusterResult",
    "CompareResult",
    "DEMO_START",
    "DemoResult",
    "SINK_KINDS",
    "SinkConfig",
    "TrainResult",
    "check_not_training_rows",
    "cluster_dataset",
    "compare_detectors",
    "compare_frame",
    "deliver_pending",
    "evaluate_model",
    "load_sinks",
    "record_alerts",
    "render_cluster_html",
    "run_demo",
    "split_fingerprint",
    "split_frame",
    "train_model",
]
