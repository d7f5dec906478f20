"""Fashion-MNIST (Zalando), loaded as Keras does: ((x_train, y_train), (x_test, y_test)) uint8.

Each of the four IDX files is taken from the first source where it verifies:
  1. Debian's package dataset-fashion-mnist (/usr/share/datasets/fashion-mnist);
  2. the fastops cache ($FASTOPS_HOME/datasets/fashion-mnist);
  3. Keras' cache (~/.keras/datasets/fashion-mnist);
  4. a download of the canonical .gz files (Keras' mirror, then Zalando's) into the fastops
     cache.
A file verifies when the sha256 of its decompressed IDX bytes is the one below (so a
recompressed .gz, as Debian ships, is accepted) or, for a .gz, when its md5 is the one Zalando
publishes; its IDX structure is checked in every case.
"""
import gzip
import hashlib
import zlib
from pathlib import Path

from . import _fetch
from ._idx import parse_idx

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
URLS = ["https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
SUBDIR = "fashion-mnist"

FILES = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
         "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}
SHAPES = {"x_train": (60000, 28, 28), "y_train": (60000,),
          "x_test": (10000, 28, 28), "y_test": (10000,)}
# sha256 of the decompressed IDX files of Debian's dataset-fashion-mnist
# 0.0~git20200523.55506a9-1 (zcat FILE.gz | sha256sum).  Debian recompressed the .gz files,
# so their own digests differ from upstream's; the decompressed bytes are the data.
CONTENT_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
# md5 of the canonical .gz files as published in Zalando's README (the only digests upstream
# publishes).
UPSTREAM_GZ_MD5 = {
    "train-images-idx3-ubyte": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte": "bb300cfdad3c16e7a12a480ee83cd310",
}


def load_data():
    """Load Fashion-MNIST as Keras does.

    Returns:
        ((x_train, y_train), (x_test, y_test)): uint8 arrays of shapes (60000, 28, 28),
        (60000,), (10000, 28, 28), (10000,); labels 0..9.

    Raises:
        OSError: a file could not be found, fetched or verified; the message says where to
            put it by hand (or: `apt-get install dataset-fashion-mnist`).
    """
    a = {key: _load(key, stem) for key, stem in FILES.items()}
    return (a["x_train"], a["y_train"]), (a["x_test"], a["y_test"])


def _load(key, stem):
    cache, keras = _fetch.data_home() / SUBDIR, _fetch.keras_home() / SUBDIR
    sources = [_fetch.Local(DEBIAN_DIR / stem), _fetch.Local(DEBIAN_DIR / (stem + ".gz")),
               _fetch.CACHE, _fetch.Local(cache / stem),
               _fetch.Local(keras / stem), _fetch.Local(keras / (stem + ".gz"))]
    sources += [_fetch.Url(base + stem + ".gz") for base in URLS]
    return _fetch.get_file(
        f"{SUBDIR}/{stem}.gz", sources, lambda path: _read(path, key, stem),
        what=f"Fashion-MNIST {stem}",
        expected=f"the canonical {stem}.gz: md5 {UPSTREAM_GZ_MD5[stem]}; decompressed "
                 f"sha256 {CONTENT_SHA256[stem]}",
        hint="Or run `apt-get install dataset-fashion-mnist`.")


def _read(path, key, stem):
    """The verified array in `path`; Rejected saying why otherwise."""
    try:
        raw = Path(path).read_bytes()
        gz = raw[:2] == b"\x1f\x8b"
        data = gzip.decompress(raw) if gz else raw
    except (OSError, EOFError, zlib.error) as e:
        raise _fetch.Rejected(f"unreadable ({type(e).__name__}: {e})") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != CONTENT_SHA256[stem] and not (
            gz and hashlib.md5(raw, usedforsecurity=False).hexdigest() == UPSTREAM_GZ_MD5[stem]):
        raise _fetch.Rejected(f"decompressed sha256 {digest} is not the expected "
                              f"{CONTENT_SHA256[stem]}")
    try:
        array = parse_idx(data, str(path))
    except ValueError as e:
        raise _fetch.Rejected(str(e)) from None
    if array.dtype.name != "uint8" or array.shape != SHAPES[key]:
        raise _fetch.Rejected(f"holds {array.dtype}{array.shape}, expected uint8{SHAPES[key]}")
    if key.startswith("y") and array.size and array.max() > 9:
        raise _fetch.Rejected(f"holds label {array.max()} (> 9)")
    return array
