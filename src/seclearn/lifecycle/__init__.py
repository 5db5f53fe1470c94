"""Lifecycle steps that tie the packages together: train, evaluate, compare, cluster, alerting,
monitoring, feedback and review, retraining with promotion gates, the lifecycle run, the demo."""

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
from seclearn.lifecycle.feedback import ImportResult, feedback_labels, import_labels, label_shares
from seclearn.lifecycle.gates import GatePolicy, GateResult
from seclearn.lifecycle.monitor import MonitorResult, monitor_model
from seclearn.lifecycle.retrain import RetrainResult, promote_model, retrain_model, rollback_model
from seclearn.lifecycle.review import ReviewResult, review_model, review_queue
from seclearn.lifecycle.run import LifecycleRun, run_lifecycle
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
    "GatePolicy",
    "GateResult",
    "ImportResult",
    "LifecycleRun",
    "MonitorResult",
    "RetrainResult",
    "ReviewResult",
    "SINK_KINDS",
    "SinkConfig",
    "TrainResult",
    "check_not_training_rows",
    "cluster_dataset",
    "compare_detectors",
    "compare_frame",
    "deliver_pending",
    "evaluate_model",
    "feedback_labels",
    "import_labels",
    "label_shares",
    "load_sinks",
    "monitor_model",
    "promote_model",
    "record_alerts",
    "render_cluster_html",
    "retrain_model",
    "review_model",
    "review_queue",
    "rollback_model",
    "run_demo",
    "run_lifecycle",
    "split_fingerprint",
    "split_frame",
    "train_model",
]
