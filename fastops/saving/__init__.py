"""Saving and loading models and weights: Keras 3's '.keras' zip and '.weights.h5' files,
and fastops' older '.npz' weights.  Every write is atomic (fastops._atomic); every load
checks all arrays before changing any weight, and errors name the file.
"""
from .._registry import custom_object_scope
from ._weights import load_weights, save_weights
from ._keras_file import load_model, save_model

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "custom_object_scope"]
