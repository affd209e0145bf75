"""Faults during a build: Ctrl+C, SIGTERM and SIGKILL at any moment.

An atlas being replaced must survive anything short of a disk failure: after a SIGKILL at any
moment the folder loads and passes its checksums, holding the old atlas or the new one, and the
next build runs. Ctrl+C and SIGTERM stop a build with one line and exit codes 130 and 143,
leaving no temporary folder and no Ward worker process behind.

These tests kill real processes; they are marked ``faults``.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from cliprocess import CLI, ForkedCli, alive, descendants, faulted_cli

from soundatlas.atlas.manifest import read_manifest
from soundatlas.atlas.model import load_atlas
from soundatlas.demo import write_catalog
from soundatlas.discovery.save import save_atlas

pytestmark = pytest.mark.faults

WARD_SONGS = 20_100
"""Songs enough for the Ward tree to be built in a second process (20,000 or more)."""


def _leftovers(target: Path) -> list[str]:
    return sorted(p.name for p in target.parent.glob(f".{target.name}.*"))


def _wait_for(condition, *, timeout: float = 120.0, every: float = 0.002) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(every)


def _worker_of(pid: int) -> list[int]:
    workers = []
    for child in descendants(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"serve_ward_tree" in command:
            workers.append(child)
    return workers


@pytest.fixture(scope="module")
def catalogs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("fault-catalogs")
    sizes = {"ward": WARD_SONGS, "small": 1_500, "other": 1_500, "tiny": 300, "tiny other": 300}
    paths = {name: root / f"{name.replace(' ', '-')}.csv" for name in sizes}
    for seed, (name, size) in enumerate(sizes.items()):
        write_catalog(paths[name], size, random_state=seed)
    return paths


SIGNALS = [
    ("SIGINT", "the terminal's process group", "while the Ward worker starts"),
    ("SIGINT", "the build only", "while the Ward worker runs"),
    ("SIGTERM", "the build only", "while the Ward worker runs"),
]


@pytest.mark.parametrize(("name", "to", "when"), SIGNALS)
def test_an_interrupted_build_stops_cleanly(catalogs, tmp_path, name, to, when):
    target = tmp_path / "atlas"
    build = subprocess.Popen(
        [*CLI, "build", str(catalogs["ward"]), "-o", str(target), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a terminal gives a command
    )
    try:
        _wait_for(lambda: _worker_of(build.pid), every=0.01)
        if when.endswith("runs"):
            time.sleep(1.0)
        processes = descendants(build.pid)
        number = getattr(signal, name)
        if to == "the build only":
            os.kill(build.pid, number)
        else:
            os.killpg(build.pid, number)
        out, err = build.communicate(timeout=60)
    finally:
        if build.poll() is None:
            build.kill()
            build.communicate()
    _assert_stopped_cleanly(name, build.returncode, out.decode() + err.decode(), err.decode())
    # The worker stops within a second; a loaded machine may take longer to schedule it.
    _wait_for(lambda: not any(alive(p) for p in processes), timeout=30, every=0.05)
    assert _leftovers(target) == [], "temporary folders are removed"
    assert not target.exists()


WRITE = "soundatlas.atlas.store._write_files"
SAVING = [
    # (signal, the call where it comes, which call, before or after it; the atlas then in place)
    ("SIGINT", WRITE, 1, "before", "old"),  # temporary folder, empty
    ("SIGTERM", WRITE, 1, "after", "old"),  # written, not swapped
    ("SIGINT", "os.replace", 1, "before", "old"),  # the swap about to move the old atlas aside
    ("SIGTERM", "os.replace", 1, "after", "new"),  # between the swap's renames: finished first
    ("SIGINT", "os.replace", 2, "after", "new"),  # the new atlas in place, the old not removed
]
"""Moments of a save, each hit with one signal (both signals end a command the same way:
`test_cli_signals` runs each on every command)."""


@pytest.fixture(scope="module")
def old_atlas(catalogs, tmp_path_factory) -> Path:
    """An atlas built by the command, for tests to copy and build over."""
    folder = tmp_path_factory.mktemp("old") / "atlas"
    subprocess.run([*CLI, "build", catalogs["other"], "-o", folder, "-q"], check=True)
    return folder


@pytest.fixture(scope="module")
def new_atlas(catalogs, tmp_path_factory) -> str:
    """The fingerprint of the atlas the interrupted builds build (same catalog, same seed)."""
    folder = tmp_path_factory.mktemp("new") / "atlas"
    subprocess.run([*CLI, "build", catalogs["small"], "-o", folder, "-q"], check=True)
    return read_manifest(folder)["fingerprint"]


@pytest.mark.parametrize(("name", "at", "number", "when", "kept"), SAVING)
def test_a_build_interrupted_while_saving_leaves_one_whole_atlas(
    catalogs, old_atlas, new_atlas, tmp_path, name, at, number, when, kept
):
    """The signal comes at a chosen moment of the save (`cliprocess.faulted_cli`): a window of
    a few hundredths of a second that a signal sent from outside can miss on a busy machine.
    Before the swap the old atlas stays; once the swap has begun it is finished, then the
    command stops."""
    target = tmp_path / "atlas"
    shutil.copytree(old_atlas, target)
    before = read_manifest(target)["fingerprint"]
    command = faulted_cli(name, at=at, under=tmp_path, number=number, when=when)
    build = subprocess.run(
        [*command, "build", str(catalogs["small"]), "-o", str(target), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    _assert_stopped_cleanly(name, build.returncode, build.stdout + build.stderr, build.stderr)
    assert _leftovers(target) == [], "temporary folders are removed"
    fingerprints = {"old": before, "new": new_atlas}
    assert read_manifest(target)["fingerprint"] == fingerprints[kept]
    load_atlas(target, verify=True)


def _assert_stopped_cleanly(name: str, code: int, output: str, err: str) -> None:
    """One line, 'interrupted…', the shell's exit code for the signal, and no traceback."""
    lines = err.strip().splitlines()
    assert code == {"SIGINT": 130, "SIGTERM": 143}[name], output
    assert len(lines) == 1 and lines[0].startswith("interrupted"), err
    assert "Traceback" not in output


RANDOM_KILLS = 20
"""SIGKILLs at random moments: half anywhere in the build, half while it saves."""
RENAME_KILLS = (1, 2, 1, 2)
"""SIGKILLs right after the first rename of the swap (the atlas moved aside, the new one not
yet in place) and after the second (the old atlas not yet removed): moments of microseconds
that random kills would not hit."""


def _phase(target: Path, earlier: set[str], before: str, after: str) -> str:
    """Where a build was when it was killed, from what it left on disk (``earlier``: what was
    beside the atlas when it started)."""
    left = set(_leftovers(target)) - earlier
    temporary = [target.parent / n for n in left if ".tmp-" in n]
    if not target.exists():
        return "between the two renames" if any(".old-" in n for n in left) else "?"
    if any(".old-" in n for n in left):
        return "after the swap, removing the old atlas"
    if any((t / "manifest.json").exists() for t in temporary):
        return "new atlas complete, before the swap"
    if temporary:
        return "writing the new atlas"
    if read_manifest(target)["fingerprint"] == after != before:
        return "after the swap"
    return "before saving (starting, reading, clustering)"


def test_sigkill_at_any_moment_leaves_a_loadable_atlas(catalogs, tmp_path):
    """A build over an existing atlas is killed 24 times; after each kill the atlas loads,
    passes its checksums and is the old or the new one; then a build runs to its end and
    nothing is left beside the atlas.

    The builds are forked from a process that imported SoundAtlas once (`ForkedCli`): the same
    command, without two seconds of imports each time. Builds alternate between two catalogs,
    so every swap replaces one atlas with another.
    """
    forked = ForkedCli()
    try:
        target = tmp_path / "atlas"
        sources = [catalogs["tiny"], catalogs["tiny other"]]
        fingerprints, durations, saves = [], [], []
        for source in sources:
            start = time.monotonic()
            child, _, _ = forked.start("build", source, "-o", target, "--quiet")
            _wait_for(lambda child=child: child.exitcode is not None or _saving(target, set()))
            saving = time.monotonic()
            _wait_for(lambda child=child: child.exitcode is not None or not _saving(target, set()))
            saves.append(time.monotonic() - saving)
            child.join()
            assert child.exitcode == 0
            durations.append(time.monotonic() - start)
            fingerprints.append(read_manifest(target)["fingerprint"])
        assert fingerprints[0] != fingerprints[1]
        duration, save = max(durations), max(saves)
        kills = [("anywhere", 0), ("while saving", 0)] * (RANDOM_KILLS // 2)
        kills += [("at a rename", n) for n in RENAME_KILLS]
        phases: Counter[str] = Counter()
        chance = random.Random(9)
        for number, (when, rename) in enumerate(kills):
            before = read_manifest(target)["fingerprint"]
            after = fingerprints[number % 2]
            earlier = set(_leftovers(target))
            child, _, _ = forked.start(
                "build", sources[number % 2], "-o", target, "--quiet", die_at_rename=rename
            )
            if when == "while saving":
                _wait_for(
                    lambda child=child, earlier=earlier: (
                        child.exitcode is not None or _saving(target, earlier)
                    )
                )
                time.sleep(chance.uniform(0, save))
            elif when == "anywhere":
                time.sleep(chance.uniform(0, duration))
            else:
                child.join(120)
            child.kill()
            child.join()
            phases[_phase(target, earlier, before, after)] += 1
            atlas = load_atlas(target, verify=True)
            assert atlas.fingerprint in (before, after), (number, when)
        result = forked.run("build", sources[0], "-o", target, "--quiet")
        assert result.code == 0, result.output
        assert load_atlas(target).fingerprint == fingerprints[0]
        assert _leftovers(target) == [], "the build removed what the killed builds left"
        print(
            f"\n{len(kills)} SIGKILLs (a build takes {duration:.1f} s, saving {save:.2f} s of it):"
        )
        for phase, count in phases.most_common():
            print(f"  {count:>3}  {phase}")
        assert "?" not in phases
        # The two kills after a first rename land there; a random kill may too, by luck.
        assert phases["between the two renames"] >= 2
    finally:
        forked.close()


def _saving(target: Path, earlier: set[str]) -> bool:
    return any(".tmp-" in n for n in set(_leftovers(target)) - earlier)


def test_a_swap_cut_short_is_undone_by_the_next_build_even_one_that_fails(catalogs, tmp_path):
    target = tmp_path / "atlas"
    subprocess.run([*CLI, "build", catalogs["tiny"], "-o", target, "-q"], check=True)
    fingerprint = read_manifest(target)["fingerprint"]
    os.replace(target, tmp_path / ".atlas.old-1a2b3c4d")  # killed between the two renames
    (tmp_path / "empty.csv").write_text("")
    failed = subprocess.run(
        [*CLI, "build", tmp_path / "empty.csv", "-o", target, "-q"], capture_output=True
    )
    assert failed.returncode == 2
    assert read_manifest(target)["fingerprint"] == fingerprint
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atlas", "empty.csv"]


def test_a_save_removes_only_what_killed_saves_left(catalogs, tmp_path):
    """Leftovers of killed saves go (a temporary folder nobody holds, an old atlas once a new
    one is in place); another program's folder beside the atlas, such as the spark engine's
    work folder of a build still running, stays."""
    from soundatlas.atlas.build import build_atlas

    atlas = build_atlas(catalogs["tiny"])
    target = tmp_path / "atlas"
    save_atlas(atlas, target)
    for name in (".atlas.tmp-0a1b2c3d", ".atlas.old-4e5f6a7b", ".atlas.tmp-work-8c9d0e1f"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "part-0.parquet").write_bytes(b"x")
    save_atlas(atlas, target)
    assert _leftovers(target) == [".atlas.tmp-work-8c9d0e1f"]
