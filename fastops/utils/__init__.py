"""Keras-compatible helpers: `to_categorical` and `PyDataset` (Keras 3's keras.utils)."""
from ._categorical import to_categorical
from ._py_dataset import PyDataset

__all__ = ["to_categorical", "PyDataset"]
