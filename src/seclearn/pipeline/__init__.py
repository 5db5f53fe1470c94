"""DetectionPipeline: featurizer + detector + calibrator + threshold policy, fitted and saved as one unit."""

from seclearn.pipeline._summary import frame_fingerprint
from seclearn.pipeline.detection import CHOSEN_ON, PIPELINE_FILE, DetectionPipeline

__all__ = [
    "CHOSEN_ON",
    "DetectionPipeline",
    "PIPELINE_FILE",
    "frame_fingerprint",
]
