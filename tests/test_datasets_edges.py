"""The dataset layer's rejections and progress lines, driven directly with small inputs made
here: each malformed file is refused with a reason that names what is wrong (the loaders'
source lists then move on), and progress is rewritten in place on a terminal only."""
import io
import pickle
import zipfile

import numpy as np
import pytest

from fastops.datasets import _download, _fetch, _npz, _text, boston_housing, mnist


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_rewrites_one_line_on_a_terminal_and_prints_two_otherwise(monkeypatch):
    tty = FakeTerminal()
    monkeypatch.setattr(_download.sys, "stderr", tty)
    p = _download.Progress("Downloading x", total=4e6)
    p.update(1e6)
    p.close()
    assert tty.getvalue() == ("\rDownloading x: 1.0/4.0 MB ( 25%)"
                              "\rDownloading x: 1.0/4.0 MB ( 25%) done\n")
    log = io.StringIO()
    monkeypatch.setattr(_download.sys, "stderr", log)
    p = _download.Progress("Converting y", unit="k rows", scale=1e3)
    p.update(2500)
    p.close()
    assert log.getvalue() == "Converting y ...\nConverting y: 2.5 k rows done\n"


def test_a_download_that_breaks_off_says_after_how_many_bytes(monkeypatch, tmp_path):
    class Broken(io.BytesIO):
        headers = {"Content-Length": "10"}

        def read(self, n=-1):
            if self.tell():
                raise TimeoutError("timed out")
            return super().read(4)

    monkeypatch.setattr(_download.urllib.request, "urlopen", lambda url, timeout: Broken(b"x" * 10))
    with pytest.raises(OSError, match="broke off after 4 bytes: timed out"):
        _download.download("http://127.0.0.1:9/f", tmp_path / "f")


def test_npz_files_missing_an_array(tmp_path):
    np.savez(tmp_path / "a.npz", x=np.ones(2))
    with pytest.raises(_fetch.Rejected, match="missing array 'y"):
        _npz.read_npz(tmp_path / "a.npz", ["x", "y"])
    with pytest.raises(_fetch.Rejected, match="missing array"):
        _npz.read_object_npz(tmp_path / "a.npz", ["y"])


def object_npy(shape, array, version):
    buf = io.BytesIO()  # write_array_header_N_0 writes the magic string, then the header
    header = {"descr": "|O", "fortran_order": False, "shape": shape}
    getattr(np.lib.format, f"write_array_header_{version[0]}_0")(buf, header)
    pickle.dump(array, buf, protocol=3)
    return buf.getvalue()


def test_object_arrays_in_a_version_2_header_and_pickles_that_lie(tmp_path):
    seqs = np.empty(2, dtype=object)
    seqs[0], seqs[1] = [1, 2, 3], [4]
    for name, shape in (("good", (2,)), ("liar", (3,))):
        with zipfile.ZipFile(tmp_path / f"{name}.npz", "w") as z:
            z.writestr("x.npy", object_npy(shape, seqs, (2, 0)))
    got = _npz.read_object_npz(tmp_path / "good.npz", ["x"])["x"]
    assert got.shape == (2,) and got[0] == [1, 2, 3] and got[1] == [4]
    with pytest.raises(_fetch.Rejected, match="does not hold the \\(3,\\) array"):
        _npz.read_object_npz(tmp_path / "liar.npz", ["x"])


def test_text_datasets_reject_arrays_of_the_wrong_kind():
    seqs = np.empty(2, dtype=object)
    seqs[:] = [[1], [2]]
    with pytest.raises(_fetch.Rejected, match="expected 1-D object"):
        _text.check_sequences({"x": np.ones((2, 2)), "y": np.zeros(2, int)}, [("x", "y")])
    with pytest.raises(_fetch.Rejected, match="expected integers"):
        _text.check_sequences({"x": seqs, "y": np.zeros(2)}, [("x", "y")])


def test_a_word_index_that_is_not_json(tmp_path, monkeypatch):
    path = tmp_path / "index.json"
    path.write_bytes(b"\xff{not json")
    md5 = _fetch.file_digest(path, "md5")
    monkeypatch.setattr(_fetch, "get_file", lambda name, sources, verify, **kw: verify(path))
    with pytest.raises(_fetch.Rejected, match="not JSON"):
        _text.word_index("index.json", "http://127.0.0.1:9/", md5, None, "a word index")


BOSTON_HEADER = "CRIM,ZN,INDUS,CHAS,NOX,RM,AGE,DIS,RAD,TAX,PTRATIO,B,LSTAT,MEDV\n"


@pytest.mark.parametrize("text, match", [
    ("506,13\nno header here\n", "no CRIM,...,MEDV header line"),
    (BOSTON_HEADER + "1,2,x\n", "could not convert"),
    (BOSTON_HEADER + ",".join(["1"] * 14) + "\n", r"\(1, 14\) values, expected \(506, 14\)"),
])
def test_boston_csvs_that_are_not_the_data(text, match):
    with pytest.raises(_fetch.Rejected, match=match):
        boston_housing.parse_csv(text, "b.csv")


def test_boston_content_checks(tmp_path):
    a = {"x": np.ones((506, 13), np.float32), "y": np.ones(506, np.float32)}
    with pytest.raises(_fetch.Rejected, match="not float64"):
        boston_housing._check_content(a)
    with pytest.raises(_fetch.Rejected, match=r"expected float \(506, 13\)"):
        boston_housing._check_shapes({"x": np.ones((5, 13)), "y": np.ones(5)})
    (tmp_path / "b.csv").write_bytes(b"\xe9" + BOSTON_HEADER.encode())
    with pytest.raises(_fetch.Rejected, match="not the Boston CSV"):
        boston_housing._verify_csv(tmp_path / "b.csv")
    assert boston_housing.DEBIAN_SKLEARN / boston_housing.SKLEARN_CSV in boston_housing._sklearn_csvs()


def mnist_csv(rows, width=785, header_cols=785):
    head = ",".join(f"c{i}" for i in range(header_cols)) + "\n"
    return head + "".join(",".join(str(v) for v in r[:width]) + "\n" for r in rows)


@pytest.mark.parametrize("text, n_rows, match", [
    (mnist_csv([], header_cols=3), 1, "header has 3 columns"),
    (mnist_csv([[1] * 785] * 3), 2, "more than 2 rows"),
    (mnist_csv([[300] * 785]), 1, "outside 0..255"),
    (mnist_csv([[1] * 785]), 2, "1 rows, expected 2"),
])
def test_mnist_csvs_that_are_not_the_data(text, n_rows, match, tmp_path):
    with zipfile.ZipFile(tmp_path / "w.whl", "w") as z:
        z.writestr("t.csv", text)
    with zipfile.ZipFile(tmp_path / "w.whl") as z, pytest.raises(ValueError, match=match):
        mnist._read_csv(z, "t.csv", n_rows)


def test_mnist_arrays_with_a_label_above_nine_are_refused():
    """Checked before the content digest, so the reason names the labels."""
    a = {"x_train": np.zeros((mnist.N_TRAIN, mnist.SIDE, mnist.SIDE), np.uint8),
         "y_train": np.zeros(mnist.N_TRAIN, np.uint8),
         "x_test": np.zeros((mnist.N_TEST, mnist.SIDE, mnist.SIDE), np.uint8),
         "y_test": np.zeros(mnist.N_TEST, np.uint8)}
    mnist._check_arrays(a)  # the same arrays with valid labels pass
    a["y_test"][-1] = 10
    with pytest.raises(_fetch.Rejected, match="y_test"):
        mnist._check_arrays(a)
