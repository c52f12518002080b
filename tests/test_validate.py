"""The validation module: what a time, a number, a place, a name or a line of text may be."""

from __future__ import annotations

import datetime as dt

import pytest

from alpr_lib import validate
from alpr_lib.errors import InvalidInput

UTC = dt.UTC


def test_windows_are_clamped_to_the_times_reads_can_have() -> None:
    since, until = validate.window(dt.datetime(1, 1, 1, tzinfo=UTC), dt.datetime.max.replace(tzinfo=UTC))
    assert since == validate.EARLIEST and until is not None and until <= validate.latest()
    assert validate.window(None, None) == (None, None)
    with pytest.raises(InvalidInput, match="before 1990"):
        validate.window(None, dt.datetime(1989, 12, 31, tzinfo=UTC))
    with pytest.raises(InvalidInput, match="after tomorrow"):
        validate.window(dt.datetime(2999, 1, 1, tzinfo=UTC), None)
    with pytest.raises(InvalidInput, match="time zone"):
        validate.window(dt.datetime(2026, 1, 1), None)


def test_read_times_numbers_and_places() -> None:
    assert validate.read_time(dt.datetime(2026, 11, 3, 14, tzinfo=UTC)) == 1_793_714_400_000
    for bad in (
        dt.datetime(1989, 1, 1, tzinfo=UTC),
        dt.datetime.max.replace(tzinfo=dt.timezone(-dt.timedelta(hours=12))),
    ):
        with pytest.raises(InvalidInput, match="1990 and tomorrow"):
            validate.read_time(bad)
    for bad in ("nan", "inf", "-inf", "1e309", "x", None):
        with pytest.raises(InvalidInput):
            validate.finite(bad, "a number")  # type: ignore[arg-type]
    assert validate.latitude(-90) == -90 and validate.longitude("180") == 180
    with pytest.raises(InvalidInput, match="latitude"):
        validate.latitude(91)
    with pytest.raises(InvalidInput, match="longitude"):
        validate.longitude(-180.0001)


def test_ids_counts_and_names() -> None:
    assert validate.identifier(2**63 - 1, "id") == 2**63 - 1
    for bad in (0, -1, 2**63, True, "7", 1.0):
        with pytest.raises(InvalidInput):
            validate.identifier(bad, "a read id")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="2,147,483,647"):
        validate.count(2**31, "the limit")
    assert validate.name("  Lane County DA ", "a name") == "Lane County DA"
    for bad in ("", "   ", "a\x1bb", "x" * 65, "a\u202eb"):
        with pytest.raises(InvalidInput):
            validate.name(bad, "a name")


def test_printable_makes_control_characters_visible_on_one_line() -> None:
    assert validate.printable("ok\tthen") == "ok then"
    assert validate.printable("\x1b[2Jx\ny\rz\u202e") == "\\x1b[2Jx\\ny\\rz\\u202e"
    assert validate.printable(None) == ""
    assert validate.printable("Łódź 26-01234") == "Łódź 26-01234"  # letters of every language stay
