"""Classification metrics on numpy arrays of predicted and true class indices."""

from __future__ import annotations

import numpy as np

__all__ = ["accuracy", "confusion_matrix"]


def _check(predictions: np.ndarray, labels: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    if predictions.shape != labels.shape or predictions.ndim != 1 or predictions.size == 0:
        raise ValueError(
            f"{name}: predictions {predictions.shape} and labels {labels.shape} "
            f"must be the same non-empty 1-D shape"
        )
    return predictions, labels


def accuracy(predictions: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of predictions equal to the label."""
    predictions, labels = _check(predictions, labels, "accuracy")
    return float(np.mean(predictions == labels))


def confusion_matrix(
    predictions: np.ndarray, labels: np.ndarray, classes: int | None = None
) -> np.ndarray:
    """(classes, classes) counts: row = true class, column = predicted class."""
    predictions, labels = _check(predictions, labels, "confusion_matrix")
    classes = int(max(predictions.max(), labels.max()) + 1) if classes is None else classes
    return np.bincount(labels * classes + predictions, minlength=classes * classes).reshape(
        classes, classes
    )
