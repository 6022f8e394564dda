"""tableToMarkdown, CommandResults.to_context, return_results and return_error (xsoar_runtime/SPEC.md §5)."""

from __future__ import annotations

import demistomock as demisto
from CommonServerPython import (
    CommandResults,
    DemistoException,
    pascalToSpace,
    return_error,
    return_results,
    string_to_table_header,
    tableToMarkdown,
)

from typing import Any

import pytest
from pytest_mock import MockerFixture

ENTRY_KEYS = [
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


class TestTableLayout:
    """xsoar_runtime/SPEC.md §5.3: lines, spacing, header order and the empty table."""

    def test_rows_sorted_headers_and_cell_rendering(self) -> None:
        """
        Given: rows whose values include a pipe, a boolean, None, a list and a dict
        When: they are rendered without explicit headers
        Then: headers come from the first row, sorted, with the platform's exact spacing and escaping
        """
        rows = [{"b": True, "a": "x|y", "c": None, "d": ["p", "q"], "e": {"k": 1}}]

        assert tableToMarkdown("Events", rows) == (
            "### Events\n|a|b|c|d|e|\n|---|---|---|---|---|\n| x\\|y | true |  | p,<br>q | k: 1 |\n"
        )

    def test_explicit_headers_keep_order_and_blank_missing_keys(self) -> None:
        """
        Given: explicit headers, one of which a row lacks
        When: the table is rendered
        Then: header order is kept and the missing value is an empty cell
        """
        rows = [{"time": "t1", "object": "Users"}, {"time": "t2"}]

        assert tableToMarkdown("T", rows, headers=["time", "object"]) == (
            "### T\n|time|object|\n|---|---|\n| t1 | Users |\n| t2 |  |\n"
        )

    @pytest.mark.parametrize(
        "empty",
        [pytest.param([], id="empty-list"), pytest.param(None, id="none"), pytest.param({}, id="empty-dict")],
    )
    def test_empty_or_none(self, empty: object) -> None:
        """
        Given: no rows at all
        When: a table is rendered
        Then: the platform's No entries line follows the title
        """
        assert tableToMarkdown("E", empty) == "### E\n**No entries.**\n"

    def test_remove_null_and_newlines(self) -> None:
        """
        Given: a column that is empty in every row and a value with a newline
        When: removeNull is set
        Then: the empty column disappears and the newline becomes <br>
        """
        rows = [{"a": "1\n2", "b": None}, {"a": "3", "b": ""}]

        assert tableToMarkdown(None, rows, removeNull=True) == "|a|\n|---|\n| 1<br>2 |\n| 3 |\n"

    def test_single_key_dict_becomes_a_column(self) -> None:
        """
        Given: a dict with one key holding a list, and no headers
        When: the table is rendered
        Then: the key is the only header and each list item a row
        """
        assert tableToMarkdown("S", {"ids": ["1", "2"]}) == "### S\n|ids|\n|---|\n| 1 |\n| 2 |\n"


class TestTableInputs:
    """xsoar_runtime/SPEC.md §5.3: non-dict rows, links and inputs the platform refuses."""

    def test_string_rows_take_the_header(self) -> None:
        """
        Given: a list of strings and a single header given as a string
        When: rendered
        Then: each string is a row under that header
        """
        assert tableToMarkdown("S", ["x", "y"], headers="name") == "### S\n|name|\n|---|\n| x |\n| y |\n"

    def test_string_rows_without_headers_are_refused(self) -> None:
        """
        Given: a list of strings and no headers
        When: rendered
        Then: the platform's exception
        """
        with pytest.raises(Exception, match="Missing headers param for tableToMarkdown"):
            tableToMarkdown("S", ["x"])

    def test_url_keys_become_links(self) -> None:
        """
        Given: url_keys naming a URL, a number and an empty value
        When: rendered
        Then: truthy values of any type become [v](v) links; the empty one stays empty
        """
        rows = [{"u": "http://x", "v": 5, "w": ""}]

        assert tableToMarkdown("L", rows, url_keys=["u", "v", "w"]) == (
            "### L\n|u|v|w|\n|---|---|---|\n| [http://x](http://x) | [5](5) |  |\n"
        )

    @pytest.mark.parametrize(
        ("rows", "headers", "error"),
        [
            pytest.param([{"a": 1}], [1], AttributeError, id="non-text-header"),
            pytest.param([{"a": b"raw"}], None, TypeError, id="bytes-cell"),
        ],
    )
    def test_non_text_header_or_bytes_cell_fails(self, rows: list, headers: Any, error: type[Exception]) -> None:
        """
        Given: a header that is not a str, or a cell holding bytes
        When: rendered with the default escaping
        Then: the escaping fails as it does on the platform (it needs str)
        """
        with pytest.raises(error):
            tableToMarkdown("X", rows, headers=headers)


class TestHeaderTransforms:
    """xsoar_runtime/SPEC.md §5.3: the header helpers collectors pass as headerTransform."""

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            pytest.param("object_type", "Object Type", id="underscore"),
            pytest.param("a_b  c", "A B C", id="runs-of-spaces-collapse"),
        ],
    )
    def test_string_to_table_header(self, raw: str, expected: str) -> None:
        """
        Given: snake_case and spaced keys
        When: transformed
        Then: underscores become spaces and every word is capitalised
        """
        assert string_to_table_header(raw) == expected

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            pytest.param("ThreatScore", "Threat Score", id="pascal"),
            pytest.param("thisIsIPAddressName", "This Is IP Address Name", id="acronym"),
            pytest.param(7, 7, id="non-text-unchanged"),
        ],
    )
    def test_pascal_to_space(self, raw: object, expected: object) -> None:
        """
        Given: PascalCase and camelCase keys with an acronym, and a non-string
        When: transformed
        Then: words are split and capitalised, the acronym kept whole; non-strings come back unchanged
        """
        assert pascalToSpace(raw) == expected


class TestCommandResultsContext:
    """xsoar_runtime/SPEC.md §5.1: to_context keys, the context key and human-readable text."""

    def test_context_key_with_key_field(self) -> None:
        """
        Given: outputs with a prefix and one key field
        When: converted to an entry
        Then: the keys come in the platform's order and the context key carries the dedup condition
        """
        entry = CommandResults(
            outputs_prefix="LivePerson.Event", outputs_key_field="id", outputs=[{"id": 1}]
        ).to_context()

        assert list(entry) == ENTRY_KEYS
        assert entry["EntryContext"] == {"LivePerson.Event(val.id && val.id == obj.id)": [{"id": 1}]}
        assert entry["Type"] == 1
        assert entry["ContentsFormat"] == "json"
        assert entry["HumanReadable"] == "### Results\n|id|\n|---|\n| 1 |\n"

    def test_two_key_fields_are_joined(self) -> None:
        """
        Given: two key fields
        When: converted
        Then: the two conditions are joined with &&
        """
        entry = CommandResults(outputs_prefix="X", outputs_key_field=["a", "b"], outputs={"a": 1, "b": 2}).to_context()

        assert list(entry["EntryContext"]) == ["X(val.a && val.a == obj.a && val.b && val.b == obj.b)"]

    def test_prefix_alone_is_the_key(self) -> None:
        """
        Given: a prefix without key fields and an explicit readable output
        When: converted
        Then: the prefix is the context key and the readable output is kept
        """
        entry = CommandResults(outputs_prefix="X.Y", outputs=[{"a": 1}], readable_output="hi").to_context()

        assert entry["EntryContext"] == {"X.Y": [{"a": 1}]}
        assert entry["HumanReadable"] == "hi"

    def test_readable_output_only(self) -> None:
        """
        Given: only a readable output
        When: converted
        Then: EntryContext is empty and the raw response None is shown as json
        """
        entry = CommandResults(readable_output="ok").to_context()

        assert entry["EntryContext"] == {}
        assert entry["ContentsFormat"] == "json"

    def test_empty_outputs_have_no_human_readable(self) -> None:
        """
        Given: empty list outputs
        When: converted
        Then: EntryContext is empty and there is no human-readable text
        """
        entry = CommandResults(outputs_prefix="X", outputs=[]).to_context()

        assert entry["EntryContext"] == {}
        assert entry["HumanReadable"] is None

    def test_replace_existing_targets_the_parent_path(self) -> None:
        """
        Given: replace_existing with a nested prefix
        When: converted
        Then: the parent path gets the (true) suffix and the last segment holds the outputs
        """
        entry = CommandResults(outputs_prefix="LP.Next", outputs="tok", replace_existing=True).to_context()

        assert entry["EntryContext"] == {"LP(true)": {"Next": "tok"}}
        assert entry["ContentsFormat"] == "text"

    def test_replace_existing_needs_a_nested_prefix(self) -> None:
        """
        Given: replace_existing with a prefix that has no dot
        When: converted
        Then: the platform's DemistoException
        """
        results = CommandResults(outputs_prefix="LP", outputs="tok", replace_existing=True)

        with pytest.raises(DemistoException, match="outputs_prefix must be a nested path"):
            results.to_context()

    def test_relationships_are_given_as_entries(self) -> None:
        """
        Given: two relationship objects, one of which has an empty entry
        When: converted
        Then: Relationships lists the non-empty to_entry() values
        """

        class Relationship:
            def __init__(self, entry: dict) -> None:
                self.entry = entry

            def to_entry(self) -> dict:
                return self.entry

        entry = CommandResults(
            readable_output="r", relationships=[Relationship({"name": "related-to"}), Relationship({})]
        ).to_context()

        assert entry["Relationships"] == [{"name": "related-to"}]

    def test_execution_metrics_turn_the_entry_into_a_metrics_entry(self) -> None:
        """
        Given: execution metrics rows
        When: converted
        Then: the entry (and the object's entry_type) becomes Type 19 with the platform's fixed text
        """
        rows = [{"Type": "Successful", "APICallsCount": 2}]
        results = CommandResults(execution_metrics=rows)

        entry = results.to_context()

        assert entry["Type"] == 19
        assert results.entry_type == 19
        assert entry["Contents"] == "Metrics reported successfully."
        assert entry["ContentsFormat"] == "text"
        assert entry["APIExecutionMetrics"] == rows


class TestCommandResultsValidation:
    """xsoar_runtime/SPEC.md §5.1: constructor errors."""

    def test_list_outputs_need_a_prefix(self) -> None:
        """
        Given: list outputs without a prefix
        When: CommandResults is built
        Then: the platform's ValueError
        """
        with pytest.raises(ValueError, match="outputs_prefix is missing"):
            CommandResults(outputs=[{"a": 1}])

    def test_key_field_must_be_text_or_list(self) -> None:
        """
        Given: an integer key field
        When: CommandResults is built
        Then: the platform's TypeError
        """
        with pytest.raises(TypeError, match="outputs_key_field must be of type str or list"):
            CommandResults(outputs_prefix="X", outputs_key_field=3, outputs=[])


class TestReturnResults:
    """xsoar_runtime/SPEC.md §5.2: what reaches demisto.results."""

    def test_dispatch(self, mocker: MockerFixture) -> None:
        """
        Given: a string, a CommandResults, and a list mixing both
        When: each is returned
        Then: strings pass unchanged, CommandResults become entries, and in a list the entries go first
        """
        results = mocker.patch.object(demisto, "results")
        result = CommandResults(readable_output="r")

        return_results("ok")
        return_results(result)
        return_results(["s", result])

        calls = [call.args[0] for call in results.call_args_list]
        assert calls == ["ok", result.to_context(), result.to_context(), ["s"]]

    def test_none_and_empty_list_pass_through(self, mocker: MockerFixture) -> None:
        """
        Given: None and an empty list
        When: each is returned
        Then: both reach demisto.results unchanged
        """
        results = mocker.patch.object(demisto, "results")

        return_results(None)
        return_results([])

        assert [call.args[0] for call in results.call_args_list] == [None, []]


class TestReturnError:
    """xsoar_runtime/SPEC.md §5.4: an error entry and exit, unless the server handles the command's errors."""

    def test_fetch_events_writes_an_entry_and_exits(self, mocker: MockerFixture) -> None:
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
        assert results.call_args.args[0] == {
            "Type": 4,
            "ContentsFormat": "text",
            "Contents": "Failed to execute fetch-events command.\nError:\nboom",
            "EntryContext": None,
        }

    def test_fetch_incidents_raises(self, mocker: MockerFixture) -> None:
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

    def test_truncates_huge_messages(self, mocker: MockerFixture) -> None:
        """
        Given: a 60,000-character message
        When: return_error writes it
        Then: the middle is cut with the platform's marker, keeping 25,000 characters each side
        """
        mocker.patch.object(demisto, "command", return_value="liveperson-get-events")
        results = mocker.patch.object(demisto, "results")

        with pytest.raises(SystemExit):
            return_error("a" * 30000 + "b" * 30000)

        expected = "a" * 25000 + "...This error body was truncated..." + "b" * 25000
        assert results.call_args.args[0]["Contents"] == expected

    def test_debug_mode_appends_the_traceback(self, mocker: MockerFixture, monkeypatch: pytest.MonkeyPatch) -> None:
        """
        Given: debug mode and an exception being handled
        When: return_error is called
        Then: the traceback follows the message after a blank line
        """
        monkeypatch.setattr(demisto, "is_debug", True)
        mocker.patch.object(demisto, "command", return_value="fetch-events")
        results = mocker.patch.object(demisto, "results")

        try:
            raise ValueError("inner detail")
        except ValueError:
            with pytest.raises(SystemExit):
                return_error("outer")

        contents = results.call_args.args[0]["Contents"]
        assert contents.startswith("outer\n\nTraceback (most recent call last):")
        assert "ValueError: inner detail" in contents
