"""Datasets loaded as Keras loads them, verified by checksum and cached under $FASTOPS_HOME."""
from . import fashion_mnist, mnist

__all__ = ["mnist", "fashion_mnist"]
