"""How get_file's verify functions judge a file: by its digest, or by a digest of the arrays
it holds, raising Rejected with the reason when it is not the expected one."""
import hashlib

_CHUNK = 1 << 20


class Rejected(Exception):
    """Raised by a verify function: the file is not the expected one; str() says why."""


def file_digest(path, algorithm="sha256"):
    h = hashlib.new(algorithm, usedforsecurity=algorithm != "md5")
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def arrays_sha256(*arrays):
    """sha256 over the raw C-order bytes of the arrays, in order (independent of the file
    format and of the zlib version that compressed it)."""
    h = hashlib.sha256()
    for a in arrays:
        h.update(memoryview(a).cast("B") if a.flags.c_contiguous else a.tobytes())
    return h.hexdigest()


def digest_is(expected, algorithm="sha256", label="the expected file"):
    """Raise Rejected unless the file's digest is `expected`."""
    def check(path):
        actual = file_digest(path, algorithm)
        if actual != expected:
            raise Rejected(f"{algorithm} {actual} differs from {label}'s {expected}")
    return check
