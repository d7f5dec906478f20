"""Shared fixtures (seeded data, both SIMD paths, thread counts) and the suite's run rules:

- Hypothesis profiles (docs/testing.md): 'ci', loaded by default, is derandomized, so a
  failure reproduces on the next run; 'random' draws fresh examples (or those of
  `--hypothesis-seed=N`); 'nightly' draws fresh examples, ten times as many.
- `--test-order=reverse|shuffle` (with `--test-order-seed=N`) runs the collected tests in
  another order, to show that no test depends on another having run first.
- Every test starts with NumPy's and Python's global RNGs seeded (0), so no test depends on
  the draws of the tests before it.
- Under CI (the environment variable CI set, as .ci/run does) a skipped test is a failure:
  CI installs every optional tool and data set, so a skip there would hide a test that did
  not run.
"""
import os
import random

import numpy as np
import pytest
from helpers import SIMD_PATHS
from hypothesis import HealthCheck, settings

import fastops

# ---- Hypothesis ----

NIGHTLY_SCALE = 10  # 'nightly' runs each property test this many times its usual examples
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("random", settings.get_profile("ci"), derandomize=False)
settings.register_profile("nightly", settings.get_profile("random"))  # scaled below
settings.load_profile("ci")  # --hypothesis-profile=NAME (the plugin) replaces it


def _profile():
    return settings.get_current_profile_name()


_ORDER_SEED = []


@pytest.hookimpl(trylast=True)  # after Hypothesis' plugin has loaded --hypothesis-profile
def pytest_configure(config):
    if config.getoption("--hypothesis-seed") is not None and settings.default.derandomize:
        # a derandomized profile ignores the seed: asking for one means random examples
        settings.load_profile("random")
    seed = config.getoption("--test-order-seed")
    _ORDER_SEED[:] = [random.SystemRandom().randrange(10**6) if seed is None else seed]


def _with_profile(item):
    """Give a property test the loaded profile's randomness and example count, overriding its
    own @settings where the profile is 'random' or 'nightly' (tests fix max_examples and some
    derandomize=True, which would otherwise win)."""
    test = getattr(item, "obj", None)
    inner = getattr(test, "hypothesis", None)
    if inner is None or _profile() == "ci":
        return
    own = test._hypothesis_internal_use_settings
    scale = NIGHTLY_SCALE if _profile() == "nightly" else 1
    test._hypothesis_internal_use_settings = settings(
        own, derandomize=False, max_examples=scale * own.max_examples)


# ---- test order ----

def pytest_addoption(parser):
    group = parser.getgroup("fastops", "fastops' run rules (tests/conftest.py)")
    group.addoption("--test-order", choices=("collected", "reverse", "shuffle"),
                    default="collected",
                    help="run the tests reversed, or shuffled (modules in a random order, "
                         "then the tests within each module)")
    group.addoption("--test-order-seed", type=int, default=None,
                    help="seed of --test-order=shuffle (default: drawn, and printed)")


def pytest_report_header(config):
    lines = [f"hypothesis profile: {_profile()}"]
    order = config.getoption("--test-order")
    if order == "shuffle":
        lines.append(f"test order: shuffle, --test-order-seed={_ORDER_SEED[0]}")
    elif order == "reverse":
        lines.append("test order: reverse")
    if _ci():
        lines.append("CI: a skipped test fails")
    return lines


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        _with_profile(item)
    order = config.getoption("--test-order")
    if order == "reverse":
        items.reverse()
    elif order == "shuffle":
        # module by module, so module-scoped fixtures (MNIST, compiled checks) are made once
        rng = random.Random(_ORDER_SEED[0])
        modules = {}
        for item in items:
            modules.setdefault(item.nodeid.split("::")[0], []).append(item)
        groups = list(modules.values())
        rng.shuffle(groups)
        for group in groups:
            rng.shuffle(group)
        items[:] = [item for group in groups for item in group]


# ---- CI: a skip is a failure ----

def _ci():
    return bool(os.environ.get("CI"))


def _skip_reason(report):
    longrepr = report.longrepr
    return longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


def _fail_skip(report, config):
    if not (_ci() and report.skipped and not hasattr(report, "wasxfail")):
        return
    if config.getoption("benchmark_only", False):  # --benchmark-only skips the rest on purpose
        return
    report.outcome = "failed"
    report.longrepr = (f"skipped under CI, where every test must run (CI installs every "
                       f"optional tool and data set): {_skip_reason(report)}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_skip(outcome.get_result(), item.config)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_skip(outcome.get_result(), collector.config)


# ---- fixtures ----

@pytest.fixture(autouse=True)
def seeded_global_rngs():
    """NumPy's and Python's global RNGs start each test from the same state, whatever ran
    before: an unseeded model (Sequential() draws its seed from np.random, as the book's
    examples use it) then trains the same in any test order."""
    np.random.seed(0)
    random.seed(0)

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
