"""fastops-train's --plot: the book's loss/accuracy curves as a PNG, or a clear message
without matplotlib (the 'plot' extra)."""
import sys

import pytest

from fastops import callbacks, train


def history():
    h = callbacks.History()
    h.epoch = [0, 1, 2]
    h.history = {"loss": [0.5, 0.3, 0.2], "accuracy": [0.8, 0.9, 0.95],
                 "val_loss": [0.4, 0.35, 0.33], "val_accuracy": [0.85, 0.88, 0.9]}
    return h


def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib", reason="the 'plot' extra (matplotlib) is not installed")
    path = tmp_path / "history.png"
    train.plot_history(history(), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["history.png"]  # no temporaries left


def test_without_matplotlib_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(SystemExit, match=r"pip install 'fastops\[plot\]'"):
        train.main(["--plot", str(tmp_path / "h.png")])
    with pytest.raises(RuntimeError, match="matplotlib"):
        train.plot_history(history(), tmp_path / "h.png")
    assert not list(tmp_path.iterdir())
