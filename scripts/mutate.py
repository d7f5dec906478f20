"""A small mutation runner: does the test suite notice a planted bug?

Each mutant (scripts/mutants.py) replaces one exact piece of source text with a wrong one
(an off-by-one in a tail loop, a dropped NaN check, a wrong sign in a gradient, a backend
table pointing at the wrong implementation, ...).  For each, one at a time:

- Python mutants (fastops/...) are written into the *installed* package, because the tests
  import the installed fastops (tests/test_install.py);
- C and Cython mutants (src/...) are written into a copy of the worktree, whose extensions
  are rebuilt in place (only those whose sources changed) and copied over the installed ones;

then the mutant's fast test subset runs (`pytest -x`, with a timeout: a hang counts as
killed).  A mutant is *killed* when the tests fail, *survived* when they pass, *invalid* when
it does not apply or does not build.  Every installed file is backed up first and restored
after each mutant and at exit, Ctrl-C or SIGTERM included; a journal left by a run that was
killed outright (SIGKILL) is replayed at the next start.

    python scripts/mutate.py                  # every mutant
    python scripts/mutate.py K1 P3            # some
    python scripts/mutate.py --list
    python scripts/mutate.py --json out.json  # results as JSON too

Run it with the venv's python where fastops is installed (pip install --no-build-isolation
'.[test]'); from the repository root.  About 1 minute per C mutant (the rebuild), 10-60 s per
Python one.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
from mutants import MUTANTS  # noqa: E402

STATE = Path(tempfile.gettempdir()) / f"fastops-mutate-{os.getuid()}"
JOURNAL = STATE / "journal.json"
TIMEOUT = 600


def installed_package():
    """The folder of the installed fastops (asked from outside the source tree)."""
    out = subprocess.run([sys.executable, "-c", "import fastops, os; print(os.path.dirname("
                          "fastops.__file__))"], cwd=tempfile.gettempdir(), check=True,
                         capture_output=True, text=True).stdout.strip()
    return Path(out)


class Restorer:
    """Backs up installed files before they change and puts them back (journal on disk)."""

    def __init__(self):
        STATE.mkdir(mode=0o700, exist_ok=True)
        self.backups = {}
        self.replay()

    def replay(self):
        if JOURNAL.exists():
            saved = json.loads(JOURNAL.read_text())
            for target, backup in saved.items():
                shutil.copy2(backup, target)
            print(f"restored {len(saved)} installed file(s) left by an interrupted run")
            JOURNAL.unlink()

    def save(self, target):
        target = str(target)
        if target not in self.backups:
            backup = STATE / f"backup-{len(self.backups)}"
            shutil.copy2(target, backup)
            self.backups[target] = str(backup)
            self._write_journal()

    def _write_journal(self):
        tmp = JOURNAL.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.backups))
        os.replace(tmp, JOURNAL)

    def restore(self):
        for target, backup in self.backups.items():
            shutil.copy2(backup, target)
            _drop_bytecode(Path(target))
            os.unlink(backup)
        self.backups.clear()
        JOURNAL.unlink(missing_ok=True)


def _drop_bytecode(path):
    cache = path.parent / "__pycache__"
    for pyc in cache.glob(path.stem + ".*.pyc") if cache.is_dir() else ():
        pyc.unlink()


def apply_text(path, mutant):
    text = path.read_text()
    count = text.count(mutant["old"])
    if count != 1:
        raise ValueError(f"{mutant['id']}: the text to replace occurs {count} times in "
                         f"{mutant['file']} (must be exactly once)")
    path.write_text(text.replace(mutant["old"], mutant["new"]))


KERNELS = "_kernels"
CYTHON_RUNG = ("_cython_kernels", "_cython_kernels_avx2", "_cython_kernels_avx512")


def extensions_of(src_file):
    """The extensions built from `src_file` (setup.py's EXTENSIONS and their includes)."""
    name = Path(src_file).name
    if name.startswith(("cython_", "_cython_kernels")):
        return set(CYTHON_RUNG)
    return {KERNELS}


class Builder:
    """A copy of the worktree whose extensions are rebuilt in place after a C/Cython mutant.

    setup.py lists every header, .inc and .pxi as a dependency of every extension, so a
    changed .inc would rebuild all three; the extensions the change cannot reach are marked
    up to date first (their .so touched), and the one a previous mutant left built from
    mutated sources is rebuilt.  With ccache installed, unchanged files are not recompiled.
    """

    def __init__(self, package):
        self.dir = Path(tempfile.mkdtemp(prefix="fastops-mutate-src-"))
        shutil.copytree(REPO, self.dir, dirs_exist_ok=True, symlinks=True,
                        ignore=shutil.ignore_patterns(".git", "build", "*.egg-info", "__pycache__",
                                                      ".hypothesis", ".coverage*"))
        self.package = package
        for so in package.glob("*.so"):  # built and newer than the sources: nothing to rebuild
            shutil.copy2(so, self.dir / "fastops" / so.name)
            os.utime(self.dir / "fastops" / so.name)
        self.stale = set()  # extensions whose .so in the copy was built from a mutant
        self.env = dict(os.environ)
        if shutil.which("ccache"):
            self.env["CC"] = "ccache " + (os.environ.get("CC") or "gcc")

    def _so(self, ext):
        return list((self.dir / "fastops").glob(ext + ".*.so"))

    def build(self, src_file):
        needed = extensions_of(src_file) | self.stale
        for ext in {KERNELS, *CYTHON_RUNG} - needed:
            for so in self._so(ext):
                os.utime(so)
        r = subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"],
                           cwd=self.dir, capture_output=True, text=True, env=self.env)
        self.stale = extensions_of(src_file)
        if r.returncode != 0:
            raise RuntimeError(r.stderr[-2000:])

    def install(self, restorer):
        for so in (self.dir / "fastops").glob("*.so"):
            target = self.package / so.name
            restorer.save(target)
            shutil.copy2(so, target)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def run_tests(tests):
    """pytest -x over the mutant's tests, as the suite runs (the venv's `pytest` script from
    the root, importlib mode: the installed fastops, never the source folder)."""
    cmd = [str(Path(sys.executable).parent / "pytest"), "-x", "-q", "-p", "no:cacheprovider",
           "--benchmark-disable", *tests]
    try:
        r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return "killed", f"timed out after {TIMEOUT} s"
    last = (r.stdout.strip().splitlines() or ["(no output)"])[-1]
    if r.returncode == 0:
        return "survived", last
    if r.returncode in (1, 3):  # tests failed, or crashed inside pytest
        return "killed", last
    if r.returncode < 0:  # the interpreter died (a signal): the mutant crashed it
        return "killed", f"signal {-r.returncode}"
    return "invalid", f"pytest exit {r.returncode}: {last}\n{r.stderr[-500:]}"


def run(mutants):
    package = installed_package()
    restorer = Restorer()
    builder = None
    results = []
    try:
        for m in mutants:
            t0 = time.monotonic()
            src = m["file"].startswith("src/")
            try:
                if src:
                    builder = builder or Builder(package)
                    path = builder.dir / m["file"]
                    original = path.read_text()
                    try:
                        apply_text(path, m)
                        builder.build(m["file"])
                        builder.install(restorer)
                    finally:
                        path.write_text(original)
                else:
                    target = package / Path(m["file"]).relative_to("fastops")
                    restorer.save(target)
                    apply_text(target, m)
                    _drop_bytecode(target)
                outcome, detail = run_tests(m["tests"])
            except (ValueError, RuntimeError) as e:
                outcome, detail = "invalid", str(e)
            finally:
                restorer.restore()
            results.append({"id": m["id"], "file": m["file"], "what": m["what"],
                            "outcome": outcome, "detail": detail,
                            "seconds": round(time.monotonic() - t0, 1)})
            print(f"{m['id']:>4} {outcome:9} {m['file']}: {m['what']}  [{detail}]", flush=True)
    finally:
        restorer.restore()
        if builder is not None:
            builder.close()
    return results


def summary(results):
    valid = [r for r in results if r["outcome"] != "invalid"]
    killed = sum(r["outcome"] == "killed" for r in valid)
    lines = [f"{killed} of {len(valid)} mutants killed"
             + (f" ({100 * killed / len(valid):.0f}%)" if valid else "")
             + (f"; {len(results) - len(valid)} invalid" if len(valid) < len(results) else "")]
    lines += [f"  survived: {r['id']} {r['file']}: {r['what']}" for r in valid
              if r["outcome"] == "survived"]
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("ids", nargs="*", help="mutant ids (default: all)")
    p.add_argument("--list", action="store_true", help="list the mutants and exit")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = p.parse_args(argv)
    if args.list:
        for m in MUTANTS:
            print(f"{m['id']:>4} {m['file']}: {m['what']}")
        return 0
    chosen = [m for m in MUTANTS if not args.ids or m["id"] in args.ids]
    unknown = set(args.ids) - {m["id"] for m in MUTANTS}
    if unknown:
        p.error(f"unknown mutant id(s): {', '.join(sorted(unknown))}")
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))  # unwind: the finally restores
    results = run(chosen)
    print(summary(results))
    if args.json:
        sys.path.insert(0, str(installed_package().parent))
        from fastops._atomic import atomic_open
        with atomic_open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
