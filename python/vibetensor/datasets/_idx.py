"""read_idx: the IDX file format of MNIST and Fashion-MNIST, raw or gzip-compressed.

An IDX file is a 4-byte magic number (two zero bytes, a dtype code, the number of dimensions),
one big-endian uint32 per dimension, then the values, big-endian, row-major. Every check below
raises a ValueError naming the file, so a truncated download never reaches numpy as a crash or
as a silently short tensor.
"""
import gzip
import zlib

import numpy as np

import vibetensor as vt

# dtype code -> numpy dtype of the stored (big-endian) values. 0x0A is unassigned in the format.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_GZIP_MAGIC = b"\x1f\x8b"


def read_bytes(path):
    """The contents of `path`, decompressed when it is gzip data (recognised by its first
    bytes, not its name). A damaged gzip stream raises ValueError naming the file."""
    path = str(path)
    with open(path, "rb") as f:
        raw = f.read()
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:  # BadGzipFile is an OSError
        raise ValueError(f"read_idx(): {path} is a damaged or truncated gzip file ({error})") from None


def read_idx(path):
    """Reads an IDX file (raw or gzip) into a tensor of its own dtype and shape: uint8 for
    MNIST's images (N x 28 x 28) and labels (N). Raises FileNotFoundError when `path` does
    not exist and ValueError when it is not a complete IDX file."""
    path = str(path)
    data = read_bytes(path)
    if len(data) < 4:
        raise ValueError(f"read_idx(): {path} is too short for an IDX header ({len(data)} bytes)")
    zero1, zero2, code, ndim = data[0], data[1], data[2], data[3]
    if zero1 != 0 or zero2 != 0:
        raise ValueError(f"read_idx(): {path} is not an IDX file (magic number 0x{data[:4].hex()}, "
                         "expected 0x0000 followed by a dtype code and a dimension count)")
    if code not in IDX_DTYPES:
        raise ValueError(f"read_idx(): {path} has unknown IDX dtype code 0x{code:02X} "
                         f"(known: {', '.join(f'0x{c:02X}' for c in IDX_DTYPES)})")
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise ValueError(f"read_idx(): {path} is truncated inside its header "
                         f"({len(data)} bytes, the header of a {ndim}-d array takes {header_size})")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = header_size + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "longer than its header says"
        raise ValueError(f"read_idx(): {path} is {problem}: shape {list(shape)} of {dtype.name} needs "
                         f"{expected} bytes, the file has {len(data)}")
    values = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)
    # A native-order copy: vibetensor reads only native byte order, and the tensor must own
    # writable memory rather than view the read-only bytes.
    return vt.from_numpy(values.astype(dtype.newbyteorder("="), copy=True))
