"""Checklist 4: send_events_to_xsiam's argument handling, chunking and module-health update."""

from __future__ import annotations

import CommonServerPython
import demistomock
from CommonServerPython import DemistoException, send_data_to_xsiam, send_events_to_xsiam

import json
import os

import pytest

pytestmark = pytest.mark.stand_in_only


def test_checklist_4_dict_events_are_sent_as_json_lines() -> None:
    """
    Given: two dict events and a caller-supplied data_format
    When: they are sent
    Then: each becomes one JSON line, format is forced to json, vendor/product are headers, health counts 2
    """
    events = [{"a": 1}, {"b": "x"}]
    send_events_to_xsiam(events, vendor="LivePerson", product="LiveEngage", data_format="text")
    (chunk,) = CommonServerPython._XSIAM_SENT
    assert chunk["lines"] == [json.dumps({"a": 1}), json.dumps({"b": "x"})]
    assert chunk["headers"]["format"] == "json"
    assert (chunk["headers"]["vendor"], chunk["headers"]["product"]) == ("LivePerson", "LiveEngage")
    assert chunk["url"].endswith("/logs/v1/xsiam")
    assert demistomock.STATE.module_health == [{"eventsPulled": 2}]


def test_checklist_4_empty_list_still_updates_health() -> None:
    """
    Given: no events
    When: they are sent, even with should_update_health_module=False
    Then: nothing is posted and module health is set to 0 events
    """
    send_events_to_xsiam([], vendor="LivePerson", product="LiveEngage", should_update_health_module=False)
    assert CommonServerPython._XSIAM_SENT == []
    assert demistomock.STATE.module_health == [{"eventsPulled": 0}]


def test_checklist_4_vendor_and_product_are_not_validated() -> None:
    """
    Given: an empty vendor and a product with spaces
    When: events are sent
    Then: the platform does not validate them either: they go out as headers unchanged
    """
    send_events_to_xsiam([{"a": 1}], vendor="", product="Live Engage")
    (chunk,) = CommonServerPython._XSIAM_SENT
    assert chunk["headers"]["vendor"] == "" and chunk["headers"]["product"] == "Live Engage"


def test_checklist_4_unsupported_type_is_refused() -> None:
    """
    Given: a dict instead of a list of events
    When: it is sent
    Then: the platform's Unsupported type error is raised
    """
    with pytest.raises(DemistoException, match=r"^Unsupported type: <class 'dict'> for the events parameter"):
        send_events_to_xsiam({"a": 1}, vendor="v", product="p")


def test_checklist_4_string_events_default_to_text_and_split_on_newlines() -> None:
    """
    Given: one raw string holding two newline-separated events
    When: it is sent
    Then: format is text and the lines are counted separately
    """
    send_events_to_xsiam("one\ntwo", vendor="v", product="p")
    (chunk,) = CommonServerPython._XSIAM_SENT
    assert chunk["headers"]["format"] == "text" and chunk["lines"] == ["one", "two"]
    assert demistomock.STATE.module_health == [{"eventsPulled": 2}]


def test_checklist_4_chunks_by_python_object_size() -> None:
    """
    Given: 10 events of 100 characters and a chunk size of 300 bytes
    When: they are sent
    Then: a chunk is cut only once the summed sys.getsizeof of its lines has reached 300 (149 bytes a
          line on CPython 3.11, so 298 still takes a third line), and nothing is lost
    """
    events = ["x" * 100 for _ in range(10)]
    send_events_to_xsiam(events, vendor="v", product="p", chunk_size=300)
    sizes = [len(chunk["lines"]) for chunk in CommonServerPython._XSIAM_SENT]
    assert sizes == [3, 3, 3, 1]
    assert demistomock.STATE.module_health == [{"eventsPulled": 10}]


def test_checklist_4_unknown_data_type_is_ignored() -> None:
    """
    Given: a data type other than events or assets
    When: data is sent
    Then: nothing is sent and health is not touched
    """
    send_data_to_xsiam([{"a": 1}], vendor="v", product="p", data_type="alerts")
    assert CommonServerPython._XSIAM_SENT == [] and demistomock.STATE.module_health == []


def test_checklist_4_sending_drops_proxy_variables_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Given: a proxy variable in the environment
    When: events are sent without add_proxy_to_request
    Then: the variable is gone afterwards, as with the real module's internal BaseClient
    """
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    send_events_to_xsiam([{"a": 1}], vendor="v", product="p")
    assert "HTTPS_PROXY" not in os.environ
