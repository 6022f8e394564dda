"""Checklist 6: argument helpers with the platform's exact messages."""

from __future__ import annotations

from CommonServerPython import arg_to_datetime, arg_to_number, argToBoolean, argToList

from datetime import UTC, datetime, timedelta

import pytest


@pytest.mark.parametrize(("raw", "expected"), [("12", 12), ("1.5", 1), ("-2", -2), ("1e3", 1000), (7, 7), (None, None)])
def test_checklist_6_arg_to_number_values(raw: object, expected: object) -> None:
    """
    Given: digits, a decimal, a negative, scientific notation, an int and None
    When: converted
    Then: decimals are truncated and None stays None
    """
    assert arg_to_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "name", "message"),
    [
        ("abc", "limit", 'Invalid number: "limit"="abc"'),
        ("abc", None, '"abc" is not a valid number'),
        (1.5, "limit", 'Invalid number: "limit"="1.5"'),
    ],
)
def test_checklist_6_arg_to_number_errors(raw: object, name: str | None, message: str) -> None:
    """
    Given: text that is not a number, and a float object
    When: converted
    Then: the exact platform message, with or without the argument name
    """
    with pytest.raises(ValueError) as caught:
        arg_to_number(raw, arg_name=name)
    assert str(caught.value) == message


def test_checklist_6_arg_to_number_required() -> None:
    """
    Given: an empty value for a required argument
    When: converted
    Then: the Missing message names the argument
    """
    with pytest.raises(ValueError, match='^Missing "limit"$'):
        arg_to_number("", arg_name="limit", required=True)
    with pytest.raises(ValueError, match="^Missing required argument$"):
        arg_to_number(None, required=True)


def test_checklist_6_arg_to_datetime_relative() -> None:
    """
    Given: '3 days'
    When: parsed
    Then: a naive datetime three days before the current UTC time
    """
    parsed = arg_to_datetime("3 days")
    assert parsed is not None and parsed.tzinfo is None
    expected = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=3)
    assert abs((parsed - expected).total_seconds()) < 60


def test_checklist_6_arg_to_datetime_iso() -> None:
    """
    Given: ISO 8601 strings with Z, with an offset and without a zone
    When: parsed
    Then: zoned ones are aware and converted to UTC; the bare one is naive
    """
    zulu = arg_to_datetime("2024-05-01T10:00:00Z")
    offset = arg_to_datetime("2024-05-01T12:00:00+02:00")
    bare = arg_to_datetime("2024-05-01T10:00:00")
    assert zulu == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert (
        offset is not None
        and offset.utcoffset() == timedelta(0)
        and offset.replace(tzinfo=None) == datetime(2024, 5, 1, 10)
    )
    assert bare == datetime(2024, 5, 1, 10)


@pytest.mark.parametrize("raw", ["1714557600", 1714557600, 1714557600000])
def test_checklist_6_arg_to_datetime_epoch(raw: object) -> None:
    """
    Given: epoch seconds as text or int, and epoch milliseconds
    When: parsed
    Then: an aware UTC datetime (values above 2e9 are read as milliseconds)
    """
    assert arg_to_datetime(raw) == datetime(2024, 5, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "name", "message"),
    [
        ("garbage", "start_time", 'Invalid date: "start_time"="garbage"'),
        ("garbage", None, '"garbage" is not a valid date'),
        ("", None, '"" is not a valid date'),
    ],
)
def test_checklist_6_arg_to_datetime_garbage(raw: str, name: str | None, message: str) -> None:
    """
    Given: text that is no date, and the empty string
    When: parsed
    Then: the exact platform message
    """
    with pytest.raises(ValueError) as caught:
        arg_to_datetime(raw, arg_name=name)
    assert str(caught.value) == message


def test_checklist_6_arg_to_datetime_refuses_datetime_objects() -> None:
    """
    Given: a datetime instance
    When: passed to arg_to_datetime
    Then: it is refused like garbage, as on the platform
    """
    with pytest.raises(ValueError, match="is not a valid date"):
        arg_to_datetime(datetime(2024, 1, 1))


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("YES", True), ("False", False), ("no", False), (True, True)]
)
def test_checklist_6_arg_to_boolean(raw: object, expected: bool) -> None:
    """
    Given: boolean-like text in any case, and a bool
    When: converted
    Then: the matching bool
    """
    assert argToBoolean(raw) is expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("maybe", "Argument does not contain a valid boolean-like value"),
        (" true", "Argument does not contain a valid boolean-like value"),
        (1, "Argument is neither a string nor a boolean"),
        (None, "Argument is neither a string nor a boolean"),
    ],
)
def test_checklist_6_arg_to_boolean_errors(raw: object, message: str) -> None:
    """
    Given: other text (no stripping), an int and None
    When: converted
    Then: the platform's two messages
    """
    with pytest.raises(ValueError) as caught:
        argToBoolean(raw)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, []),
        ("a, b", ["a", "b"]),
        ("a,,b", ["a", "", "b"]),
        ('["x", "y"]', ["x", "y"]),
        ("[bad", ["[bad"]),
        (3, [3]),
    ],
)
def test_checklist_6_arg_to_list(raw: object, expected: list) -> None:
    """
    Given: nothing, comma text, JSON list text, broken JSON and a scalar
    When: converted
    Then: the platform's splitting rules
    """
    assert argToList(raw) == expected
