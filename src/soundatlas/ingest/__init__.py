"""Ingest: a user's track file, in whatever format, read and checked into one canonical table.

`soundatlas.ingest.catalog.load_catalog` is the way in. `reading` turns bytes into a raw table
(format, encoding, delimiter, ragged rows); `schema` and `columns` map headers onto the canonical
columns; `values` parses cells; `duplicates` finds repeated rows and ids; `validation` holds the
report of every rule broken. The spark engine runs the same row checks through the public
`RowChecker` of `catalog`.
"""
