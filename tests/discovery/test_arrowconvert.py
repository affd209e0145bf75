"""NumPy <-> Arrow without pandas: the values pyarrow's own conversions give."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from soundatlas.discovery.arrowconvert import text_scalar, to_arrow, to_numpy, to_objects


@pytest.mark.parametrize(
    "values",
    [
        pa.array([1.5, -2.0, 3.25]),
        pa.array([1, None, 3], type=pa.int64()),
        pa.array([7, 8, 9], type=pa.int8()),
        pa.array([True, False, None, True, True, False, False, True, True]),
        pa.array([0.5, None]),
        pa.chunked_array([[1, 2], [3]], type=pa.int32()),
        pa.array(list(range(20)), type=pa.int64()).slice(3, 9),
        pa.array([True, False] * 9).slice(5, 7),
    ],
)
def test_to_numpy_gives_what_pyarrow_gives(values):
    ours = to_numpy(values)
    theirs = values.to_numpy() if isinstance(values, pa.ChunkedArray) else None
    if theirs is None:
        theirs = values.to_numpy(zero_copy_only=False)
    if values.null_count:  # pyarrow: floats (NaN) for numbers, objects (None) for booleans
        theirs = np.array([np.nan if v is None else v for v in theirs], dtype=np.float64)
        np.testing.assert_array_equal(ours, theirs)
        assert ours.dtype == np.float64
    else:
        np.testing.assert_array_equal(ours, theirs)
        assert ours.dtype == theirs.dtype


def test_to_arrow_and_back_and_text():
    rows = np.array([5, 0, 2], dtype=np.int64)
    assert to_arrow(rows).to_pylist() == [5, 0, 2]
    assert to_arrow(np.array([0.5, 1.5])).type == pa.float64()
    assert to_numpy(to_arrow(rows[::-1])).tolist() == [2, 0, 5]
    names = pa.array(["a", "b", "c"], type=pa.large_string())
    assert pc.take(names, to_arrow(rows[1:])).to_pylist() == ["a", "c"]
    assert to_objects(names).tolist() == ["a", "b", "c"]
    assert pc.equal(names, text_scalar("b")).to_pylist() == [False, True, False]
    assert text_scalar("Beyoncé").as_py() == "Beyoncé"
    with pytest.raises(TypeError):
        to_arrow(np.array(["x"], dtype=object))


def test_they_import_no_pandas():
    code = (
        "import sys, numpy as np, pyarrow.compute as pc\n"
        "from soundatlas.discovery.arrowconvert import text_scalar, to_arrow, to_numpy\n"
        "a = to_arrow(np.arange(4))\n"
        "to_numpy(pc.take(a, to_arrow(np.array([1, 2]))))\n"
        "pc.equal(pc.cast(a, 'string'), text_scalar('1'))\n"
        "print('pandas' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
