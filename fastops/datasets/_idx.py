"""IDX, the file format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/).

Layout: two zero bytes, a type code, the number of dimensions n, n big-endian uint32 sizes,
then the values, big-endian, in C order.  Nothing may follow them.
"""
import struct

import numpy as np

_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def parse_idx(data, name="IDX data"):
    """The array stored in `data` (bytes), native byte order and writable.

    Raises ValueError naming `name` when the magic, the type code or the size is wrong
    (a truncated file is caught by the size check).
    """
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{name}: not an IDX file (magic {bytes(data[:4])!r})")
    code, ndim = data[2], data[3]
    if code not in _TYPES:
        raise ValueError(f"{name}: unknown IDX type code 0x{code:02x}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{name}: truncated header ({len(data)} bytes)")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(_TYPES[code])
    expected = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(f"{name}: {len(data)} bytes, but its header {dims} of "
                         f"{dtype.name} says {expected}")
    values = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    return values.astype(dtype.newbyteorder("="), copy=True)
