"""Reading files of every format, encoding and delimiter users bring."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

from soundatlas.errors import CatalogError
from soundatlas.reading import read_table, sniff_delimiter

HEADER = ["name", "artists", "danceability", "energy"]
ROWS = [
    ["Ça c'est Paris", "Mistinguett", "0.582", "0.371"],
    ["Song, with comma", "B", "0.5", "0.6"],
]


def _text(delimiter: str) -> str:
    lines = [delimiter.join(HEADER)]
    for row in ROWS:
        lines.append(delimiter.join(f'"{c}"' if delimiter in c or "," in c else c for c in row))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed_and_cells_kept_as_text(tmp_path, delimiter):
    path = tmp_path / "tracks.txt"
    path.write_text(_text(delimiter), encoding="utf-8")
    raw = read_table(path)
    assert raw.delimiter == delimiter
    assert list(raw.frame.columns) == HEADER
    assert raw.frame.iloc[0].tolist() == ROWS[0]
    assert raw.frame.iloc[1, 0] == "Song, with comma"
    assert raw.lines.tolist() == [2, 3]


def test_utf8_bom_is_not_part_of_the_first_header(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + _text(",").encode())
    raw = read_table(path)
    assert raw.frame.columns[0] == "name"
    assert raw.encoding == "utf-8"
    assert raw.notes == ()


def test_other_encoding_is_read_with_a_note_naming_it(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(_text(",").encode("cp1252"))
    raw = read_table(path)
    assert raw.frame.iloc[0, 0] == "Ça c'est Paris"
    assert raw.encoding not in (None, "utf-8")
    assert any("not valid UTF-8" in n and raw.encoding in n for n in raw.notes)


def test_utf16_text_from_spreadsheets(tmp_path):
    path = tmp_path / "excel.txt"
    path.write_bytes(_text("\t").encode("utf-16"))
    raw = read_table(path)
    assert raw.frame.iloc[0, 0] == "Ça c'est Paris"


def test_format_is_recognised_by_content_not_name(tmp_path):
    frame = pd.DataFrame([dict(zip(HEADER, r, strict=True)) for r in ROWS])
    disguised = tmp_path / "really_parquet.csv"
    frame.to_parquet(disguised)
    assert read_table(disguised).file_format == "parquet"
    as_json = tmp_path / "tracks.csv"
    as_json.write_text(frame.to_json(orient="records"), encoding="utf-8")
    assert read_table(as_json).file_format == "json"


def test_json_lines_and_nested_lists(tmp_path):
    path = tmp_path / "tracks.jsonl"
    records = [
        {"name": "A", "artists": [{"name": "X"}, {"name": "Y"}], "audio": {"energy": 0.5}},
        {"name": "B", "artists": [{"name": "Z"}], "audio": {"energy": 0.7}},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    raw = read_table(path)
    assert raw.file_format == "jsonl"
    assert raw.frame.loc[0, "artists"] == "['X', 'Y']"
    assert raw.frame.loc[1, "audio.energy"] == 0.7


def test_gzip_is_decompressed(tmp_path):
    path = tmp_path / "tracks.csv.gz"
    path.write_bytes(gzip.compress(_text(",").encode()))
    raw = read_table(path)
    assert len(raw.frame) == 2
    assert "decompressed from gzip" in raw.notes


def test_ragged_rows_are_skipped_and_reported_with_lines(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,c\n1,2,3\n4,5,6,7\n8,9\n10,11,12\n", encoding="utf-8")
    raw = read_table(path)
    assert raw.frame["a"].tolist() == ["1", "10"]
    assert [(r.line, r.found) for r in raw.ragged] == [(3, 4), (4, 2)]
    assert raw.lines.tolist() == [2, 5]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"   \n\n", "the file is empty"),
        (b"name,energy\n", "has a header but no rows"),
        (b"\x00\x01\x02binary\x00data", "binary file"),
        (b"PK\x03\x04zipdata", "ZIP archive"),
        (b"PAR1garbage", "looks like Parquet but cannot be read"),
        (b"[1, 2, 3]", "JSON must be an array of track objects"),
        (b"[]", "holds no tracks"),
        (b'{"a": 1}\n{oops}\n', "line 2 is not valid JSON"),
    ],
)
def test_unreadable_files_raise_one_clear_message(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(CatalogError, match=message) as caught:
        read_table(path)
    assert str(path) in str(caught.value)


def test_missing_path_and_folder(tmp_path):
    with pytest.raises(CatalogError, match="no such file"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(CatalogError, match="is a folder"):
        read_table(tmp_path)


def test_sniffer_prefers_the_consistent_delimiter():
    assert sniff_delimiter("a;b;c\n1,5;2;3\n4;5,5;6\n") == ";"
    assert sniff_delimiter("title|artist\nHello, World|X\n") == "|"


def test_lines_are_right_with_blank_lines_and_cells_spanning_lines(tmp_path):
    path = tmp_path / "multi.csv"
    path.write_text(
        'name,energy\n"One\nTwo",0.5\n\nThree,0.6\nFour,0.7,extra\n\nFive,bad\n', encoding="utf-8"
    )
    raw = read_table(path)
    assert raw.frame["name"].tolist() == ["One\nTwo", "Three", "Five"]
    assert raw.lines.tolist() == [2, 5, 8]
    assert [(r.line, r.found) for r in raw.ragged] == [(6, 3)]
