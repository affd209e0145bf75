"""Reading files of every format, encoding and delimiter users bring."""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pytest

from soundatlas.errors import CatalogError
from soundatlas.ingest.reading import SNIFF_BYTES, read_table, sniff_delimiter

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
    assert any("not UTF-8" in n and raw.encoding in n for n in raw.notes)


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
        (b'{"a": 1}\n{oops}\n', "line 2, character 2: not valid JSON"),
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


ROW = "0.5,0.6,-7,0.05,0.2,0.0,0.1,0.4,120"
FEATURES_HEADER = (
    "name,danceability,energy,loudness,speechiness,acousticness,instrumentalness,liveness,"
    "valence,tempo"
)


def _rows(count: int, names: str = "Song") -> list[str]:
    return [f"{names} {i},{ROW}" for i in range(count)]


def test_an_unclosed_quote_is_refused_not_swallowed(tmp_path):
    lines = [FEATURES_HEADER, *_rows(30)]
    lines[11] = '"' + lines[11]
    path = tmp_path / "unclosed.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"line 12: a quote opened in this row is never closed"):
        read_table(path)


def test_a_few_bad_bytes_do_not_garble_a_utf8_file(tmp_path):
    lines = [FEATURES_HEADER] + [f"Félix {i},{ROW}" for i in range(20)]
    data = ("\n".join(lines) + "\n").encode("utf-8").replace(b"F\xc3\xa9lix 7", b"F\xe9lix 7")
    path = tmp_path / "mostly.csv"
    path.write_bytes(data)
    raw = read_table(path)
    assert raw.encoding == "utf-8"
    assert raw.frame.loc[0, "name"] == "Félix 0"
    assert raw.frame.loc[7, "name"] == "F\ufffdlix 7"
    assert any("line(s) 9" in n for n in raw.notes)


@pytest.mark.parametrize(
    ("encode", "expected"),
    [
        (lambda t: t.replace("\n", "\r").encode(), "CR only"),
        (lambda t: t.encode("utf-16-le"), "UTF-16-LE text without a BOM"),
        (lambda t: t.encode("utf-32"), "UTF-32 text"),
        (lambda t: ("sep=;\n" + t.replace(",", ";")).encode(), "sep=;"),
        (lambda t: ("# exported by tool\n# v2\n" + t).encode(), "2 line(s) before the header"),
    ],
)
def test_odd_but_readable_text_files(tmp_path, encode, expected):
    path = tmp_path / "odd.csv"
    path.write_bytes(encode("\n".join([FEATURES_HEADER, *_rows(12)]) + "\n"))
    raw = read_table(path)
    assert len(raw.frame) == 12 and raw.frame.columns[0] == "name"
    assert any(expected in n for n in raw.notes), raw.notes
    if "before the header" in expected:
        assert raw.lines.tolist()[:2] == [4, 5]


def test_a_very_wide_header_and_a_quoted_header_cell_with_a_newline(tmp_path):
    # Wider than the delimiter sniffer's 256 KiB sample, within MAX_COLUMNS.
    name = "extra_column_with_a_name_long_enough_to_pass_the_sniffers_sample"
    wide = ",".join(f"{name}_{i:05d}" for i in range(4000))
    path = tmp_path / "wide.csv"
    path.write_text(
        f"{FEATURES_HEADER},{wide}\n" + "\n".join(f"{r},{'x,' * 3999}x" for r in _rows(3)) + "\n",
        encoding="utf-8",
    )
    assert len(wide) > SNIFF_BYTES
    assert read_table(path).frame.shape == (3, 4010)
    path = tmp_path / "newline-header.csv"
    path.write_text('"na\nme",energy\nA,0.1\nB,0.2\n', encoding="utf-8")
    raw = read_table(path)
    assert raw.frame.columns[0] == "na\nme" and len(raw.frame) == 2 and raw.ragged == ()
    assert raw.lines.tolist() == [3, 4]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x1f\x8b" + bytes(range(256)) * 4, "gzip-compressed but cannot be decompressed"),
        (gzip.compress(b"name,energy\n" * 500)[:60], "gzip-compressed but cannot be decompressed"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b"name,energy", "has a header but no rows"),
        (b"\x89PNG\r\n\x1a\nrest", "a PNG image"),
    ],
)
def test_more_unreadable_files(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(CatalogError, match=message):
        read_table(path)


def test_json_object_with_tracks_beside_other_lists(tmp_path):
    path = tmp_path / "api.json"
    path.write_text(
        json.dumps({"errors": [], "tracks": [{"name": "A", "energy": 0.1}], "pages": [1, 2]}),
        encoding="utf-8",
    )
    assert read_table(path).frame["name"].tolist() == ["A"]


def test_a_header_starting_with_a_bracket_is_csv_not_broken_json(tmp_path):
    path = tmp_path / "brackets.csv"
    path.write_text("[id],name,energy\n1,A,0.1\n2,B,0.2\n", encoding="utf-8")
    assert list(read_table(path).frame.columns) == ["[id]", "name", "energy"]


def test_a_pipe_or_device_is_refused(tmp_path):
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(CatalogError, match="not a regular file"):
        read_table(fifo)


def test_line_breaking_characters_inside_names_do_not_fool_the_sniffer(tmp_path):
    path = tmp_path / "names.csv"
    names = ["A\x0cB\x0cC", "D\u2028E\x85F", "G, H", "I\x1cJ"]
    path.write_text(
        "name;energy;tempo\n" + "".join(f"{n};0.{i};12{i}\n" for i, n in enumerate(names)),
        encoding="utf-8",
    )
    raw = read_table(path)
    assert raw.delimiter == ";"
    assert raw.frame["name"].tolist() == names


def test_rows_that_never_split_like_the_header_are_named_as_such(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("a,b,c\n1,2\n3,4\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="none of its 2 rows has the header's 3 fields"):
        read_table(path)


def test_lone_cr_line_ends_after_a_preamble_line(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(b'# exported\nname,energy\r"A",0.1\r"B",0.2\r')
    raw = read_table(path)
    assert raw.frame["name"].tolist() == ["A", "B"]
    assert any("CR only" in note for note in raw.notes)
