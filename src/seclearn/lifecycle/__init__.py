"""Lifecycle steps that tie the packages together: train, evaluate, the demo."""

from seclearn.lifecycle.demo import DEMO_START, DemoResult, run_demo
from seclearn.lifecycle.train import TrainResult, evaluate_model, train_model

__all__ = ["DEMO_START", "DemoResult", "TrainResult", "evaluate_model", "run_demo", "train_model"]
