"""Integration context, lastRun and the demistomock calls a collector makes (xsoar_runtime/SPEC.md §8, §9, §10)."""

from __future__ import annotations

import demistomock as demisto
from CommonServerPython import get_integration_context, set_integration_context

import json
import logging
from pathlib import Path

import pytest


class TestIntegrationContext:
    """xsoar_runtime/SPEC.md §8: with the mock's server version the plain (non-versioned) context is used."""

    def test_round_trip_keeps_the_same_object(self) -> None:
        """
        Given: the mock's server version 5.5.0 (no versioned context)
        When: a context is set and read back
        Then: the plain getter returns it, and the same dict object is kept (no copy)
        """
        context = {"token": {"expires_at": 1}}

        set_integration_context(context)

        assert get_integration_context() is context
        assert demisto.getIntegrationContext() is context


class TestRunInputs:
    """xsoar_runtime/SPEC.md §9: params, args, command and lastRun as a fresh command run sees them."""

    def test_last_run_before_anything_was_set(self) -> None:
        """
        Given: a fresh instance
        When: getLastRun is called
        Then: the real mock's fixed answer comes back, not {} (so collectors must tolerate foreign keys)
        """
        assert demisto.getLastRun() == {"lastRun": "2018-10-24T14:13:20+00:00"}

    def test_params_from_environment_are_a_new_dict_each_call(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """
        Given: DEMISTO_PARAMS in the environment
        When: params() is called twice and the first result mutated
        Then: the second call is unaffected
        """
        monkeypatch.setenv("DEMISTO_PARAMS", json.dumps({"max_fetch": "10"}))

        first = demisto.params()
        first["max_fetch"] = "x"

        assert demisto.params() == {"max_fetch": "10"}

    def test_args_and_command_from_the_args_file(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        """
        Given: an args file holding the command under 'cmd' and one argument
        When: args(), getArg() and command() are called
        Then: the command comes from 'cmd' and the arguments come without it
        """
        args_file = tmp_path / "args_command.json"
        args_file.write_text(json.dumps({"cmd": "liveperson-get-events", "limit": "5"}), encoding="utf-8")
        monkeypatch.setattr(demisto, "ARGS_COMMAND_PATH", str(args_file))

        assert demisto.args() == {"limit": "5"}
        assert demisto.getArg("limit") == "5"
        assert demisto.command() == "liveperson-get-events"

    def test_unreadable_args_file_means_no_args_and_no_command(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """
        Given: an args file that is not JSON
        When: args() and command() are called
        Then: both fall back to empty values
        """
        args_file = tmp_path / "args_command.json"
        args_file.write_text("not json", encoding="utf-8")
        monkeypatch.setattr(demisto, "ARGS_COMMAND_PATH", str(args_file))

        assert demisto.args() == {}
        assert demisto.command() == ""


class TestMockCalls:
    """xsoar_runtime/SPEC.md §9: logging, results and module health as the real mock implements them."""

    def test_logging_calls(self, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
        """
        Given: debug, info and error calls
        When: they run
        Then: debug/info go to the root logger at INFO with %-formatting, error prints to stdout
        """
        with caplog.at_level(logging.INFO):
            demisto.debug("[Fetch] %d events", 3)
            demisto.info("[Token] cached")
        demisto.error("[Fetch] failed")

        assert [record.getMessage() for record in caplog.records] == ["[Fetch] 3 events", "[Token] cached"]
        assert capsys.readouterr().out == "[Fetch] failed\n"

    def test_results_rejects_unserialisable_content(self) -> None:
        """
        Given: a result holding an object JSON cannot encode
        When: it is written
        Then: a TypeError, as from the real mock's json.dumps
        """
        with pytest.raises(TypeError):
            demisto.results({"Contents": object()})

    def test_module_health_returns_empty_string(self) -> None:
        """
        Given: an events-pulled update
        When: updateModuleHealth is called
        Then: it answers '' as the mock does
        """
        assert demisto.updateModuleHealth({"eventsPulled": 3}) == ""

    def test_license_fields_are_the_mock_placeholders(self) -> None:
        """
        Given: the mock's content secrets
        When: the XSIAM intake's license fields are read
        Then: the placeholder token and URL come back
        """
        assert demisto.getLicenseCustomField("Http_Connector.token") == "<ReplaceWithToken>"
        assert demisto.getLicenseCustomField("Http_Connector.url") == "<ReplaceWithURL>"


@pytest.mark.stand_in_only
class TestStandInFacilities:
    """xsoar_runtime/SPEC.md §10.1: the stand-in keeps what the platform stores server-side; the mock keeps nothing."""

    def test_last_run_is_kept_in_memory(self) -> None:
        """
        Given: a lastRun set by a fetch
        When: the next run reads it, and the reader mutates its copy
        Then: it gets the stored value, the stored value is unaffected, and the write is listed in STATE
        """
        demisto.setLastRun({"checkpoint": "2024-01-01T00:00:00Z"})

        read = demisto.getLastRun()
        read["checkpoint"] = "changed"

        assert demisto.getLastRun() == {"checkpoint": "2024-01-01T00:00:00Z"}
        assert demisto.STATE.last_run_writes == [{"checkpoint": "2024-01-01T00:00:00Z"}]

    def test_reset_sets_what_the_run_reads(self) -> None:
        """
        Given: params, args and a command set through reset()
        When: the integration reads them
        Then: it sees them, with getParam/getArg agreeing
        """
        demisto.reset(params={"account_id": "a1"}, args={"limit": "5"}, command="liveperson-get-events")

        assert demisto.params() == {"account_id": "a1"}
        assert demisto.getParam("account_id") == "a1"
        assert demisto.args() == {"limit": "5"}
        assert demisto.getArg("limit") == "5"
        assert demisto.command() == "liveperson-get-events"
