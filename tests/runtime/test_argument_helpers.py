"""Argument helpers with the platform's exact messages (xsoar_runtime/SPEC.md §4)."""

from __future__ import annotations

from CommonServerPython import arg_to_datetime, arg_to_number, argToBoolean, argToList

from datetime import UTC, datetime, timedelta

import pytest


class TestArgToNumber:
    """xsoar_runtime/SPEC.md §4: arg_to_number."""

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            pytest.param("12", 12, id="digits"),
            pytest.param("1.5", 1, id="decimal-truncated"),
            pytest.param("-2", -2, id="negative"),
            pytest.param("1e3", 1000, id="scientific"),
            pytest.param(7, 7, id="int"),
            pytest.param(True, True, id="bool-is-an-int"),
            pytest.param(None, None, id="none"),
            pytest.param("", None, id="empty"),
        ],
    )
    def test_values(self, raw: object, expected: object) -> None:
        """
        Given: digits, a decimal, a negative, scientific notation, an int, a bool, None and ''
        When: converted
        Then: decimals are truncated, ints pass through, and None/'' become None
        """
        assert arg_to_number(raw) == expected

    @pytest.mark.parametrize(
        ("raw", "name", "message"),
        [
            pytest.param("abc", "limit", 'Invalid number: "limit"="abc"', id="named"),
            pytest.param("abc", None, '"abc" is not a valid number', id="unnamed"),
            pytest.param(1.5, "limit", 'Invalid number: "limit"="1.5"', id="float-object"),
        ],
    )
    def test_errors(self, raw: object, name: str | None, message: str) -> None:
        """
        Given: text that is not a number, and a float object
        When: converted
        Then: the exact platform message, with or without the argument name
        """
        with pytest.raises(ValueError) as caught:
            arg_to_number(raw, arg_name=name)

        assert str(caught.value) == message

    @pytest.mark.parametrize(
        ("raw", "name", "message"),
        [
            pytest.param("", "limit", '^Missing "limit"$', id="named"),
            pytest.param(None, None, "^Missing required argument$", id="unnamed"),
        ],
    )
    def test_required(self, raw: object, name: str | None, message: str) -> None:
        """
        Given: an empty value for a required argument
        When: converted
        Then: the Missing message names the argument when it can
        """
        with pytest.raises(ValueError, match=message):
            arg_to_number(raw, arg_name=name, required=True)


class TestArgToDatetime:
    """xsoar_runtime/SPEC.md §4: arg_to_datetime."""

    def test_relative(self) -> None:
        """
        Given: '3 days'
        When: parsed
        Then: a naive datetime three days before the current UTC time
        """
        parsed = arg_to_datetime("3 days")

        assert parsed is not None
        assert parsed.tzinfo is None
        expected = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=3)
        assert abs((parsed - expected).total_seconds()) < 60

    def test_zulu_is_aware_utc(self) -> None:
        """
        Given: an ISO 8601 string ending in Z
        When: parsed
        Then: an aware UTC datetime
        """
        assert arg_to_datetime("2024-05-01T10:00:00Z") == datetime(2024, 5, 1, 10, tzinfo=UTC)

    def test_offset_is_converted_to_utc(self) -> None:
        """
        Given: an ISO 8601 string with a +02:00 offset
        When: parsed
        Then: an aware datetime at offset zero, two hours earlier on the wall clock
        """
        parsed = arg_to_datetime("2024-05-01T12:00:00+02:00")

        assert parsed is not None
        assert parsed.utcoffset() == timedelta(0)
        assert parsed.replace(tzinfo=None) == datetime(2024, 5, 1, 10)

    def test_bare_iso_is_naive(self) -> None:
        """
        Given: an ISO 8601 string without a zone
        When: parsed
        Then: a naive datetime
        """
        assert arg_to_datetime("2024-05-01T10:00:00") == datetime(2024, 5, 1, 10)

    @pytest.mark.parametrize(
        "raw",
        [
            pytest.param("1714557600", id="seconds-as-text"),
            pytest.param(1714557600, id="seconds-as-int"),
            pytest.param(1714557600000, id="milliseconds"),
        ],
    )
    def test_epoch(self, raw: object) -> None:
        """
        Given: epoch seconds as text or int, and epoch milliseconds
        When: parsed
        Then: an aware UTC datetime (values above 2e9 are read as milliseconds)
        """
        assert arg_to_datetime(raw) == datetime(2024, 5, 1, 10, tzinfo=UTC)

    @pytest.mark.parametrize(
        ("raw", "name", "message"),
        [
            pytest.param("garbage", "start_time", 'Invalid date: "start_time"="garbage"', id="named"),
            pytest.param("garbage", None, '"garbage" is not a valid date', id="unnamed"),
            pytest.param("", None, '"" is not a valid date', id="empty-is-not-missing"),
        ],
    )
    def test_garbage(self, raw: str, name: str | None, message: str) -> None:
        """
        Given: text that is no date, and the empty string
        When: parsed
        Then: the exact platform message
        """
        with pytest.raises(ValueError) as caught:
            arg_to_datetime(raw, arg_name=name)

        assert str(caught.value) == message

    def test_refuses_datetime_objects(self) -> None:
        """
        Given: a datetime instance
        When: passed to arg_to_datetime
        Then: it is refused like garbage, as on the platform
        """
        with pytest.raises(ValueError, match="is not a valid date"):
            arg_to_datetime(datetime(2024, 1, 1))


class TestArgToBoolean:
    """xsoar_runtime/SPEC.md §4: argToBoolean."""

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            pytest.param("true", True, id="true"),
            pytest.param("YES", True, id="yes-any-case"),
            pytest.param("False", False, id="false"),
            pytest.param("no", False, id="no"),
            pytest.param(True, True, id="bool"),
        ],
    )
    def test_values(self, raw: object, expected: bool) -> None:
        """
        Given: boolean-like text in any case, and a bool
        When: converted
        Then: the matching bool
        """
        assert argToBoolean(raw) is expected

    @pytest.mark.parametrize(
        ("raw", "message"),
        [
            pytest.param("maybe", "Argument does not contain a valid boolean-like value", id="other-text"),
            pytest.param(" true", "Argument does not contain a valid boolean-like value", id="no-stripping"),
            pytest.param(1, "Argument is neither a string nor a boolean", id="int"),
            pytest.param(None, "Argument is neither a string nor a boolean", id="none"),
        ],
    )
    def test_errors(self, raw: object, message: str) -> None:
        """
        Given: other text (no stripping), an int and None
        When: converted
        Then: the platform's two messages
        """
        with pytest.raises(ValueError) as caught:
            argToBoolean(raw)

        assert str(caught.value) == message


class TestArgToList:
    """xsoar_runtime/SPEC.md §4: argToList."""

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            pytest.param(None, [], id="none"),
            pytest.param("a, b", ["a", "b"], id="comma-text-stripped"),
            pytest.param("a,,b", ["a", "", "b"], id="empty-pieces-kept"),
            pytest.param('["x", "y"]', ["x", "y"], id="json-list"),
            pytest.param("[bad", ["[bad"], id="broken-json-is-split"),
            pytest.param(3, [3], id="scalar"),
            pytest.param(["a"], ["a"], id="list-as-is"),
        ],
    )
    def test_values(self, raw: object, expected: list) -> None:
        """
        Given: nothing, comma text, JSON list text, broken JSON, a scalar and a list
        When: converted
        Then: the platform's splitting rules
        """
        assert argToList(raw) == expected

    def test_separator_and_transform(self) -> None:
        """
        Given: semicolon-separated text and a transform
        When: converted with that separator
        Then: the pieces are split on it and transformed
        """
        assert argToList("a; b", separator=";", transform=str.upper) == ["A", "B"]
