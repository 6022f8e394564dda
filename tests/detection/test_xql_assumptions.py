"""The XQL semantics only a tenant can confirm: one test per assumption our XQL library states.

devtools/xql/__init__.py lists each assumption as ``[name]``; the test here named ``test_<name>`` pins it.
When we learn the platform reads XQL otherwise, the assumption and its test change together, and until
they do CI fails, so no rule, dashboard or modeling check goes on silently trusting the old reading.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

import devtools.xql
from devtools.xql import XqlError, parse

HEAD = "dataset = liveperson_liveengage_raw"


def rows(tail: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return parse(f"{HEAD} | {tail}").run(records)


def kept(condition: str, records: list[dict[str, Any]]) -> list[Any]:
    """The ids of the records a filter keeps."""
    return [row["id"] for row in rows(f"filter {condition}", records)]


def value(expression: str, record: dict[str, Any] | None = None) -> Any:
    return rows(f"alter v = {expression}", [record or {}])[0]["v"]


def stated_assumptions() -> list[str]:
    return re.findall(r"^ {4}\[([a-z0-9-]+)\]", devtools.xql.__doc__ or "", re.MULTILINE)


def test_every_stated_assumption_is_pinned_by_its_test() -> None:
    """
    Given: the assumptions the XQL library's docstring lists, and the tests of this module
    When: they are matched by name
    Then: each assumption has its test and each test an assumption, so neither is added or dropped alone
    """
    tests = {name for name in globals() if name.startswith("test_")} - {
        "test_every_stated_assumption_is_pinned_by_its_test"
    }
    assert len(stated_assumptions()) >= 12
    assert {f"test_{name.replace('-', '_')}" for name in stated_assumptions()} == tests


NULLS: list[dict[str, Any]] = [{"id": 1, "x": "a"}, {"id": 2, "x": None}, {"id": 3}]


@pytest.mark.parametrize(
    "condition, expected",
    [
        pytest.param('x = "a"', [1], id="equal"),
        pytest.param('x != "a"', [], id="not-equal-is-unknown-on-null"),
        pytest.param('x < "b"', [1], id="ordering"),
        pytest.param('not (x = "a")', [], id="not-of-unknown-is-unknown"),
        pytest.param('x not in ("b")', [1], id="not-in"),
        pytest.param('x not contains "b"', [1], id="not-contains"),
        pytest.param('x !~= "b"', [1], id="not-matches"),
        pytest.param('x != "a" or id > 0', [1, 2, 3], id="unknown-or-true-is-true"),
        pytest.param('x != "a" and id > 0', [], id="unknown-and-true-is-unknown"),
        pytest.param("x = null", [2, 3], id="is-null-includes-missing"),
        pytest.param("x != null", [1], id="is-not-null"),
    ],
)
def test_null_is_unknown(condition: str, expected: list[int]) -> None:
    """
    Given: a record with x, one with x null and one without x
    When: a filter compares x
    Then: only a true condition keeps a record; a comparison with null is unknown, and so is its negation
    """
    assert kept(condition, NULLS) == expected


@pytest.mark.parametrize(
    "condition, expected",
    [
        pytest.param('x = "Users"', [1], id="same-case"),
        pytest.param('x = "users"', [], id="equal"),
        pytest.param('x != "users"', [1], id="not-equal"),
        pytest.param('x in ("users")', [], id="in"),
        pytest.param('x contains "USER"', [], id="contains"),
        pytest.param('x ~= "users"', [], id="regex"),
        pytest.param('x ~= "(?i)users"', [1], id="regex-folded"),
        pytest.param('lowercase(x) = "users"', [1], id="lowercase-folded"),
    ],
)
def test_case_sensitive(condition: str, expected: list[int]) -> None:
    """
    Given: a record whose x is "Users"
    When: a filter compares x with other casings
    Then: only the same casing matches, unless the condition folds case itself
    """
    assert kept(condition, [{"id": 1, "x": "Users"}]) == expected


@pytest.mark.parametrize(
    "condition, message",
    [
        pytest.param("text > 3", "cannot compare string 'Users' with number 3", id="string-number"),
        pytest.param('number = "3"', "cannot compare number 3 with string '3'", id="number-string"),
        pytest.param('flag = "true"', "cannot compare boolean True with string 'true'", id="boolean-string"),
        pytest.param("text in (1, 2)", "'in' compares string 'Users' with number 1", id="in-list"),
        pytest.param("flag > false", "'>' does not order boolean values", id="boolean-order"),
    ],
)
def test_one_type_comparisons(condition: str, message: str) -> None:
    """
    Given: a record with a string, a number and a boolean
    When: a filter compares one of them with a value of another type, or orders booleans
    Then: XqlError, as XQL rejects the query, instead of a silent false
    """
    with pytest.raises(XqlError, match=re.escape(message)):
        kept(condition, [{"id": 1, "text": "Users", "number": 3, "flag": True}])


@pytest.mark.parametrize(
    "pattern, verdict",
    [
        pytest.param("(?=Us)", "rejected", id="look-ahead"),
        pytest.param("(?<=U)sers", "rejected", id="look-behind"),
        pytest.param("(?!x)Us", "rejected", id="negative-look-ahead"),
        pytest.param("(U)\\1", "rejected", id="back-reference"),
        pytest.param("(?P<u>U)(?P=u)", "rejected", id="named-back-reference"),
        pytest.param("(?>Us)", "rejected", id="atomic-group"),
        pytest.param("Us++", "rejected", id="possessive"),
        pytest.param("ser", "match", id="anywhere"),
        pytest.param("^Use", "match", id="anchored-start"),
        pytest.param("^ser", "no match", id="anchored-elsewhere"),
        pytest.param("(?i)^USERS$", "match", id="flags"),
    ],
)
def test_re2_dialect(pattern: str, verdict: str) -> None:
    """
    Given: a regular expression using a feature RE2 lacks, or one RE2 has
    When: a filter `x ~= pattern` is parsed and run on "Users"
    Then: what RE2 lacks is refused at parse time; the rest is searched for anywhere in the text
    """
    condition = f'x ~= "{pattern}"'
    if verdict == "rejected":
        with pytest.raises(XqlError, match="which RE2 \\(XQL\\) does not support"):
            kept(condition, [])
        return
    assert kept(condition, [{"id": 1, "x": "Users"}]) == ([1] if verdict == "match" else [])


@pytest.mark.parametrize(
    "literal, text",
    [
        pytest.param('"say \\"hi\\""', 'say "hi"', id="quote"),
        pytest.param('"a\\\\b"', "a\\b", id="backslash"),
        pytest.param('"a\\sb"', "a\\sb", id="other-backslash-kept"),
        pytest.param('"a\\\\sb"', "a\\sb", id="doubled-backslash-same-pattern"),
    ],
)
def test_string_escapes(literal: str, text: str) -> None:
    """
    Given: a string literal with an escaped quote, an escaped backslash, or another backslash
    When: its value is taken
    Then: only the quote and the backslash are unescaped; any other backslash reaches the value as written
    """
    assert value(literal) == text


@pytest.mark.parametrize(
    "pattern, expected",
    [
        pytest.param("[0-9]+", ["1", "22", "333"], id="every-match"),
        pytest.param("([a-z])[0-9]", ["a", "b", "c"], id="the-group"),
        pytest.param("x[0-9]", [], id="no-match-is-empty"),
    ],
)
def test_regextract_captures(pattern: str, expected: list[str]) -> None:
    """
    Given: "a1b22c333" and a pattern without a group, with one group, or matching nothing
    When: regextract runs
    Then: every match, or the group of every match, or an empty array
    """
    assert value(f'regextract(x, "{pattern}")', {"x": "a1b22c333"}) == expected


def test_concat_null() -> None:
    """
    Given: concat of a string and a null field, and the same guarded with coalesce
    When: both are evaluated
    Then: the first is null, the second the string
    """
    assert value('concat("a", missing)') is None
    assert value('concat("a", coalesce(missing, ""))') == "a"


@pytest.mark.parametrize(
    "moment, hour, weekday",
    [
        pytest.param("2026-11-30T00:00:00.000Z", 0, 1, id="monday-midnight"),
        pytest.param("2026-12-06T23:59:00.000Z", 23, 7, id="sunday"),
        pytest.param("2026-12-06T23:59:00.000+02:00", 21, 7, id="offset-read-in-utc"),
        pytest.param("2026-12-06T22:30:00.000-05:00", 3, 1, id="next-utc-day"),
    ],
)
def test_extract_time_utc(moment: str, hour: int, weekday: int) -> None:
    """
    Given: times with and without an offset around a weekend
    When: extract_time takes HOUR and DAYOFWEEK
    Then: both are the UTC ones, Monday 1 to Sunday 7
    """
    row = rows('alter h = extract_time(_time, "HOUR"), d = extract_time(_time, "DAYOFWEEK")', [{"_time": moment}])
    assert (row[0]["h"], row[0]["d"]) == (hour, weekday)


@pytest.mark.parametrize(
    "span, moment, start",
    [
        pytest.param("1h", "2026-11-30T10:59:59.999Z", "2026-11-30T10:00:00", id="hour-before-boundary"),
        pytest.param("1h", "2026-11-30T11:00:00.000Z", "2026-11-30T11:00:00", id="hour-on-boundary"),
        pytest.param("30m", "2026-11-30T10:29:59.000Z", "2026-11-30T10:00:00", id="half-hour"),
        pytest.param("1d", "2026-11-30T23:30:00.000-05:00", "2026-12-01T00:00:00", id="day-in-utc"),
        pytest.param("7d", "2026-12-02T12:00:00.000Z", "2026-11-26T00:00:00", id="week-from-thursday"),
    ],
)
def test_bin_boundaries(span: str, moment: str, start: str) -> None:
    """
    Given: a time near a bin boundary, for several spans
    When: bin _time span = <span> runs
    Then: the time is floored to a multiple of the span from the epoch in UTC; on the boundary it starts a bin
    """
    binned = rows(f"bin _time span = {span}", [{"_time": moment}])[0]["_time"]
    assert binned == datetime.fromisoformat(start).replace(tzinfo=UTC)


def test_time_fields() -> None:
    """
    Given: _time and _insert_time as ISO 8601 text, with an offset and without one, and one that is not a time
    When: a query reads them
    Then: they are UTC timestamps (no offset meaning UTC); text that is not a time is an error
    """
    record = {"_time": "2026-11-30T12:00:00+02:00", "_insert_time": "2026-11-30"}
    [row] = rows("fields _time, _insert_time", [record])
    assert row == {"_time": datetime(2026, 11, 30, 10, tzinfo=UTC), "_insert_time": datetime(2026, 11, 30, tzinfo=UTC)}
    with pytest.raises(XqlError, match="_time is not an ISO 8601 time: 'yesterday'"):
        rows("fields _time", [{"_time": "yesterday"}])


def test_nulls_sort_first() -> None:
    """
    Given: records with a null, a low and a high value
    When: sort asc and sort desc run
    Then: the null comes first ascending and last descending
    """
    records: list[dict[str, Any]] = [{"id": 1, "n": 5}, {"id": 2, "n": None}, {"id": 3, "n": 1}]
    assert [row["id"] for row in rows("sort asc n", records)] == [2, 3, 1]
    assert [row["id"] for row in rows("sort desc n", records)] == [1, 3, 2]


def test_aggregates_skip_null() -> None:
    """
    Given: four records, one with x null, and then no records at all
    When: comp aggregates them without by
    Then: count() counts the rows, the others ignore the null, and no rows still give one row counting 0
    """
    records: list[dict[str, Any]] = [{"x": "b"}, {"x": None}, {"x": "a"}, {"x": "b"}]
    tail = "comp count() as n, count_distinct(x) as d, values(x) as v, min(x) as low, max(x) as high"
    assert rows(tail, records) == [{"n": 4, "d": 2, "v": ["a", "b"], "low": "a", "high": "b"}]
    assert rows(tail, [{"x": None}]) == [{"n": 1, "d": 0, "v": [], "low": None, "high": None}]
    assert rows(tail, []) == [{"n": 0, "d": 0, "v": [], "low": None, "high": None}]
