"""Reading a pytest-benchmark JSON file for fastops.bench: the rows of each group (one
implementation each, its median time, flops and bytes), ordered, and the run's header
(CPU, threads, versions, commit)."""
import json

REFERENCES = ("numpy", "blas")  # first present in a group is its reference
IMPL_ORDER = ("naive", "cython", "fastops", "fastops-portable", "blas", "numpy")
# groups are listed kernel by kernel (first word of the group name), then in file order
KERNEL_ORDER = ("relu", "relu_backward", "add", "maximum", "bias_add_relu", "sum",
                "matmul", "dot", "mlp")


class ReportError(ValueError):
    """The input is not a usable pytest-benchmark JSON file."""



def load(path):
    """Read a --benchmark-json file; return (header dict, {group: [row, ...]})."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise ReportError(f"cannot read {path!r}: {e.strerror or e}") from None
    except json.JSONDecodeError as e:
        raise ReportError(f"{path!r} is not JSON ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise ReportError(f"{path!r} is not a pytest-benchmark JSON file (no 'benchmarks' list); "
                          "write one with: pytest --benchmark-only --benchmark-json=FILE")
    groups = {}
    for bench in data["benchmarks"]:
        stats = bench.get("stats") or {}
        if stats.get("median") is None:
            continue  # a run with --benchmark-disable records no timings
        info = bench.get("extra_info") or {}
        params = bench.get("params") or {}
        impl = str(info.get("impl") or params.get("impl") or bench.get("param") or bench["name"])
        groups.setdefault(bench.get("group") or "(no group)", []).append({
            "impl": impl,
            "name": bench.get("name", impl),
            "median": float(stats["median"]),
            "rounds": stats.get("rounds"),
            "flops": info.get("flops"),
            "bytes": info.get("bytes"),
            "threads": info.get("threads"),
        })
    if not groups:
        raise ReportError(f"{path!r} holds no timed benchmarks (was it written with "
                          "--benchmark-disable, or did every benchmark get skipped?)")
    for rows in groups.values():
        _disambiguate(rows)
        rows.sort(key=_impl_rank)
    order = sorted(enumerate(groups), key=lambda ig: (_kernel_rank(ig[1]), ig[0]))
    groups = {g: groups[g] for _, g in order}
    return _header(data, groups), groups


def _kernel_rank(group):
    word = group.split(" ", 1)[0]
    return KERNEL_ORDER.index(word) if word in KERNEL_ORDER else len(KERNEL_ORDER)


def _disambiguate(rows):
    # two rows with the same impl in one group: label them by test name so neither hides
    seen = {}
    for r in rows:
        seen[r["impl"]] = seen.get(r["impl"], 0) + 1
    for r in rows:
        r["label"] = r["impl"] if seen[r["impl"]] == 1 else f"{r['impl']} ({r['name']})"


def _impl_rank(row):
    impl = row["impl"]
    return (IMPL_ORDER.index(impl) if impl in IMPL_ORDER else len(IMPL_ORDER), row["label"])


def _header(data, groups):
    m = data.get("machine_info") or {}
    cpu = m.get("cpu") or {}
    brand = m.get("cpu_model") or cpu.get("brand_raw") or m.get("processor") or "unknown CPU"
    if cpu.get("family") is not None and cpu.get("model") is not None:
        brand += f" (family {cpu['family']} model {cpu['model']})"
    threads = sorted({r["threads"] for rows in groups.values() for r in rows
                      if r["threads"] is not None})
    versions = {"python": m.get("python_version"), "pytest-benchmark": data.get("version")}
    versions.update(m.get("versions") or {})  # numpy, fastops, BLAS: benchmarks/conftest.py
    commit = data.get("commit_info") or {}
    return {
        "cpu": brand,
        "cores": cpu.get("count"),
        "threads": ", ".join(map(str, threads)) or "not recorded",
        "simd": m.get("fastops_simd"),
        "versions": {k: v for k, v in versions.items() if v},
        "date": data.get("datetime"),
        "commit": commit.get("id"),
        "dirty": commit.get("dirty"),
        "coretype_forced": m.get("openblas_coretype_forced"),
    }


def reference(rows):
    """The row the others are compared with: 'numpy' if present, else 'blas', else None."""
    for name in REFERENCES:
        for r in rows:
            if r["impl"] == name:
                return r
    return None
