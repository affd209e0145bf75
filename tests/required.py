"""One rule for the ``SOUNDATLAS_REQUIRE_*`` variables that turn a skip into a failure.

``SOUNDATLAS_REQUIRE_DATA``, ``SOUNDATLAS_REQUIRE_BROWSER`` and ``SOUNDATLAS_REQUIRE_SPARK`` are
read the same way: ``1`` (or ``true``/``yes``, any case) requires the resource, so a test that
would skip fails instead; unset, empty, ``0`` (or ``false``/``no``) lets it skip. Any other value
is a mistake in the CI setup and fails the test that reads it, naming the variable.
"""

from __future__ import annotations

import os

import pytest

_ON = frozenset({"1", "true", "yes"})
_OFF = frozenset({"", "0", "false", "no"})


def required(variable: str) -> bool:
    """Whether the environment variable ``variable`` asks that a skip be a failure."""
    value = os.environ.get(variable, "")
    if value.strip().lower() in _ON:
        return True
    if value.strip().lower() in _OFF:
        return False
    pytest.fail(
        f"{variable}={value!r} is not understood: set it to 1 to require the resource (CI), "
        "or to 0 or leave it unset to let the tests skip without it"
    )


def skip_unless_required(variable: str, reason: str) -> None:
    """Skip with ``reason``; fail instead when ``variable`` requires the resource (CI)."""
    if required(variable):
        pytest.fail(f"{reason} but {variable} is set (CI must not skip)")
    pytest.skip(reason)
