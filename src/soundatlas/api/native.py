"""SoundAtlas's own endpoints under ``/soundatlas/v1``: similar songs with scores and reasons,
a song's clusters, a cluster's persona and top songs, the smart playlist with every option of
``soundatlas playlist``, and placing new songs without refitting."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
import orjson
import pandas as pd
from fastapi import APIRouter, Body, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from soundatlas.api.context import (
    Ctx,
    NoQuery,
    Strict,
    TrackId,
    json_answer,
    limits_of,
    query_of,
    with_limits,
)
from soundatlas.api.errors import ERROR_RESPONSES, ApiError
from soundatlas.clustering.result import LABEL_COLUMNS, PERSONA_COLUMNS
from soundatlas.discovery import (
    PlaylistRequest,
    cluster_profile,
    find_song,
    generate_playlist,
    similar_columns,
    similar_to_sound,
)
from soundatlas.discovery.playlists import LIMITED_COLUMNS, ORDERS
from soundatlas.errors import ConfigError

router = APIRouter(prefix="/soundatlas/v1", tags=["SoundAtlas"], responses=ERROR_RESPONSES)
Method = Literal["kmeans", "dbscan", "hierarchical"]
MAX_ASSIGN = 1000


def records(table: pd.DataFrame) -> orjson.Fragment:
    """A result table as a JSON array of records (missing values as null), for `json_answer`
    to embed as it is: pandas encodes it, and parsing it back to encode it again cost a tenth
    of a similar-songs request."""
    return orjson.Fragment(table.to_json(orient="records", force_ascii=False))


def column_records(columns: dict[str, object]) -> list[dict[str, object]]:
    """A result's columns (name → NumPy or pandas array, as `similar_columns` gives them) as
    records of plain values, missing values as None: what `records` makes of the same columns
    in a DataFrame, without the DataFrame (a similar-songs request spent a third of its time
    building the table and having pandas encode it)."""
    names = list(columns)
    values = [_plain_values(array) for array in columns.values()]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def _plain_values(array: object) -> list:
    """A NumPy or pandas array's values as Python objects, missing values as None (NaN stays
    a float: orjson writes it as null, as pandas does)."""
    if isinstance(array, np.ndarray):
        return array.tolist()
    if isinstance(array, pd.Categorical):  # by its codes: converting it took 40 µs a column
        codes = np.asarray(array.codes)
        names = array.categories.to_numpy(dtype=object)
        return [None if c < 0 else names[c] for c in codes.tolist()]
    return array.to_numpy(dtype=object, na_value=None).tolist()  # type: ignore[attr-defined]


class _Similar(Strict):
    limit: int = Field(10, ge=1, le=500, description="How many songs.")
    same_cluster: Method | None = Field(None, description="Only the song's cluster of a method.")
    exclude_same_artist: bool = False
    features: str | None = Field(None, max_length=500, description="Compare on these, commas.")


SimilarQuery = query_of(_Similar)


@router.get(
    "/tracks/{id}/similar", response_model=dict, summary="Songs that sound like a song, and why"
)
async def similar(
    id: TrackId,  # noqa: A002
    query: SimilarQuery,
    ctx: Ctx,
) -> Response:
    song = find_song(ctx.atlas, id)
    columns = similar_columns(
        ctx.atlas,
        [song.track_id if song.row is None else song.row],
        n=query.limit,
        same_cluster=query.same_cluster,
        exclude_same_artist=query.exclude_same_artist,
        features=query.features,
    )
    return json_answer({"id": id, "items": column_records(columns)})


@router.get(
    "/tracks/{id}/clusters",
    response_model=dict,
    summary="A song's cluster and persona for each method",
)
async def clusters_of_track(
    id: TrackId,  # noqa: A002
    query: NoQuery,
    ctx: Ctx,
) -> Response:
    found = find_song(ctx.atlas, id).clusters
    return json_answer(
        {
            "id": id,
            "clusters": {m: {"cluster": c, "persona": p} for m, (c, p) in found.items()},
        }
    )


class _Top(Strict):
    limit: int = Field(10, ge=1, le=100, description="How many top songs.")


TopQuery = query_of(_Top)


@router.get(
    "/clusters/{method}/{cluster}",
    response_model=dict,
    summary="A cluster's persona, size and top songs",
)
async def cluster(
    method: Method,
    cluster: Annotated[int, Path(ge=0, le=1_000_000)],
    query: TopQuery,
    ctx: Ctx,
) -> Response:
    profile = cluster_profile(ctx.atlas, method, cluster, n=query.limit)
    return json_answer(
        {
            "method": profile.method,
            "cluster": profile.cluster,
            "persona": profile.persona,
            "size": profile.size,
            "share": profile.share,
            "reasons": profile.reasons,
            "dominant_genres": profile.dominant_genres,
            "top_songs": records(profile.top_songs),
        }
    )


class _Playlist(Strict):
    method: Method = "kmeans"
    cluster: int | None = Field(None, ge=0, le=1_000_000)
    seed: list[Annotated[str, Field(max_length=500)]] = Field([], max_length=5)
    seed_artist: list[Annotated[str, Field(max_length=500)]] = Field([], max_length=5)
    seed_genre: list[Annotated[str, Field(max_length=500)]] = Field([], max_length=5)
    size: int = Field(20, ge=1, le=100)
    threshold: float = Field(0.80, ge=0.70, le=1.00, allow_inf_nan=False)
    allow_explicit: bool = True
    max_per_artist: int = Field(2, ge=1, le=100)
    order: Literal[ORDERS] = "score"  # type: ignore[valid-type]


PlaylistQuery = query_of(with_limits("PlaylistQuery", _Playlist, LIMITED_COLUMNS))


@router.get(
    "/playlist", response_model=dict, summary="The smart playlist, with every option of the CLI"
)
async def playlist(query: PlaylistQuery, ctx: Ctx) -> Response:
    request = PlaylistRequest(
        method=query.method,
        cluster=query.cluster,
        seeds=tuple(query.seed),
        seed_artists=tuple(query.seed_artist),
        seed_genres=tuple(query.seed_genre),
        size=query.size,
        threshold=query.threshold,
        allow_explicit=query.allow_explicit,
        max_per_artist=query.max_per_artist,
        order=query.order,
        **limits_of(query, LIMITED_COLUMNS),
    )
    found = generate_playlist(ctx.atlas, request)
    return json_answer(
        {
            "request": request.to_dict(),
            "passed": found.passed,
            "limiting": found.limiting,
            "cut_by": found.cut_by,
            "message": found.message,
            "tracks": records(found.tracks),
        }
    )


class NewSong(BaseModel):
    """A song to place: its audio features (the atlas's clustering features are required),
    optionally a name and artists."""

    model_config = ConfigDict(extra="allow")
    name: str | None = Field(None, max_length=500)
    artists: str | None = Field(None, max_length=500)


class AssignBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tracks: list[NewSong] = Field(..., min_length=1, max_length=MAX_ASSIGN)
    nearest: int = Field(5, ge=1, le=50, description="Nearest songs per method.")


@router.post(
    "/assign", response_model=dict, summary="Place new songs in the clusters, without refitting"
)
async def assign(body: Annotated[AssignBody, Body()], ctx: Ctx) -> Response:
    """For each new song and each method the atlas can assign to (K-Means, hierarchical, and
    DBSCAN where `Atlas.dbscan_assignable`: the nearest core song's cluster within eps, else
    noise, -1): the cluster, its persona and the nearest songs of the catalog in that cluster
    (for noise, among the noise songs)."""
    table = pd.DataFrame([song.model_dump() for song in body.tracks])
    table["track_id"] = [f"new-{i}" for i in range(len(table))]
    placed = ctx.atlas.assign(table)
    if len(placed) != len(table):
        left = sorted(set(table["track_id"]) - set(placed["track_id"]))
        raise ApiError(
            400,
            f"tracks: {len(left)} of {len(table)} songs could not be placed (the first is "
            f"tracks[{left[0].removeprefix('new-')}]): every clustering feature must be a "
            "number within its range.",
        )
    placed = placed.set_index("track_id").loc[table["track_id"]]
    scaled = ctx.atlas.scaler.transform(placed)
    answer = []
    for i in range(len(placed)):
        methods = {}
        for method in ("kmeans", "dbscan", "hierarchical"):
            if LABEL_COLUMNS[method] not in placed:
                continue
            label = int(placed[LABEL_COLUMNS[method]].iloc[i])
            try:
                near = similar_to_sound(
                    ctx.atlas, scaled[i], n=body.nearest, method=method, cluster=label
                )
            except ConfigError:
                near = pd.DataFrame({"track_id": [], "name": [], "similarity": []})
            methods[method] = {
                "cluster": label,
                "persona": str(placed[PERSONA_COLUMNS[method]].iloc[i]),
                "nearest": records(near[["track_id", "name", "artists", "similarity"]])
                if len(near)
                else [],
            }
        answer.append({"index": i, "clusters": methods})
    if not np.isfinite(scaled).all():
        raise ApiError(400, "tracks: a feature is not a finite number.")
    return json_answer({"tracks": answer})
