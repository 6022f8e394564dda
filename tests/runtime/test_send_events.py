"""send_events_to_xsiam: what reaches the tenant's intake, and the module-health update (xsoar_runtime/SPEC.md §6).

The intake is mocked at the HTTP layer (``xsiam_intake``), so these checks hold for the stand-in
and for the platform's own module alike.
"""

from __future__ import annotations

import CommonServerPython
import demistomock
from CommonServerPython import DemistoException, send_data_to_xsiam, send_events_to_xsiam

import json
import os

import pytest

from tests.runtime.conftest import XSIAM_ENDPOINT, XSIAM_TOKEN, XsiamIntake


class TestPayload:
    """xsoar_runtime/SPEC.md §6.2 steps 6-9: serialisation, format and headers."""

    def test_dict_events_become_json_lines(self, xsiam_intake: XsiamIntake) -> None:
        """
        Given: two dict events and a caller-supplied data_format
        When: they are sent
        Then: one POST carries one JSON line per event and the format is forced to json
        """
        send_events_to_xsiam([{"a": 1}, {"b": "x"}], vendor="LivePerson", product="LiveEngage", data_format="text")

        assert len(xsiam_intake.posts) == 1
        assert xsiam_intake.lines(0) == [json.dumps({"a": 1}), json.dumps({"b": "x"})]
        assert xsiam_intake.posts[0].headers["format"] == "json"

    def test_headers_name_the_source_and_carry_the_token(
        self, xsiam_intake: XsiamIntake, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """
        Given: an instance whose url param is https://lp.example and whose license holds the intake token
        When: events are sent
        Then: the POST goes to the intake endpoint, gzipped, with vendor/product, token and reporting device
        """
        monkeypatch.setenv("DEMISTO_PARAMS", json.dumps({"url": "https://lp.example"}))

        send_events_to_xsiam([{"a": 1}], vendor="LivePerson", product="LiveEngage")

        (post,) = xsiam_intake.posts
        assert post.url == XSIAM_ENDPOINT
        assert post.method == "POST"
        assert post.headers["content-encoding"] == "gzip"
        assert post.headers["vendor"] == "LivePerson"
        assert post.headers["product"] == "LiveEngage"
        assert post.headers["authorization"] == XSIAM_TOKEN
        assert post.headers["final-reporting-device"] == "https://lp.example"
        assert post.headers["collector-type"] == "events"

    def test_vendor_and_product_are_not_validated(self, xsiam_intake: XsiamIntake) -> None:
        """
        Given: an empty vendor and a product with a space
        When: events are sent
        Then: the platform does not validate them either: they go out as headers unchanged
        """
        send_events_to_xsiam([{"a": 1}], vendor="", product="Live Engage")

        (post,) = xsiam_intake.posts
        assert post.headers["vendor"] == ""
        assert post.headers["product"] == "Live Engage"

    def test_string_events_default_to_text_and_split_on_newlines(self, xsiam_intake: XsiamIntake) -> None:
        """
        Given: one raw string holding two newline-separated events
        When: it is sent
        Then: the format is text and the two lines are counted separately
        """
        send_events_to_xsiam("one\ntwo", vendor="v", product="p")

        assert xsiam_intake.posts[0].headers["format"] == "text"
        assert xsiam_intake.lines(0) == ["one", "two"]
        assert xsiam_intake.health == [{"eventsPulled": 2}]

    def test_unsupported_type_is_refused(self, xsiam_intake: XsiamIntake) -> None:
        """
        Given: a dict instead of a list of events
        When: it is sent
        Then: the platform's Unsupported type error is raised and nothing is posted
        """
        with pytest.raises(DemistoException, match=r"^Unsupported type: <class 'dict'> for the events parameter"):
            send_events_to_xsiam({"a": 1}, vendor="v", product="p")

        assert xsiam_intake.posts == []


class TestChunking:
    """xsoar_runtime/SPEC.md §6.2 step 11: chunks are cut by summed ``sys.getsizeof``."""

    def test_chunks_by_python_object_size(self, xsiam_intake: XsiamIntake) -> None:
        """
        Given: 10 events of 100 characters and a chunk size of 300 bytes
        When: they are sent
        Then: a chunk is cut only once the summed sys.getsizeof of its lines has reached 300 (149 bytes a
              line on CPython 3.11, so 298 still takes a third line), one POST per chunk, nothing lost
        """
        send_events_to_xsiam(["x" * 100 for _ in range(10)], vendor="v", product="p", chunk_size=300)

        sizes = [len(xsiam_intake.lines(index)) for index in range(len(xsiam_intake.posts))]
        assert sizes == [3, 3, 3, 1]
        assert xsiam_intake.health == [{"eventsPulled": 10}]


class TestModuleHealth:
    """xsoar_runtime/SPEC.md §6.2 steps 3, 4 and 13."""

    def test_sent_events_are_counted(self, xsiam_intake: XsiamIntake) -> None:
        """
        Given: two events
        When: they are sent
        Then: module health reports two events pulled
        """
        send_events_to_xsiam([{"a": 1}, {"a": 2}], vendor="v", product="p")

        assert xsiam_intake.health == [{"eventsPulled": 2}]

    def test_empty_list_still_updates_health(self, xsiam_intake: XsiamIntake) -> None:
        """
        Given: no events
        When: they are sent, even with should_update_health_module=False
        Then: nothing is posted and module health is set to 0 events
        """
        send_events_to_xsiam([], vendor="LivePerson", product="LiveEngage", should_update_health_module=False)

        assert xsiam_intake.posts == []
        assert xsiam_intake.health == [{"eventsPulled": 0}]

    def test_health_update_can_be_switched_off_for_real_batches(self, xsiam_intake: XsiamIntake) -> None:
        """
        Given: one event and should_update_health_module=False
        When: it is sent
        Then: it is posted but module health is not touched
        """
        send_events_to_xsiam([{"a": 1}], vendor="v", product="p", should_update_health_module=False)

        assert len(xsiam_intake.posts) == 1
        assert xsiam_intake.health == []

    def test_unknown_data_type_is_ignored(self, xsiam_intake: XsiamIntake) -> None:
        """
        Given: a data type other than events or assets
        When: data is sent
        Then: nothing is posted and health is not touched
        """
        send_data_to_xsiam([{"a": 1}], vendor="v", product="p", data_type="alerts")

        assert xsiam_intake.posts == []
        assert xsiam_intake.health == []


class TestIntakeAnswers:
    """xsoar_runtime/SPEC.md §6.3: retries on 429 and the intake's error reports."""

    def test_rate_limit_is_retried_after_a_second(
        self, xsiam_intake: XsiamIntake, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """
        Given: an intake that answers 429 once, then accepts
        When: events are sent
        Then: the chunk is posted twice, with a one-second pause in between
        """
        pauses: list[float] = []
        monkeypatch.setattr(CommonServerPython.time, "sleep", pauses.append)
        xsiam_intake.answer({"status_code": 429, "text": "slow down"}, {"status_code": 200, "json": {"error": "false"}})

        send_events_to_xsiam([{"a": 1}], vendor="v", product="p")

        assert len(xsiam_intake.posts) == 2
        assert pauses == [1]

    def test_rejected_chunk_raises_with_the_reason(
        self, xsiam_intake: XsiamIntake, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """
        Given: an intake answering 500 with a JSON body
        When: events are sent
        Then: the platform's header line and the HTTP reason are raised, the request is logged with
              demisto.error, and module health is not updated
        """
        logged: list[str] = []
        monkeypatch.setattr(demistomock, "error", lambda message, *args: logged.append(message))
        xsiam_intake.answer({"status_code": 500, "reason": "Internal Server Error", "json": {"error": "boom"}})

        with pytest.raises(DemistoException) as caught:
            send_events_to_xsiam([{"a": 1}], vendor="v", product="p")

        assert str(caught.value) == "Error sending new events into XSIAM.\nInternal Server Error"
        assert len(logged) == 1
        assert "Response status code: 500" in logged[0]
        assert xsiam_intake.health == []

    def test_accepted_status_with_an_error_body_raises(self, xsiam_intake: XsiamIntake) -> None:
        """
        Given: an intake answering 200 whose body reports an error
        When: events are sent
        Then: the body's error text follows the platform's header line
        """
        xsiam_intake.answer({"status_code": 200, "json": {"error": "quota exceeded"}})

        with pytest.raises(DemistoException, match=r"^Error sending new events into XSIAM.\nquota exceeded$"):
            send_events_to_xsiam([{"a": 1}], vendor="v", product="p")


class TestProxy:
    """xsoar_runtime/SPEC.md §6.2 step 10: the internal client's proxy side effect."""

    def test_sending_drops_proxy_variables_unless_asked(
        self, xsiam_intake: XsiamIntake, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """
        Given: a proxy variable in the environment
        When: events are sent without add_proxy_to_request
        Then: the variable is gone afterwards, as with the real module's internal BaseClient
        """
        monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")

        send_events_to_xsiam([{"a": 1}], vendor="v", product="p")

        assert "HTTPS_PROXY" not in os.environ


@pytest.mark.stand_in_only
class TestStandInIntake:
    """xsoar_runtime/SPEC.md §10.2: with nothing intercepting HTTP, the stand-in answers the intake itself."""

    def test_unintercepted_chunks_are_recorded_and_decoded(self) -> None:
        """
        Given: no HTTP mock and the mock license's placeholder intake address
        When: events are sent
        Then: the stand-in's intake records the chunk and _sent_events() returns the events
        """
        send_events_to_xsiam([{"a": 1}, {"b": 2}], vendor="v", product="p")

        (chunk,) = CommonServerPython._XSIAM_SENT
        assert chunk["headers"]["format"] == "json"
        assert chunk["lines"] == [json.dumps({"a": 1}), json.dumps({"b": 2})]
        assert CommonServerPython._sent_events() == [{"a": 1}, {"b": 2}]
        assert demistomock.STATE.module_health == [{"eventsPulled": 2}]
