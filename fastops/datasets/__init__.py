"""Datasets loaded as Keras 3 loads them, verified by checksum and cached under $FASTOPS_HOME."""
from . import boston_housing, fashion_mnist, imdb, mnist, reuters

__all__ = ["mnist", "fashion_mnist", "imdb", "reuters", "boston_housing"]
