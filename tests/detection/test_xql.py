"""Our XQL library (devtools/xql/): what it accepts, what it rejects, and the semantics the rules rely on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devtools.xql import DATASET, Cron, XqlError, parse, parse_duration, parse_model

HEAD = "dataset = liveperson_liveengage_raw"


def run(tail: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return parse(f"{HEAD} {tail}").run(records)


def names(rows: list[dict[str, Any]]) -> list[Any]:
    return [row.get("objectName") for row in rows]


RECORDS: list[dict[str, Any]] = [
    {
        "objectName": "a",
        "objectType": "Users",
        "element": "Password",
        "newValue": "x",
        "_time": "2026-11-30T10:00:00.000Z",
    },
    {
        "objectName": "b",
        "objectType": "Profiles",
        "element": None,
        "newValue": "true",
        "_time": "2026-11-30T11:30:00.000Z",
    },
    {
        "objectName": "c",
        "objectType": "Skills",
        "element": "Name",
        "newValue": None,
        "_time": "2026-12-06T23:59:00.000Z",
    },
]


@pytest.mark.parametrize(
    "query, message",
    [
        pytest.param(f"{HEAD} | dedup objectName", "unsupported stage 'dedup'", id="unknown-stage"),
        pytest.param(f"{HEAD} | join (dataset = x) as y y.a = a", "unsupported stage 'join'", id="join"),
        pytest.param(f"{HEAD} | config case_sensitive = false", "unsupported stage 'config'", id="config"),
        pytest.param(
            f'{HEAD} | alter x = json_extract(newValue, "$.a")', "unsupported function 'json_extract()'", id="function"
        ),
        pytest.param(f"{HEAD} | comp sum(x) as s", "unsupported aggregate 'sum()'", id="aggregate"),
        pytest.param(f"{HEAD} | comp count() by objectType", "expected 'as'", id="aggregate-without-alias"),
        pytest.param("filter a = 1", "must start with 'dataset", id="no-dataset"),
        pytest.param(f"{HEAD} | view graph type = pie | limit 3", "'view' must be the last stage", id="view-not-last"),
        pytest.param(f'{HEAD} | filter element ~= "(?=Pass)"', "look-around", id="lookahead"),
        pytest.param(f'{HEAD} | filter element ~= "(a)\\\\1"', "back-references", id="backreference"),
        pytest.param(
            f'{HEAD} | alter x = regextract(element, "(a)(b)")', "more than one capture group", id="two-groups"
        ),
        pytest.param(f'{HEAD} | alter x = extract_time(_time, "WEEK")', "outside the subset", id="time-part"),
        pytest.param(
            f"{HEAD} | alter x = regextract(element, newValue)", "must be a string literal", id="pattern-field"
        ),
        pytest.param(
            f"{HEAD} | filter element contains newValue", "string literal after 'contains'", id="contains-field"
        ),
        pytest.param(f"{HEAD} | bin _time span = 1w", "bin span", id="bin-unit"),
        pytest.param(f"{HEAD} | filter a = 1;", "unexpected character ';'", id="stray-character"),
        pytest.param(f"{HEAD} | alter x = lowercase(a, b)", "does not take 2", id="arity"),
        pytest.param(f'{HEAD} | filter element ~= "("', "invalid regular expression", id="bad-regex"),
    ],
)
def test_outside_the_subset_is_an_error(query: str, message: str) -> None:
    """
    Given: a query using a stage, function, aggregate or regular-expression feature outside the subset
    When: it is parsed
    Then: XqlError names the problem, so a rule written that way fails its check instead of passing unchecked
    """
    with pytest.raises(XqlError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(query)


@pytest.mark.parametrize(
    "condition, selected",
    [
        pytest.param('element != "Name"', ["a"], id="not-equal-drops-null"),
        pytest.param("element = null", ["b"], id="is-null"),
        pytest.param("element != null", ["a", "c"], id="is-not-null"),
        pytest.param('not (element = "Name")', ["a"], id="not-of-unknown-is-unknown"),
        pytest.param('element = "Password" or newValue = "true"', ["a", "b"], id="or-with-unknown"),
        pytest.param('element != "Password" and objectType = "Skills"', ["c"], id="and"),
        pytest.param('objectType in ("Users", "Skills")', ["a", "c"], id="in"),
        pytest.param('element not in ("Password")', ["c"], id="not-in-drops-null"),
        pytest.param('element ~= "ass"', ["a"], id="regex-anywhere"),
        pytest.param('element ~= "password"', [], id="regex-case-sensitive"),
        pytest.param('element ~= "(?i)password"', ["a"], id="regex-case-flag"),
        pytest.param('element !~= "ass"', ["c"], id="regex-negated"),
        pytest.param('objectType contains "ile"', ["b"], id="contains"),
        pytest.param('objectType not contains "s"', [], id="not-contains"),
        pytest.param('objectType = "users"', [], id="equality-case-sensitive"),
        pytest.param('lowercase(objectType) = "users"', ["a"], id="lowercase"),
        pytest.param('coalesce(element, "none") = "none"', ["b"], id="coalesce"),
    ],
)
def test_filter_semantics(condition: str, selected: list[str]) -> None:
    """
    Given: three records, one with a null element and one with a null newValue
    When: a filter condition runs
    Then: exactly the expected records pass (null is unknown; only a true condition keeps a row)
    """
    assert names(run(f"| filter {condition}", RECORDS)) == selected


def test_functions() -> None:
    """
    Given: an alter stage using each supported function
    When: it runs on one record
    Then: each value is what XQL would give (null-propagating concat, first capture group, ISO weekday, etc.)
    """
    record = {"a": "Hi https://x.io/p and www.y.net", "b": None, "_time": "2026-12-06T23:59:00.000+02:00"}
    tail = (
        '| alter links = regextract(a, "((?:https?://|www[.])[^ ]+)"), joined = concat("x", b),'
        ' kept = concat("x", "y"),'
        " first = coalesce(b, a), last_link = arrayindex(links, -1), outside = arrayindex(links, 5),"
        ' count = array_length(links), text = arraystring(links, "|"), upper = uppercase("ab"),'
        ' pick = if(b = null, "null", a != null, "set", "else"), hour = extract_time(_time, "HOUR"),'
        ' weekday = extract_time(_time, "DAYOFWEEK")'
    )
    row = run(tail, [record])[0]
    assert row["links"] == ["https://x.io/p", "www.y.net"]
    assert row["joined"] is None and row["kept"] == "xy" and row["first"] == record["a"]
    assert row["last_link"] == "www.y.net" and row["outside"] is None and row["count"] == 2
    assert row["text"] == "https://x.io/p|www.y.net" and row["upper"] == "AB" and row["pick"] == "null"
    assert (row["hour"], row["weekday"]) == (21, 7)  # 21:59 UTC on Sunday 6 December


def test_string_escapes_and_comments() -> None:
    """
    Given: a pattern written with a single and with a doubled backslash, an escaped quote, and comments
    When: the query runs
    Then: both spellings reach the regular expression as \\s, the quote is part of the string, comments are ignored
    """
    query = parse(
        HEAD
        + ' // the source\n| filter a ~= "x\\sy" // one backslash\n| filter a ~= "x\\\\sy"\n| filter b = "say \\"hi\\""'
    )
    assert query.run([{"a": "x y", "b": 'say "hi"'}, {"a": "xsy", "b": 'say "hi"'}]) == [{"a": "x y", "b": 'say "hi"'}]


def test_comp_sort_limit() -> None:
    """
    Given: records with repeats, nulls and several groups
    When: comp aggregates by two fields, then sort and limit run
    Then: counts, distinct counts (nulls ignored), sorted values, min and max are right; a null group stays a group
    """
    records: list[dict[str, Any]] = [
        {"who": "ada", "type": "Users", "name": "x", "_time": "2026-11-30T10:00:00.000Z"},
        {"who": "ada", "type": "Users", "name": "x", "_time": "2026-11-30T10:05:00.000Z"},
        {"who": "ada", "type": "Users", "name": None, "_time": "2026-11-30T10:01:00.000Z"},
        {"who": "ada", "type": "Users", "name": "a", "_time": "2026-11-30T09:00:00.000Z"},
        {"who": None, "type": "Skills", "name": "s", "_time": "2026-11-30T08:00:00.000Z"},
        {"who": "bob", "type": "Users", "name": "y", "_time": "2026-11-30T07:00:00.000Z"},
    ]
    rows = run(
        "| comp count() as n, count_distinct(name) as names, values(name) as listed, min(_time) as first,"
        " max(_time) as last by who, type | sort desc n, asc who | limit 2",
        records,
    )
    assert [(row["who"], row["n"], row["names"], row["listed"]) for row in rows] == [
        ("ada", 4, 2, ["a", "x"]),
        (None, 1, 1, ["s"]),
    ]
    assert rows[0]["first"] == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert rows[0]["last"] == datetime(2026, 11, 30, 10, 5, tzinfo=UTC)
    assert run('| filter who = "nobody" | comp count() as n', records) == [{"n": 0}]


def test_bin_fields_and_sort_directions() -> None:
    """
    Given: times within two hours
    When: bin _time span = 1h, comp by _time and sort asc/desc run, then fields keeps one column
    Then: times are floored to the hour, and sorting orders them both ways
    """
    records: list[dict[str, Any]] = [
        {"_time": f"2026-11-30T{hour:02d}:{minute:02d}:00.000Z"} for hour, minute in ((10, 59), (10, 1), (11, 0))
    ]
    rows = run("| bin _time span = 1h | comp count() as n by _time | sort asc _time", records)
    assert [(row["_time"].hour, row["n"]) for row in rows] == [(10, 2), (11, 1)]
    rows = run("| bin _time span = 1h | comp count() as n by _time | sort desc _time | fields n", records)
    assert rows == [{"n": 1}, {"n": 2}]


@pytest.mark.parametrize(
    "tail, unknown",
    [
        pytest.param('| filter nosuch = "x"', ["nosuch"], id="filter"),
        pytest.param("| alter x = lowercase(element) | filter x = y", ["y"], id="alter-then-unknown"),
        pytest.param("| fields element | filter objectType = null", ["objectType"], id="dropped-by-fields"),
        pytest.param("| comp count() as n by element | sort desc objectType", ["objectType"], id="dropped-by-comp"),
        pytest.param(
            "| comp count() as n by element | view graph type = pie xaxis = element yaxis = total", ["total"], id="view"
        ),
        pytest.param(
            "| alter x = lowercase(element) | comp values(x) as xs by objectType | sort asc xs", [], id="created"
        ),
    ],
)
def test_analyse_names_unknown_fields(tail: str, unknown: list[str]) -> None:
    """
    Given: a query reading fields, some of which do not exist at that point
    When: it is analysed against the available fields
    Then: exactly the missing names are reported, and fields the query creates count as existing
    """
    problems, _ = parse(f"{HEAD} {tail}").analyse(["element", "objectType", "_time"])
    assert [problem.rsplit("'", 2)[1] for problem in problems] == unknown


@pytest.mark.parametrize(
    "crontab, start, end, expected",
    [
        pytest.param(
            "*/30 * * * *", "2026-11-30T10:00", "2026-11-30T11:30", ["10:30", "11:00", "11:30"], id="every-30"
        ),
        pytest.param(
            "0 9 * * 1-5", "2026-12-04T00:00", "2026-12-08T00:00", ["12-04 09:00", "12-07 09:00"], id="weekdays"
        ),
        pytest.param(
            "15 */6 1 * *",
            "2026-11-30T23:00",
            "2026-12-01T13:00",
            ["12-01 00:15", "12-01 06:15", "12-01 12:15"],
            id="day",
        ),
    ],
)
def test_cron_times(crontab: str, start: str, end: str, expected: list[str]) -> None:
    """
    Given: a crontab and a span of time
    When: its firing times in (start, end] are listed
    Then: they are the expected UTC minutes
    """
    found = Cron(crontab).times(datetime.fromisoformat(start + "+00:00"), datetime.fromisoformat(end + "+00:00"))
    fmt = "%H:%M" if len(expected[0]) == 5 else "%m-%d %H:%M"
    assert [moment.strftime(fmt) for moment in found] == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("* * * *", id="four-fields"),
        pytest.param("61 * * * *", id="range"),
        pytest.param("@hourly", id="alias"),
    ],
)
def test_bad_crontab_is_an_error(text: str) -> None:
    """
    Given: a crontab outside the five-field form
    When: it is parsed
    Then: XqlError
    """
    with pytest.raises(XqlError):
        Cron(text)


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("10 minutes", timedelta(minutes=10), id="minutes"),
        pytest.param("1 hours", timedelta(hours=1), id="hours"),
        pytest.param("1 day", timedelta(days=1), id="day"),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    """
    Given: a correlation-rule duration
    When: it is parsed
    Then: it is the timedelta meant, and nonsense is an error
    """
    assert parse_duration(text) == expected
    with pytest.raises(XqlError):
        parse_duration(text.replace(" ", " weeks "))


MODEL = """[MODEL: dataset=liveperson_liveengage_raw]
// a modeling rule in the .xif form
alter
    xdm.event.outcome = XDM_CONST.OUTCOME_SUCCESS,
    label = concat(objectType, "://", objectName), // the // inside the string is no comment
    xdm.source.user.groups = if(originatorIsLpa = true, arraycreate("staff", label), null)
| alter xdm.event.type = lowercase(label);
"""


def test_a_modeling_rule_is_read_and_run() -> None:
    """
    Given: a .xif with a header, comments, XDM_CONST, arraycreate and two alter stages, one reading the other
    When: it is parsed and run on raw events
    Then: the dataset, the raw fields read (not the ones it writes first) and every written value are right
    """
    model = parse_model(MODEL)
    assert model.dataset == DATASET
    assert model.reads() == {"objectType", "objectName", "originatorIsLpa"}
    assert model.run({"objectType": "Users", "objectName": "ada", "originatorIsLpa": True}) == {
        "xdm.event.outcome": "SUCCESS",
        "label": "Users://ada",
        "xdm.source.user.groups": ["staff", "Users://ada"],
        "xdm.event.type": "users://ada",
    }
    assert (
        model.run({"objectType": "Users", "objectName": "ada", "originatorIsLpa": False})["xdm.source.user.groups"]
        is None
    )


def test_modeling_rules_compare_by_expression_not_by_layout() -> None:
    """
    Given: the same .xif laid out otherwise and without its first comment, and one with a changed argument
    When: their assignments are compared (as the modeling-rule check compares its two variants)
    Then: the first is equal, the second differs in exactly the changed field
    """
    original = parse_model(MODEL).assignments
    uncommented = MODEL.replace("// a modeling rule in the .xif form\n", "")
    relaid = parse_model(uncommented.replace("\n    ", "\n\t\t").replace(" = ", "="))
    assert relaid.assignments == original
    changed = parse_model(MODEL.replace('arraycreate("staff"', 'arraycreate("staff (LPA)"')).assignments
    assert [name for name in original if changed[name] != original[name]] == ["xdm.source.user.groups"]


@pytest.mark.parametrize(
    "text, message",
    [
        pytest.param("[RULE: x] alter a = b;", "expected 'model'", id="not-a-model"),
        pytest.param("[MODEL: dataset=x] filter a = 1;", "an alter stage", id="filter-stage"),
        pytest.param("[MODEL: dataset=x] alter a = b", "expected ';'", id="no-semicolon"),
        pytest.param("[MODEL: dataset=x] alter a = b; alter c = d", "the end of the modeling rule", id="two-rules"),
        pytest.param("[MODEL: dataset=x] alter a = XDM_CONST.OUTCOME_MAYBE;", "unknown constant", id="constant"),
        pytest.param("[MODEL: dataset=x] alter a = arraycreate();", "does not take 0", id="empty-array"),
    ],
)
def test_a_modeling_rule_outside_the_subset_is_an_error(text: str, message: str) -> None:
    """
    Given: a .xif using another section, stage or constant than the subset has, or malformed
    When: it is parsed
    Then: XqlError names the problem, so the modeling-rule check cannot pass on what it did not read
    """
    with pytest.raises(XqlError, match=message):
        parse_model(text)


def test_xif_punctuation_is_a_stray_character_in_a_query() -> None:
    """
    Given: a query with the brackets of a .xif header
    When: it is parsed as a query
    Then: the bracket is reported where it stands, as any character outside XQL's
    """
    with pytest.raises(XqlError, match="unexpected character '\\[' at offset 0"):
        parse("[MODEL: dataset=x]")
