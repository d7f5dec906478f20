"""Shared fixtures: seeded data, both SIMD paths, thread counts."""
import numpy as np
import pytest
from helpers import SIMD_PATHS

import fastops


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(params=SIMD_PATHS)
def simd(request):
    with fastops.config_context(simd=request.param):
        yield request.param


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def threads(request):
    with fastops.config_context(num_threads=request.param):
        yield request.param


