"""The one rule for the SOUNDATLAS_REQUIRE_* variables (`required`)."""

from __future__ import annotations

import pytest
from required import required, skip_unless_required

VARIABLE = "SOUNDATLAS_REQUIRE_TEST_ONLY"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[("1", True), ("true", True), ("YES", True), (" 1 ", True)],
        *[("", False), ("0", False), ("false", False), ("No", False)],
    ],
)
def test_a_require_variable_is_on_or_off(monkeypatch, value, expected):
    monkeypatch.setenv(VARIABLE, value)
    assert required(VARIABLE) is expected


def test_unset_means_not_required(monkeypatch):
    monkeypatch.delenv(VARIABLE, raising=False)
    assert required(VARIABLE) is False


@pytest.mark.parametrize("value", ["2", "maybe", "on please"])
def test_any_other_value_fails_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv(VARIABLE, value)
    with pytest.raises(pytest.fail.Exception, match=f"{VARIABLE}='{value}' is not understood"):
        required(VARIABLE)


def test_required_turns_the_skip_into_a_failure(monkeypatch):
    monkeypatch.setenv(VARIABLE, "1")
    with pytest.raises(pytest.fail.Exception, match="chromium missing but " + VARIABLE):
        skip_unless_required(VARIABLE, "chromium missing")
    monkeypatch.setenv(VARIABLE, "0")
    with pytest.raises(pytest.skip.Exception, match="chromium missing"):
        skip_unless_required(VARIABLE, "chromium missing")
