"""Checklist 5: CommandResults.to_context, return_results, return_error and tableToMarkdown."""

from __future__ import annotations

import demistomock as demisto
from CommonServerPython import CommandResults, return_error, return_results, tableToMarkdown

import pytest
from pytest_mock import MockerFixture


def test_checklist_5_table_rows_sorted_headers_and_cell_rendering() -> None:
    """
    Given: rows whose values include a pipe, a boolean, None, a list and a dict
    When: they are rendered without explicit headers
    Then: headers come from the first row, sorted, with the platform's exact spacing and escaping
    """
    rows = [{"b": True, "a": "x|y", "c": None, "d": ["p", "q"], "e": {"k": 1}}]
    assert tableToMarkdown("Events", rows) == (
        "### Events\n|a|b|c|d|e|\n|---|---|---|---|---|\n| x\\|y | true |  | p,<br>q | k: 1 |\n"
    )


def test_checklist_5_table_explicit_headers_keep_order_and_blank_missing_keys() -> None:
    """
    Given: explicit headers, one of which a row lacks
    When: the table is rendered
    Then: header order is kept and the missing value is an empty cell
    """
    rows = [{"time": "t1", "object": "Users"}, {"time": "t2"}]
    assert tableToMarkdown("T", rows, headers=["time", "object"]) == (
        "### T\n|time|object|\n|---|---|\n| t1 | Users |\n| t2 |  |\n"
    )


@pytest.mark.parametrize("empty", [[], None, {}])
def test_checklist_5_table_empty_or_none(empty: object) -> None:
    """
    Given: no rows at all
    When: a table is rendered
    Then: the platform's No entries line follows the title
    """
    assert tableToMarkdown("E", empty) == "### E\n**No entries.**\n"


def test_checklist_5_table_remove_null_and_newlines() -> None:
    """
    Given: a column that is empty in every row and a value with a newline
    When: removeNull is set
    Then: the empty column disappears and the newline becomes <br>
    """
    rows = [{"a": "1\n2", "b": None}, {"a": "3", "b": ""}]
    assert tableToMarkdown(None, rows, removeNull=True) == "|a|\n|---|\n| 1<br>2 |\n| 3 |\n"


def test_checklist_5_table_non_dict_rows_need_headers() -> None:
    """
    Given: a list of strings
    When: rendered with and without headers
    Then: with a header each string is a row; without, the platform's exception
    """
    assert tableToMarkdown("S", ["x", "y"], headers="name") == "### S\n|name|\n|---|\n| x |\n| y |\n"
    with pytest.raises(Exception, match="Missing headers param for tableToMarkdown"):
        tableToMarkdown("S", ["x"])


def test_checklist_5_command_results_context_key_with_key_field() -> None:
    """
    Given: outputs with a prefix and one key field
    When: converted to an entry
    Then: the context key carries the platform's dedup condition and the keys come in order
    """
    entry = CommandResults(outputs_prefix="LivePerson.Event", outputs_key_field="id", outputs=[{"id": 1}]).to_context()
    assert list(entry) == [
        "Type",
        "ContentsFormat",
        "Contents",
        "HumanReadable",
        "EntryContext",
        "IndicatorTimeline",
        "IgnoreAutoExtract",
        "Note",
        "Relationships",
    ]
    assert entry["EntryContext"] == {"LivePerson.Event(val.id && val.id == obj.id)": [{"id": 1}]}
    assert entry["Type"] == 1 and entry["ContentsFormat"] == "json"
    assert entry["HumanReadable"] == "### Results\n|id|\n|---|\n| 1 |\n"


def test_checklist_5_command_results_two_key_fields_and_prefix_only() -> None:
    """
    Given: two key fields, and separately a prefix alone
    When: converted
    Then: conditions are joined with &&, and a bare prefix is the key itself
    """
    two = CommandResults(outputs_prefix="X", outputs_key_field=["a", "b"], outputs={"a": 1, "b": 2}).to_context()
    assert list(two["EntryContext"]) == ["X(val.a && val.a == obj.a && val.b && val.b == obj.b)"]
    bare = CommandResults(outputs_prefix="X.Y", outputs=[{"a": 1}], readable_output="hi").to_context()
    assert bare["EntryContext"] == {"X.Y": [{"a": 1}]} and bare["HumanReadable"] == "hi"


def test_checklist_5_command_results_without_outputs() -> None:
    """
    Given: only a readable output, and separately empty outputs
    When: converted
    Then: EntryContext is empty; empty outputs have no human-readable text
    """
    assert CommandResults(readable_output="ok").to_context()["EntryContext"] == {}
    empty = CommandResults(outputs_prefix="X", outputs=[]).to_context()
    assert empty["EntryContext"] == {} and empty["HumanReadable"] is None


def test_checklist_5_command_results_validation() -> None:
    """
    Given: list outputs without a prefix, and a bad key field type
    When: CommandResults is built
    Then: the platform's ValueError and TypeError are raised
    """
    with pytest.raises(ValueError, match="outputs_prefix is missing"):
        CommandResults(outputs=[{"a": 1}])
    with pytest.raises(TypeError, match="outputs_key_field must be of type str or list"):
        CommandResults(outputs_prefix="X", outputs_key_field=3, outputs=[])


def test_checklist_5_return_results_dispatch(mocker: MockerFixture) -> None:
    """
    Given: a string, a CommandResults, and a list mixing both
    When: each is returned
    Then: strings pass unchanged, CommandResults become entries, and in a list the entries go first
    """
    results = mocker.patch.object(demisto, "results")
    return_results("ok")
    result = CommandResults(readable_output="r")
    return_results(result)
    return_results(["s", result])
    calls = [call.args[0] for call in results.call_args_list]
    assert calls[0] == "ok"
    assert calls[1] == result.to_context()
    assert calls[2] == result.to_context() and calls[3] == ["s"]


def test_checklist_5_return_error_during_fetch_events_writes_an_entry_and_exits(mocker: MockerFixture) -> None:
    """
    Given: the fetch-events command (not one the server handles itself)
    When: return_error is called
    Then: an error entry (Type 4) is written and the process exits with code 0
    """
    mocker.patch.object(demisto, "command", return_value="fetch-events")
    results = mocker.patch.object(demisto, "results")
    with pytest.raises(SystemExit) as exited:
        return_error("Failed to execute fetch-events command.\nError:\nboom")
    assert exited.value.code == 0
    entry = results.call_args.args[0]
    assert entry == {
        "Type": 4,
        "ContentsFormat": "text",
        "Contents": "Failed to execute fetch-events command.\nError:\nboom",
        "EntryContext": None,
    }


def test_checklist_5_return_error_in_fetch_incidents_raises(mocker: MockerFixture) -> None:
    """
    Given: fetch-incidents, whose errors the server handles
    When: return_error is called
    Then: a plain Exception is raised and no entry is written
    """
    mocker.patch.object(demisto, "command", return_value="fetch-incidents")
    results = mocker.patch.object(demisto, "results")
    with pytest.raises(Exception, match="^bad$"):
        return_error("bad")
    results.assert_not_called()


def test_checklist_5_return_error_truncates_huge_messages(mocker: MockerFixture) -> None:
    """
    Given: a 60,000-character message
    When: return_error writes it
    Then: the middle is cut with the platform's marker, keeping 25,000 characters each side
    """
    mocker.patch.object(demisto, "command", return_value="liveperson-get-events")
    results = mocker.patch.object(demisto, "results")
    with pytest.raises(SystemExit):
        return_error("a" * 30000 + "b" * 30000)
    contents = results.call_args.args[0]["Contents"]
    assert contents == "a" * 25000 + "...This error body was truncated..." + "b" * 25000
