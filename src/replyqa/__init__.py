"""replyqa: tell substantive vendor support replies from boilerplate, and score tickets."""

__version__ = "0.1.0"

from .data import Example, read_examples
from .errors import (
    ArtifactError,
    DataError,
    InvalidInputError,
    ModelNotFoundError,
    PolicyError,
    QualityGateError,
    RegistryError,
    ReplyQAError,
)
from .labels import BOILERPLATE_CATEGORIES, CATEGORIES, QUALITIES, SUBSTANTIVE_CATEGORIES, quality_of
from .model import Classifier, Explanation, Prediction, TrainParams, train

__all__ = [
    "BOILERPLATE_CATEGORIES",
    "CATEGORIES",
    "QUALITIES",
    "SUBSTANTIVE_CATEGORIES",
    "ArtifactError",
    "Classifier",
    "DataError",
    "Example",
    "Explanation",
    "InvalidInputError",
    "ModelNotFoundError",
    "PolicyError",
    "Prediction",
    "QualityGateError",
    "RegistryError",
    "ReplyQAError",
    "TrainParams",
    "__version__",
    "quality_of",
    "read_examples",
    "train",
]
