"""`python -m fastops.bench report`: the tables carry the numbers that are in the JSON."""
import json
import subprocess
import sys
import textwrap

import pytest

from fastops import bench


def _bench(group, impl, median, **info):
    # the fields pytest-benchmark 4/5 writes per benchmark (only those the report reads matter)
    return {"group": group, "name": f"test_x[{impl}]", "fullname": f"bench_x.py::test_x[{impl}]",
            "params": {"impl": impl}, "param": impl, "extra_info": dict(info),
            "options": {}, "stats": {"min": median * 0.9, "max": median * 1.2, "mean": median,
                                     "median": median, "rounds": 5, "iterations": 1}}


def _doc(benchmarks):
    return {"machine_info": {"cpu": {"brand_raw": "Test CPU", "count": 2, "family": 25,
                                     "model": 17},
                             "python_version": "3.11.7",
                             "versions": {"numpy": "9.9.9", "fastops": "0.1.0"},
                             "fastops_simd": "avx512"},
            "commit_info": {"id": "0123456789abcdef", "dirty": False},
            "benchmarks": benchmarks, "datetime": "2026-01-02T03:04:05", "version": "5.2.3"}


def _write(tmp_path, benchmarks, name="b.json"):
    path = tmp_path / name
    path.write_text(json.dumps(_doc(benchmarks)))
    return str(path)


def _rows(md, group):
    """{impl: [cells]} of the table under '### group'."""
    lines = md.split(f"### {group}\n", 1)[1].split("\n### ", 1)[0].splitlines()
    table = [ln for ln in lines if ln.startswith("| ")]
    head = [c.strip() for c in table[0].strip("|").split("|")]
    rows = {}
    for ln in table[1:]:
        cells = [c.strip() for c in ln.strip("|").split("|")]
        rows[cells[0]] = dict(zip(head, cells))
    return rows


def _report(argv, capsys):
    code = bench.main(argv)
    return code, capsys.readouterr().out


def test_ratios_rates_and_header(tmp_path, capsys):
    path = _write(tmp_path, [
        _bench("relu (1e6,) float32", "naive", 0.5, bytes=8e6, threads=1),
        _bench("relu (1e6,) float32", "fastops", 1e-3, bytes=8e6, threads=1),
        _bench("relu (1e6,) float32", "numpy", 2e-3, bytes=8e6, threads=1),
        _bench("matmul 1024 float32", "blas", 0.02, flops=2e9, threads=1),
        _bench("matmul 1024 float32", "fastops", 0.025, flops=2e9, threads=1),
    ])
    code, md = _report(["report", path], capsys)
    assert code == 0
    assert "Test CPU (family 25 model 17), 2 cores" in md
    assert "threads (fastops and BLAS): 1" in md and "numpy 9.9.9" in md
    assert "2026-01-02" in md and "commit 0123456789" in md

    relu = _rows(md, "relu (1e6,) float32")
    assert list(relu) == ["naive", "fastops", "numpy"]
    assert relu["fastops"]["median"] == "1 ms"
    assert relu["fastops"]["time / numpy"] == "0.50x"
    assert relu["fastops"]["speed-up"] == "2.00x"
    assert relu["naive"]["time / numpy"] == "250x"
    assert relu["naive"]["speed-up"] == "0.004x" and relu["naive"]["GB/s"] == "0.016"
    assert relu["numpy"]["time / numpy"] == "1.00x"
    assert relu["fastops"]["GB/s"] == "8.0" and relu["numpy"]["GB/s"] == "4.0"
    assert "GFLOP/s" not in relu["numpy"]

    mm = _rows(md, "matmul 1024 float32")
    assert "reference: `blas`" in md.split("### matmul", 1)[1]
    assert mm["blas"]["GFLOP/s"] == "100.0" and mm["fastops"]["GFLOP/s"] == "80.0"
    assert mm["fastops"]["% of blas"] == "80 %"
    assert mm["fastops"]["time / blas"] == "1.25x"


def test_numpy_is_preferred_reference_and_missing_reference_is_said(tmp_path, capsys):
    # training groups have both: the plain NumPy loop is the reference, backend 'blas' a row
    path = _write(tmp_path, [
        _bench("mlp epoch", "blas", 3.0), _bench("mlp epoch", "numpy", 2.0),
        _bench("mlp epoch", "fastops", 1.0),
        _bench("lonely", "fastops", 1.0),
    ])
    _, md = _report(["report", path], capsys)
    mlp = _rows(md, "mlp epoch")
    assert mlp["blas"]["time / numpy"] == "1.50x" and mlp["fastops"]["time / numpy"] == "0.50x"
    assert "reference: none" in md.split("### lonely", 1)[1]
    assert _rows(md, "lonely")["fastops"]["time / ref"] == "–"


def test_md_option_writes_file(tmp_path, capsys):
    path = _write(tmp_path, [_bench("g", "numpy", 1.0), _bench("g", "fastops", 3.0)])
    out = tmp_path / "r.md"
    code, stdout = _report(["report", path, "--md", str(out)], capsys)
    assert code == 0 and stdout == ""
    assert _rows(out.read_text(), "g")["fastops"]["time / numpy"] == "3.00x"


def test_md_write_that_fails_keeps_the_previous_report(tmp_path, capsys):
    # a group name with a lone surrogate cannot be encoded as UTF-8: the write of the report
    # fails part-way, after the file would have been opened (and truncated) in place
    path = _write(tmp_path, [_bench("g\ud800", "numpy", 1.0), _bench("g\ud800", "fastops", 3.0)])
    out = tmp_path / "r.md"
    out.write_text("previous report\n")
    with pytest.raises(UnicodeEncodeError):
        bench.main(["report", path, "--md", str(out)])
    assert out.read_text() == "previous report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.json", "r.md"]  # no temporary


def test_png_write_that_fails_keeps_the_previous_chart(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib", reason="the chart needs the optional extra fastops[plot]")
    from matplotlib.figure import Figure
    path = _write(tmp_path, [_bench("g", "numpy", 1.0), _bench("g", "fastops", 0.5)])
    png = tmp_path / "c.png"
    png.write_bytes(b"previous chart")
    real_savefig = Figure.savefig

    def savefig_then_disk_full(self, fname, *args, **kwargs):
        real_savefig(self, fname, *args, **kwargs)  # the whole image is written, then
        raise OSError(28, "No space left on device")  # the file system fails (close, sync)

    monkeypatch.setattr(Figure, "savefig", savefig_then_disk_full)
    with pytest.raises(SystemExit) as exc:
        bench.main(["report", path, "--png", str(png)])
    assert exc.value.code == 2 and "No space left" in capsys.readouterr().err
    assert png.read_bytes() == b"previous chart"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.json", "c.png"]  # no temporary


def test_png_without_matplotlib_says_what_to_install(tmp_path, capsys, monkeypatch):
    path = _write(tmp_path, [_bench("g", "numpy", 1.0), _bench("g", "fastops", 0.5)])
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    with pytest.raises(SystemExit) as exc:
        bench.main(["report", path, "--png", str(tmp_path / "c.png")])
    assert exc.value.code == 2
    captured = capsys.readouterr()
    assert "pip install 'fastops[plot]'" in captured.err and "matplotlib" in captured.err
    assert _rows(captured.out, "g")["fastops"]["time / numpy"] == "0.50x"  # table still printed
    assert not (tmp_path / "c.png").exists()


def test_png_chart(tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="the chart needs the optional extra fastops[plot]")
    path = _write(tmp_path, [_bench("g", "numpy", 1.0), _bench("g", "fastops", 0.5),
                             _bench("g", "naive", 300.0), _bench("h", "blas", 1.0),
                             _bench("h", "fastops", 2.0)])
    png = tmp_path / "c.png"
    assert bench.main(["report", path, "--png", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("content, message", [
    ("not json", "is not JSON"),
    ('{"foo": 1}', "not a pytest-benchmark JSON"),
    ('{"benchmarks": []}', "no timed benchmarks"),
])
def test_bad_input_is_a_clear_error(tmp_path, capsys, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(SystemExit) as exc:
        bench.main(["report", str(path)])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_missing_file_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit):
        bench.main(["report", str(tmp_path / "nope.json")])
    assert "cannot read" in capsys.readouterr().err


def test_real_pytest_benchmark_run(tmp_path):
    """A real --benchmark-json from pytest-benchmark, read through `python -m fastops.bench`."""
    (tmp_path / "bench_tiny.py").write_text(textwrap.dedent("""
        import pytest

        @pytest.mark.parametrize("impl", ["numpy", "fastops"])
        def test_tiny(benchmark, impl):
            benchmark.group = "tiny sum"
            n = 2000 if impl == "numpy" else 20
            benchmark.extra_info["impl"] = impl
            benchmark.extra_info["bytes"] = 8 * n
            assert benchmark(sum, range(n)) == n * (n - 1) // 2
    """))
    out = tmp_path / "out.json"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "bench_tiny.py",
         "--benchmark-only", "--benchmark-max-time=0.02", "--benchmark-min-rounds=3",
         f"--benchmark-json={out}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    data = json.loads(out.read_text())
    median = {b["extra_info"]["impl"]: b["stats"]["median"] for b in data["benchmarks"]}

    rep = subprocess.run([sys.executable, "-m", "fastops.bench", "report", str(out)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert rep.returncode == 0, rep.stderr
    rows = _rows(rep.stdout, "tiny sum")
    assert rows["fastops"]["time / numpy"] == bench.fmt_ratio(median["fastops"] / median["numpy"])
    assert rows["numpy"]["median"] == bench.fmt_time(median["numpy"])
    assert rows["fastops"]["GB/s"] == bench.fmt_rate(160 / median["fastops"] / 1e9)


def test_summary_lines(tmp_path, capsys):
    path = _write(tmp_path, [
        _bench("relu 1e7", "naive", 8.0, bytes=8e7), _bench("relu 1e7", "fastops", 0.004, bytes=8e7),
        _bench("relu 1e7", "numpy", 0.008, bytes=8e7),
        _bench("matmul 1024", "blas", 0.02, flops=2e9), _bench("matmul 1024", "fastops", 0.025, flops=2e9),
        _bench("numpy only", "numpy", 1.0),
    ])
    _, md = _report(["report", path], capsys)
    summary = _rows(md, "Summary")
    assert summary["relu 1e7"]["fastops time / ref"] == "0.50x"
    assert summary["relu 1e7"]["naive time / fastops"] == "2,000x"
    assert summary["relu 1e7"]["fastops rate"] == "20.0 GB/s"
    assert summary["matmul 1024"]["reference"] == "blas"
    assert summary["matmul 1024"]["fastops rate"] == "80.0 GFLOP/s"
    assert summary["matmul 1024"]["naive time / fastops"] == "–"
    assert "numpy only" not in summary  # no fastops row: nothing to summarise


def test_groups_listed_kernel_by_kernel(tmp_path, capsys):
    path = _write(tmp_path, [_bench(g, "numpy", 1.0) for g in
                             ("sum (9,)", "zeta", "maximum (3,)", "relu out= (3,)", "relu (3,)")])
    _, md = _report(["report", path], capsys)
    headings = [ln[4:] for ln in md.splitlines() if ln.startswith("### ") and ln != "### Summary"]
    assert headings == ["relu out= (3,)", "relu (3,)", "maximum (3,)", "sum (9,)", "zeta"]
