"""Hostile input, round two (issue 16): very wide files, truncated JSON, long rows, CR inside
cells, NUL bytes, and ambiguous columns — each refused at once with the place named, or read as
written."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from soundatlas.errors import CatalogError
from soundatlas.ingest.catalog import load_catalog
from soundatlas.ingest.reading import MAX_COLUMNS, MAX_ROW_BYTES, read_table
from soundatlas.ingest.schema import AUDIO_FEATURES

FEATURES = ",".join(AUDIO_FEATURES)


def _rows(count: int, name: str = "song") -> list[str]:
    return [f"{name}{i},0.{i % 9 + 1},0.5,-6,0.1,0.2,0.0,0.1,0.5,{100 + i}" for i in range(count)]


def _records(count: int) -> list[dict[str, object]]:
    return [
        {"name": f"song{i}", **{f: 0.5 for f in AUDIO_FEATURES}, "loudness": -6, "tempo": 100 + i}
        for i in range(count)
    ]


# -- 1. very wide files --------------------------------------------------------------------------


@pytest.mark.parametrize("columns", [MAX_COLUMNS + 1, 200_000])
def test_a_header_wider_than_the_limit_is_refused_at_once(tmp_path, columns):
    path = tmp_path / "wide.csv"
    header = ",".join(f"c{i}" for i in range(columns))
    path.write_text(header + "\n" + ("," * (columns - 1) + "\n") * 3, encoding="utf-8")
    with pytest.raises(CatalogError, match=f"has {columns:,} columns, more than the 4,096"):
        read_table(path)


def test_a_header_of_the_limit_reads(tmp_path):
    path = tmp_path / "wide.csv"
    extra = ",".join(f"c{i}" for i in range(MAX_COLUMNS - len(AUDIO_FEATURES) - 1))
    path.write_text(
        f"name,{FEATURES},{extra}\n" + "".join(f"{r}{',' * extra.count(',')},\n" for r in _rows(3)),
        encoding="utf-8",
    )
    assert read_table(path).frame.shape == (3, MAX_COLUMNS)


def test_wide_json_and_parquet_are_refused_too(tmp_path):
    wide = {f"c{i}": 1 for i in range(MAX_COLUMNS + 1)}
    path = tmp_path / "wide.json"
    path.write_text(json.dumps([wide, wide]), encoding="utf-8")
    with pytest.raises(CatalogError, match="4,097 columns"):
        read_table(path)
    path = tmp_path / "wide.parquet"
    pd.DataFrame([wide]).to_parquet(path)
    with pytest.raises(CatalogError, match="4,097 columns"):
        read_table(path)


# -- 3. truncated JSON and JSON Lines ------------------------------------------------------------


def test_json_lines_cut_short_is_named_as_json_with_its_line(tmp_path):
    path = tmp_path / "tracks.jsonl"
    text = "\n".join(json.dumps(r) for r in _records(12))
    path.write_text(text[:-15], encoding="utf-8")
    with pytest.raises(CatalogError, match=r"line 12, character \d+: not valid JSON .*cut short"):
        read_table(path)


def test_a_json_array_cut_short_is_named_with_its_character(tmp_path):
    path = tmp_path / "tracks.json"
    text = json.dumps(_records(12), indent=1)
    path.write_text(text[:-40], encoding="utf-8")
    lines = text[:-40].count("\n") + 1
    with pytest.raises(CatalogError, match=f"line {lines}, character \\d+: .*cut short"):
        read_table(path)


def test_a_broken_line_in_the_middle_is_named(tmp_path):
    lines = [json.dumps(r) for r in _records(12)]
    lines[6] = lines[6].replace('"name"', "name", 1)
    path = tmp_path / "tracks.jsonl"
    path.write_text("\n\n" + "\n".join(lines), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"line 9, character 2: not valid JSON \(Expecting"):
        read_table(path)


@pytest.mark.parametrize(("value", "kind"), [("[1, 2]", "an array"), ("42", "a number")])
def test_a_line_that_is_not_an_object_is_named(tmp_path, value, kind):
    lines = [json.dumps(r) for r in _records(12)]
    lines.insert(4, value)
    path = tmp_path / "tracks.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(CatalogError, match=f"line 5 is {kind}.*not a track object"):
        read_table(path)


def test_csv_headers_that_start_with_brackets_are_still_csv(tmp_path):
    path = tmp_path / "tracks.csv"
    path.write_text(f"[name],{FEATURES}\n" + "\n".join(_rows(3)) + "\n", encoding="utf-8")
    raw = read_table(path)
    assert raw.file_format == "csv" and raw.frame.columns[0] == "[name]"


# -- 5. a row longer than the parser's block -----------------------------------------------------


def test_a_row_longer_than_a_block_reads(tmp_path):
    rows = _rows(20)
    rows[5] = "x" * (3 << 20) + rows[5].removeprefix("song5")
    path = tmp_path / "long.csv"
    path.write_text(f"name,{FEATURES}\n" + "\n".join(rows) + "\n", encoding="utf-8")
    raw = read_table(path)
    assert len(raw.frame) == 20 and len(raw.frame.iloc[5, 0]) == 3 << 20
    assert raw.lines.tolist() == list(range(2, 22))


def test_a_row_longer_than_the_limit_names_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr("soundatlas.ingest.reading.MAX_ROW_BYTES", 4 << 20)
    rows = _rows(20)
    rows[5] = "x" * (9 << 20) + rows[5].removeprefix("song5")
    path = tmp_path / "long.csv"
    path.write_text(f"name,{FEATURES}\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="a row is longer than 4 MiB"):
        read_table(path)
    assert MAX_ROW_BYTES == 64 << 20


# -- 6. a CR inside a quoted cell ----------------------------------------------------------------


def test_a_cr_inside_a_cell_of_a_crlf_file_stays_a_cr(tmp_path):
    rows = _rows(3)
    rows[1] = '"a\rb",' + rows[1].split(",", 1)[1]
    rows[2] = '"\r=1+1",' + rows[2].split(",", 1)[1]
    path = tmp_path / "crlf.csv"
    path.write_bytes((f"name,{FEATURES}\r\n" + "\r\n".join(rows) + "\r\n").encode())
    raw = read_table(path)
    assert raw.frame["name"].tolist() == ["song0", "a\rb", "\r=1+1"]
    assert raw.notes == ()


def test_cr_only_lines_are_still_read_as_lines(tmp_path):
    path = tmp_path / "mac.csv"
    path.write_bytes((f"name,{FEATURES}\r" + "\r".join(_rows(3)) + "\r").encode())
    raw = read_table(path)
    assert len(raw.frame) == 3 and any("CR only" in note for note in raw.notes)


# -- 8. NUL bytes: one rule wherever they are ----------------------------------------------------


@pytest.mark.parametrize("row", [1, 5_000])
def test_a_nul_byte_refuses_the_file_naming_its_line(tmp_path, row):
    rows = _rows(6_000)
    rows[row] = rows[row].replace("song", "so\x00ng", 1)
    path = tmp_path / "nul.csv"
    path.write_text(f"name,{FEATURES}\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=f"line {row + 2} holds a NUL byte"):
        read_table(path)


# -- 2. ambiguous columns ------------------------------------------------------------------------


def _table_with(extra_header: str, extra_value: str = "0.9") -> str:
    return f"name,{FEATURES},{extra_header}\n" + "".join(
        f"{row},{extra_value}\n" for row in _rows(12)
    )


def test_two_spellings_of_one_column_are_refused_naming_both(tmp_path):
    path = tmp_path / "tracks.csv"
    path.write_text(_table_with("Energy"), encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    message = str(caught.value)
    assert "2 columns could be energy: 'energy' (column 3) and 'Energy' (column 11)" in message
    assert "--column energy=energy" in message
    chosen = load_catalog(path, columns={"energy": "Energy"})
    assert chosen.tracks["energy"].tolist() == [0.9] * 12


def test_a_repeated_column_is_refused_with_the_names_in_the_file(tmp_path):
    path = tmp_path / "tracks.csv"
    path.write_text(_table_with("energy"), encoding="utf-8")
    with pytest.raises(CatalogError, match="'energy' \\(column 3\\) and 'energy' \\(column 11\\)"):
        load_catalog(path)
    with pytest.raises(CatalogError, match="Rename or remove all but one") as caught:
        load_catalog(path)
    assert "energy.1" not in str(caught.value)


def test_parquet_and_json_columns_spelled_alike_are_refused(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = pd.read_csv(io.StringIO(_table_with("ENERGY")))
    arrays = [pa.array(frame[c]) for c in frame.columns]
    names = [c if c != "ENERGY" else "energy" for c in frame.columns]
    pq.write_table(pa.Table.from_arrays(arrays, names=names), tmp_path / "t.parquet")
    with pytest.raises(CatalogError, match="2 columns could be energy"):
        load_catalog(tmp_path / "t.parquet")
    records = [{**r, "audio": {"energy": 0.9}} for r in _records(12)]
    (tmp_path / "t.json").write_text(json.dumps(records), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"'energy' .* and 'audio\.energy'"):
        load_catalog(tmp_path / "t.json")


def test_a_column_passed_over_for_a_better_alias_is_noted(tmp_path):
    path = tmp_path / "tracks.csv"
    path.write_text(
        _table_with("playlist_genre,playlist_subgenre", "pop,dance pop"), encoding="utf-8"
    )
    catalog = load_catalog(path)
    assert catalog.report.column_map["genres"] == "playlist_genre"
    notes = [f.message for f in catalog.report.findings if f.rule == "note"]
    assert any("'playlist_subgenre' could be too" in note for note in notes), notes


def test_the_spark_engines_layout_keeps_the_names_as_written(tmp_path):
    from soundatlas.ingest.columns import map_columns
    from soundatlas.ingest.reading import text_layout

    path = tmp_path / "tracks.csv"
    path.write_text(_table_with("energy"), encoding="utf-8")
    layout = text_layout(path)
    assert layout.headers[-1] == "energy.1" and layout.written[-1] == "energy"
    with pytest.raises(CatalogError, match="'energy' \\(column 3\\) and 'energy' \\(column 11\\)"):
        map_columns(layout.headers, AUDIO_FEATURES, {}, str(path), written=list(layout.written))
