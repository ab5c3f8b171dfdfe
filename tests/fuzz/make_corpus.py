"""Writes the seed corpus of the safetensors fuzzer into a folder: valid files, and the
malformed kinds a hostile file would try (truncated, oversized and overlapping headers among
them). Generated rather than committed, so each seed reads as what it is."""
import json
import pathlib
import struct
import sys


def file(header, data=b"", size=None):
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(text) if size is None else size) + text + data


def entry(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def seeds():
    valid_header = {"__metadata__": {"format": "pt"}, "w": entry("F32", [2, 2], 0, 16), "b": entry("BF16", [2], 16, 20),
                    "i": entry("I64", [1], 20, 28), "flag": entry("BOOL", [], 28, 29), "none": entry("U8", [0], 29, 29)}
    valid = file(valid_header, bytes(29))
    yield "valid", valid
    yield "valid_unsupported_dtype", file({"u": entry("U16", [2], 0, 4)}, bytes(4))
    yield "empty_header", file({})
    for cut in (0, 4, 8, 12, len(valid) // 2, len(valid) - 1):
        yield f"truncated_{cut}", valid[:cut]
    yield "oversized_header_size", struct.pack("<Q", 2**63) + b"{}"
    yield "header_size_past_end", file({}, size=1000)
    yield "overlapping", file({"a": entry("F32", [2], 0, 8), "b": entry("F32", [2], 4, 12)}, bytes(12))
    yield "gap", file({"a": entry("F32", [2], 4, 12)}, bytes(12))
    yield "past_the_data", file({"a": entry("F32", [2], 0, 8)}, bytes(4))
    yield "reversed_offsets", file({"a": entry("F32", [0], 8, 0)}, bytes(8))
    yield "byte_count_mismatch", file({"a": entry("F32", [3], 0, 8)}, bytes(8))
    yield "overflowing_shape", file({"a": entry("F32", [2**32, 2**32, 4], 0, 8)}, bytes(8))
    yield "huge_offsets", file({"a": entry("U8", [1], 2**64 - 1, 2**64 - 1)}, bytes(1))
    yield "duplicate_names", file(b'{"a":%s,"a":%s}' % ((json.dumps(entry("F32", [2], 0, 8)).encode(),) * 2), bytes(8))
    yield "deep_nesting", file(b"[" * 5000 + b"]" * 5000)
    yield "not_utf8", file(b'{"\xc0\xaf":1}')
    yield "bad_metadata", file({"__metadata__": {"k": 1}})


if __name__ == "__main__":
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, data in seeds():
        (out / name).write_bytes(data)
