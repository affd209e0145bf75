"""The Spotify-compatible endpoints under ``/v1``: the parameters, limits, defaults and JSON of
Spotify's Web API reference for recommendations, audio features, tracks, artists and search.

Each route maps its parameters onto one library call and formats the result
(`soundatlas.api.objects`); the library decides.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Response
from pydantic import Field

from soundatlas.api.context import (
    Ctx,
    NoQuery,
    Strict,
    TrackId,
    id_list,
    json_answer,
    limits_of,
    query_of,
    with_limits,
)
from soundatlas.api.errors import ERROR_RESPONSES, ApiError
from soundatlas.api.objects import (
    AUDIO_FEATURE_FIELDS,
    artist_object,
    audio_features_object,
    audio_features_of,
    paging_object,
    track_object,
)
from soundatlas.discovery import (
    PlaylistRequest,
    check_track_ids,
    find_artist,
    find_song,
    find_songs,
    recommend,
    search_page,
    song_values,
)

router = APIRouter(prefix="/v1", tags=["Spotify-compatible"], responses=ERROR_RESPONSES)

TUNABLE = tuple(sorted((*AUDIO_FEATURE_FIELDS, "popularity")))
"""The attributes Spotify's ``/recommendations`` accepts ``min_``, ``max_`` and ``target_`` for."""
SEED_TYPES = {"seeds": "TRACK", "seed_artists": "ARTIST", "seed_genres": "GENRE"}


class _Seeds(Strict):
    seed_tracks: str | None = Field(None, max_length=2000, description="Track ids, commas.")
    seed_artists: str | None = Field(None, max_length=2000, description="Artist ids, commas.")
    seed_genres: str | None = Field(None, max_length=2000, description="Genres, commas.")
    limit: int = Field(20, ge=1, le=100)
    market: str | None = Field(None, max_length=10, description="Accepted and ignored.")


RecommendationsQuery = query_of(with_limits("RecommendationsQuery", _Seeds, TUNABLE))


@router.get(
    "/recommendations",
    response_model=dict,
    summary="Recommendations from seeds and tunable attributes",
)
async def recommendations(query: RecommendationsQuery, ctx: Ctx) -> Response:
    """The tracks SoundAtlas's smart playlist chooses for these seeds and limits (each recording
    once, never a release of a seed), and each seed's pool (`seed_pools`), both from `recommend`."""
    tracks, artists, genres = (
        id_list(name, getattr(query, name), 5) if getattr(query, name) else []
        for name in ("seed_tracks", "seed_artists", "seed_genres")
    )
    if not 1 <= len(tracks) + len(artists) + len(genres) <= 5:
        raise ApiError(
            400,
            f"seeds: {len(tracks) + len(artists) + len(genres)} given; give 1 to 5 in all of "
            "seed_tracks, seed_artists and seed_genres.",
        )
    check_track_ids(ctx.atlas, tracks)  # any song of the catalog, by exact id only
    names = [find_artist(ctx.atlas, a).name for a in artists]
    request = PlaylistRequest(
        method=None,
        seeds=tuple(tracks),
        seed_artists=tuple(names),
        seed_genres=tuple(genres),
        size=query.limit,
        **limits_of(query, TUNABLE),
    )
    rows, pools = recommend(ctx.atlas, request)
    given_ids = {"seeds": tracks, "seed_artists": artists, "seed_genres": genres}
    seeds = []
    for pool in pools:
        kind = SEED_TYPES[pool.kind]
        position = getattr(request, pool.kind).index(pool.seed)
        seed_id = given_ids[pool.kind][position]
        folder = {"TRACK": "tracks", "ARTIST": "artists"}.get(kind)
        href = f"{ctx.base}/v1/{folder}/{seed_id}" if folder else None
        seeds.append(
            {
                "afterFilteringSize": pool.after_filtering,
                "afterRelinkingSize": pool.after_relinking,
                "href": href,
                "id": seed_id,
                "initialPoolSize": pool.initial,
                "type": kind,
            }
        )
    return json_answer(
        {"seeds": seeds, "tracks": [track_object(ctx.base, s) for s in ctx.index.songs(rows)]}
    )


@router.get(
    "/recommendations/available-genre-seeds", response_model=dict, summary="Genres usable as seeds"
)
async def genre_seeds(query: NoQuery, ctx: Ctx) -> Response:
    """Every genre of the catalog, sorted."""
    return json_answer({"genres": list(ctx.index.genres.names)})


class _Market(Strict):
    market: str | None = Field(None, max_length=10, description="Accepted and ignored.")


class _Ids(_Market):
    ids: str = Field(..., max_length=5000, description="Track ids separated by commas.")


MarketQuery, IdsQuery = query_of(_Market), query_of(_Ids)


@router.get("/audio-features", response_model=dict, summary="Audio features of several tracks")
async def several_audio_features(query: IdsQuery, ctx: Ctx) -> Response:
    """Up to 100 ids, answered in request order, ``null`` for an id not in the catalog."""
    ids = id_list("ids", query.ids, 100)
    found = song_values(ctx.atlas, ids, AUDIO_FEATURE_FIELDS)
    return json_answer(
        {
            "audio_features": [
                None if values is None else audio_features_of(ctx.base, track_id, values)
                for track_id, values in zip(ids, found, strict=True)
            ]
        }
    )


@router.get("/audio-features/{id}", response_model=dict, summary="Audio features of a track")
async def audio_features(
    id: TrackId,  # noqa: A002  (Spotify's parameter name)
    query: NoQuery,
    ctx: Ctx,
) -> Response:
    return json_answer(audio_features_object(ctx.base, find_song(ctx.atlas, id)))


@router.get("/tracks", response_model=dict, summary="Several tracks")
async def several_tracks(query: IdsQuery, ctx: Ctx) -> Response:
    """Up to 50 ids, answered in request order, ``null`` for an id not in the catalog."""
    songs = find_songs(ctx.atlas, id_list("ids", query.ids, 50))
    return json_answer(
        {"tracks": [None if s is None else track_object(ctx.base, s) for s in songs]}
    )


@router.get("/tracks/{id}", response_model=dict, summary="A track")
async def track(
    id: TrackId,  # noqa: A002
    query: MarketQuery,
    ctx: Ctx,
) -> Response:
    return json_answer(track_object(ctx.base, find_song(ctx.atlas, id)))


@router.get("/artists/{id}", response_model=dict, summary="An artist")
async def artist(
    id: Annotated[str, Path(max_length=200)],  # noqa: A002
    query: NoQuery,
    ctx: Ctx,
) -> Response:
    found = find_artist(ctx.atlas, id)  # of a sampled atlas, any artist of the catalog
    return json_answer(artist_object(ctx.base, found.name, genres=list(found.genres)))


class _Search(Strict):
    q: str = Field(..., min_length=1, max_length=500, description="Part of a title or name.")
    type: str = Field(..., max_length=100, description="track, artist or track,artist.")
    limit: int = Field(20, ge=1, le=50)
    offset: int = Field(0, ge=0, le=1000)
    market: str | None = Field(None, max_length=10, description="Accepted and ignored.")
    include_external: Literal["audio"] | None = Field(None, description="Accepted, ignored.")


SearchQuery = query_of(_Search)


@router.get("/search", response_model=dict, summary="Search tracks and artists")
async def search_catalog(query: SearchQuery, ctx: Ctx) -> Response:
    """Tracks (one per recording) and artists matching ``q``, in Spotify's paging objects."""
    kinds = [k.strip() for k in query.type.split(",")]
    unknown = [k for k in kinds if k not in ("track", "artist")]
    if unknown or not kinds:
        raise ApiError(
            400,
            f"type={query.type!r}: this catalog has tracks and artists; use track, artist or "
            "track,artist.",
        )
    found = search_page(ctx.atlas, query.q, limit=query.limit, offset=query.offset)
    url = f"{ctx.base}/v1/search"
    params = {"q": query.q, "type": query.type}
    answer = {}
    if "track" in kinds:
        items = [track_object(ctx.base, song) for song in found.songs]
        answer["tracks"] = paging_object(
            url, params, items, limit=query.limit, offset=query.offset, total=found.total_songs
        )
    if "artist" in kinds:
        items = [
            artist_object(ctx.base, a.name, genres=list(a.genres), artist_id=a.artist_id)
            for a in found.artists
        ]
        answer["artists"] = paging_object(
            url,
            params,
            items,
            limit=query.limit,
            offset=query.offset,
            total=found.total_artists,
        )
    return json_answer(answer)
