"""Spec 8 and 9: integration context, lastRun and the demistomock calls a collector makes."""

from __future__ import annotations

import demistomock as demisto
from CommonServerPython import get_integration_context, set_integration_context

import json
import logging

import pytest


def test_spec_8_integration_context_round_trip() -> None:
    """
    Given: the mock's server version 5.5.0 (no versioned context)
    When: a context is set and read back
    Then: the plain getter returns it, and the same dict object is kept (no copy)
    """
    context = {"token": {"expires_at": 1}}
    set_integration_context(context)
    assert get_integration_context() is context
    assert demisto.getIntegrationContext() is context


def test_spec_9_last_run_before_anything_was_set() -> None:
    """
    Given: a fresh instance
    When: getLastRun is called
    Then: the real mock's fixed answer comes back, not {} (so collectors must tolerate foreign keys)
    """
    assert demisto.getLastRun() == {"lastRun": "2018-10-24T14:13:20+00:00"}


@pytest.mark.stand_in_only
def test_spec_9_last_run_is_kept_in_memory() -> None:
    """
    Given: a lastRun set by a fetch
    When: the next run reads it, and the reader mutates its copy
    Then: it gets the stored value, and the stored value is unaffected by the mutation
    """
    demisto.setLastRun({"checkpoint": "2024-01-01T00:00:00Z"})
    read = demisto.getLastRun()
    read["checkpoint"] = "changed"
    assert demisto.getLastRun() == {"checkpoint": "2024-01-01T00:00:00Z"}
    assert demisto.STATE.last_run_writes == [{"checkpoint": "2024-01-01T00:00:00Z"}]


def test_spec_9_params_from_environment_are_a_new_dict_each_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Given: DEMISTO_PARAMS in the environment
    When: params() is called twice and the first result mutated
    Then: the second call is unaffected
    """
    monkeypatch.setenv("DEMISTO_PARAMS", json.dumps({"max_fetch": "10"}))
    first = demisto.params()
    first["max_fetch"] = "x"
    assert demisto.params() == {"max_fetch": "10"}


@pytest.mark.stand_in_only
def test_spec_9_state_set_by_tests() -> None:
    """
    Given: params, args and a command set through the stand-in's reset()
    When: the integration reads them
    Then: it sees them, with getParam/getArg agreeing
    """
    demisto.reset(params={"account_id": "a1"}, args={"limit": "5"}, command="liveperson-get-events")
    assert demisto.params() == {"account_id": "a1"} and demisto.getParam("account_id") == "a1"
    assert demisto.args() == {"limit": "5"} and demisto.getArg("limit") == "5"
    assert demisto.command() == "liveperson-get-events"


def test_spec_9_logging_calls(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
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


def test_spec_9_results_rejects_unserialisable_content() -> None:
    """
    Given: a result holding an object JSON cannot encode
    When: it is written
    Then: a TypeError, as from the real mock's json.dumps
    """
    with pytest.raises(TypeError):
        demisto.results({"Contents": object()})


def test_spec_9_module_health_returns_empty_string() -> None:
    """
    Given: an events-pulled update
    When: updateModuleHealth is called
    Then: it answers '' as the mock does
    """
    assert demisto.updateModuleHealth({"eventsPulled": 3}) == ""
