"""Turn a pytest-benchmark JSON file into Markdown tables of ratios and a chart.

    pytest --benchmark-only --benchmark-json=out.json
    fastops-bench report out.json [--png chart.png] [--md out.md]   (or python -m fastops.bench ...)

One table per benchmark group (one operation at one shape and dtype).  Each row is an
implementation (extra_info["impl"], else the `impl` parameter); times are medians.
The reference row is "numpy" if the group has one, else "blas": the ratio column is
time / reference time, so below 1 means faster than NumPy/BLAS.  GFLOP/s and % of the
reference's GFLOP/s appear where extra_info has "flops" (matmul, training), GB/s where
it has "bytes" (minimal memory traffic of the operation).

matplotlib is optional (`pip install fastops[plot]`); without it the tables still work.
"""
import argparse
import sys
from pathlib import Path

from ._atomic import atomic_open, atomic_path
from ._bench_json import IMPL_ORDER, ReportError, load, reference  # noqa: F401

COLOURS = {"naive": "#8c8c8c", "cython": "#d62728", "fastops": "#1f77b4", "blas": "#2ca02c",
           "numpy": "#ff7f0e"}
OTHER_COLOUR = "#9467bd"
PLOT_HINT = "pip install 'fastops[plot]'  (or: pip install matplotlib)"


# ---- formatting ----

def fmt_time(seconds):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def fmt_ratio(r):
    if r < 0.01:  # naive's speed-up: keep two significant digits instead of "0.00x"
        return f"{r:.2g}x"
    if r >= 100:
        return f"{r:,.0f}x"
    return f"{r:.1f}x" if r >= 10 else f"{r:.2f}x"


def fmt_rate(x):
    return f"{x:.1f}" if x >= 1 else f"{x:.2g}"


def fmt_percent(p):
    return f"{p:.0f} %" if p >= 1 else f"{p:.2g} %"


def group_table(rows):
    """Markdown lines for one group."""
    ref = reference(rows)
    has_flops = any(r["flops"] for r in rows)
    has_bytes = any(r["bytes"] for r in rows)
    ref_name = ref["impl"] if ref else None
    cols = ["impl", "median", f"time / {ref_name}" if ref else "time / ref", "speed-up"]
    if has_flops:
        cols += ["GFLOP/s", f"% of {ref_name}" if ref else "% of ref"]
    if has_bytes:
        cols.append("GB/s")
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join(["---"] + ["---:"] * (len(cols) - 1)) + "|"]
    for r in rows:
        cells = [r["label"], fmt_time(r["median"])]
        if ref:
            cells += [fmt_ratio(r["median"] / ref["median"]), fmt_ratio(ref["median"] / r["median"])]
        else:
            cells += ["–", "–"]
        if has_flops:
            gf = r["flops"] / r["median"] / 1e9 if r["flops"] else None
            ref_gf = ref["flops"] / ref["median"] / 1e9 if ref and ref["flops"] else None
            cells.append(fmt_rate(gf) if gf else "–")
            cells.append(fmt_percent(100 * gf / ref_gf) if gf and ref_gf else "–")
        if has_bytes:
            cells.append(fmt_rate(r["bytes"] / r["median"] / 1e9) if r["bytes"] else "–")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def summary_table(groups):
    """One line per group: the ladder (each rung's time over fastops') and fastops against
    the reference."""
    lines = ["| group | reference | fastops time / ref | cython time / fastops "
             "| naive time / fastops | fastops rate |",
             "|---|---|---:|---:|---:|---:|"]
    for group, rows in groups.items():
        by_impl = {r["impl"]: r for r in rows}
        fast, ref = by_impl.get("fastops"), reference(rows)
        if fast is None:
            continue
        rate = "–"
        if fast["flops"]:
            rate = f"{fmt_rate(fast['flops'] / fast['median'] / 1e9)} GFLOP/s"
        elif fast["bytes"]:
            rate = f"{fmt_rate(fast['bytes'] / fast['median'] / 1e9)} GB/s"

        def over_fastops(name):
            r = by_impl.get(name)
            return fmt_ratio(r["median"] / fast["median"]) if r else "–"
        lines.append("| " + " | ".join([
            group, ref["impl"] if ref else "–",
            fmt_ratio(fast["median"] / ref["median"]) if ref else "–",
            over_fastops("cython"), over_fastops("naive"), rate]) + " |")
    return lines


def markdown(header, groups):
    h = header
    out = ["## fastops benchmarks", ""]
    cpu = h["cpu"] + (f", {h['cores']} cores" if h["cores"] else "")
    out.append(f"- CPU: {cpu}; threads (fastops and BLAS): {h['threads']}"
               + (f"; fastops SIMD: {h['simd']}" if h["simd"] else ""))
    if h["versions"]:
        out.append("- versions: " + ", ".join(f"{k} {v}" for k, v in h["versions"].items()))
    when = h["date"] or "unknown date"
    if h["commit"] and h["commit"] != "unversioned":
        when += f", commit {h['commit'][:10]}" + (" (dirty)" if h["dirty"] else "")
    out.append(f"- date: {when}")
    if h.get("coretype_forced"):
        out.append(f"- **warning: OPENBLAS_CORETYPE={h['coretype_forced']} forced an OpenBLAS kernel"
                   f" for this run; BLAS ratios are against that kernel, not the best one**")
    out.append("- times are medians; `time / numpy` below 1 means faster than the reference "
               "(NumPy, or BLAS where a group has no NumPy row); speed-up = reference time / time")
    out += ["", "### Summary", ""] + summary_table(groups)
    for group, rows in groups.items():
        ref = reference(rows)
        out += ["", f"### {group}", "",
                f"reference: `{ref['impl']}`" if ref else "reference: none (no numpy/blas row)", ""]
        out += group_table(rows)
    return "\n".join(out) + "\n"


# ---- chart ----

def chart(groups, path):
    """Horizontal bars of time / reference per group, log scale, fixed colour per impl."""
    try:
        import matplotlib
    except ImportError:
        raise ReportError(f"--png needs matplotlib, which is not installed: {PLOT_HINT}") from None
    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    names = [g for g, rows in groups.items() if reference(rows)]
    if not names:
        raise ReportError("no group has a numpy or blas row, so there is no ratio to chart")
    refs = {id(reference(groups[g])) for g in names}
    # the reference rows are all 1.0: drawn once as the vertical line, not as bars
    impls = sorted({r["impl"] for g in names for r in groups[g] if id(r) not in refs},
                   key=lambda i: (IMPL_ORDER.index(i) if i in IMPL_ORDER else 99, i))
    height = 0.8 / max(1, len(impls))
    base = min(0.5, min(_all_ratios(groups, names)) / 2)  # log axis: bars cannot start at 0
    fig, ax = plt.subplots(figsize=(9, 1.2 + len(names) * (0.1 * len(impls) + 0.1)))
    for k, impl in enumerate(impls):
        ys, xs = [], []
        for i, g in enumerate(names):
            for r in groups[g]:
                if r["impl"] == impl and id(r) not in refs:
                    ys.append(i + (k - (len(impls) - 1) / 2) * height)
                    xs.append(r["median"] / reference(groups[g])["median"])
                    break
        ax.barh(ys, [x - base for x in xs], left=base, height=height,
                color=COLOURS.get(impl, OTHER_COLOUR), label=impl)
    ax.set_xscale("log")
    ax.axvline(1.0, color=COLOURS["numpy"], linewidth=2, label="numpy / blas (reference) = 1")
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names, fontsize=8)
    ax.set_ylim(len(names) - 0.5, -0.5)  # first group on top, no empty bands
    ax.set_xlabel("time / reference (numpy, else blas); log scale, lower is faster")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, fontsize=8, frameon=False)
    ax.grid(axis="x", which="both", alpha=0.3)
    fig.tight_layout()
    try:
        with atomic_path(path) as tmp:
            # the temporary name has no extension: the format is the final name's
            fig.savefig(tmp, dpi=110, format=Path(path).suffix.lstrip(".") or None)
    finally:
        plt.close(fig)


def _all_ratios(groups, names):
    return [r["median"] / reference(groups[g])["median"] for g in names for r in groups[g]]


# ---- command line ----

def main(argv=None):
    parser = argparse.ArgumentParser(prog="fastops-bench",
                                     description="Reports from pytest-benchmark JSON files.")
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="Markdown tables of ratios (and a PNG chart)")
    rep.add_argument("file", help="JSON written by pytest --benchmark-json=FILE")
    rep.add_argument("--png", help=f"also draw the ratios into this PNG (needs {PLOT_HINT})")
    rep.add_argument("--md", help="write the Markdown here instead of standard output")
    args = parser.parse_args(argv)
    try:
        header, groups = load(args.file)
        text = markdown(header, groups)
        if args.md:
            with atomic_open(args.md, "w", encoding="utf-8") as f:
                f.write(text)
        else:
            sys.stdout.write(text)
        if args.png:
            chart(groups, args.png)
    except (ReportError, OSError) as e:
        parser.exit(2, f"fastops.bench: error: {e}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
