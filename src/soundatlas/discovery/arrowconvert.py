"""NumPy ↔ Arrow conversions that do not import pandas.

pyarrow imports pandas, when it is installed, the first time it converts a NumPy array or a
Python value to Arrow (``pa.array``, ``pa.scalar``, a Python value passed to a compute function)
or Arrow to NumPy (``to_numpy``): to recognise pandas objects. That import is 0.3-0.7 s of a
one-off query process on the project's machine, several times the query. The similar-songs
search and the search run on arrays (`soundatlas.discovery.queryindex`), so they convert through
these instead: straight over the Arrow buffers, the same values.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def to_numpy(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A numeric or boolean Arrow array as NumPy (its own type; float64 with NaN where missing
    when it has missing values). Zero-copy when it can be (read-only then)."""
    values = _one_chunk(values)
    kind = values.type
    if pa.types.is_dictionary(kind):
        raise TypeError("to_numpy: take the indices or the dictionary of a dictionary array")
    bits = values.buffers()
    size, offset = len(values), values.offset
    if pa.types.is_boolean(kind):
        data = _bits(bits[1], offset, size)
    else:
        dtype = _dtype(kind)
        data = (
            np.frombuffer(bits[1], dtype=dtype, count=size, offset=offset * dtype.itemsize)
            if size
            else np.zeros(0, dtype=dtype)
        )
    if values.null_count:
        data = data.astype(np.float64)
        data[~_bits(bits[0], offset, size)] = np.nan
    return data


def to_arrow(values: np.ndarray) -> pa.Array:
    """A 1-d numeric NumPy array as an Arrow array of the same type (no missing values)."""
    data = np.ascontiguousarray(values)
    if data.ndim != 1 or data.dtype.kind not in "iuf":
        raise TypeError(f"to_arrow: a 1-d numeric array is needed, not {data.dtype} {data.shape}")
    return pa.Array.from_buffers(
        pa.from_numpy_dtype(data.dtype), len(data), [None, pa.py_buffer(data)]
    )


def to_objects(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An Arrow array of text (or any values) as a NumPy object array of Python values."""
    out = np.empty(len(values), dtype=object)
    out[:] = values.to_pylist()
    return out


def text_scalar(value: str) -> pa.Scalar:
    """An Arrow large_string scalar, for the compute functions that take one (a Python str
    passed to them goes through ``pa.scalar``)."""
    data = value.encode()
    offsets = np.array([0, len(data)], dtype=np.int64)
    array = pa.Array.from_buffers(
        pa.large_string(), 1, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    return array[0]


def _one_chunk(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        if values.num_chunks == 1:
            return values.chunk(0)
        return values.combine_chunks()
    return values


def _dtype(kind: pa.DataType) -> np.dtype:
    if pa.types.is_floating(kind) or pa.types.is_integer(kind):
        return np.dtype(kind.to_pandas_dtype())
    raise TypeError(f"to_numpy: {kind} is not a number")


def _bits(buffer: pa.Buffer | None, offset: int, size: int) -> np.ndarray:
    """Arrow's bit-packed booleans (least significant bit first) as a bool array; all True
    for a missing validity buffer."""
    if buffer is None:
        return np.ones(size, dtype=np.bool_)
    packed = np.frombuffer(buffer, dtype=np.uint8)
    return np.unpackbits(packed, bitorder="little")[offset : offset + size].astype(np.bool_)
