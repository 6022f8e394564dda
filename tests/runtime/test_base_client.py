"""BaseClient on a real requests.Session: joining, errors, casting, retries (xsoar_runtime/SPEC.md §2)."""

from __future__ import annotations

import demistomock
from CommonServerPython import BaseClient, DemistoException, add_http_prefix_if_missing, urljoin

import gc
import json
import os

import pytest
import requests
import requests_mock as requests_mock_module

from tests.runtime.scripted_https import ScriptedReply, ScriptedServer


class TestUrlJoining:
    """xsoar_runtime/SPEC.md §2.2 step 1: one slash added, one leading slash dropped."""

    @pytest.mark.parametrize(
        ("base", "suffix", "expected"),
        [
            pytest.param("https://h/api", "", "https://h/api/", id="empty-suffix-still-adds-slash"),
            pytest.param("https://h/api", "x", "https://h/api/x", id="plain-suffix"),
            pytest.param("https://h/api", "/x", "https://h/api/x", id="leading-slash-dropped"),
            pytest.param("https://h/", "/x", "https://h/x", id="both-slashes"),
            pytest.param("https://h//", "x", "https://h//x", id="double-slash-base-kept"),
            pytest.param("https://h", "//x", "https://h//x", id="only-one-leading-slash-dropped"),
        ],
    )
    def test_urljoin(self, base: str, suffix: str, expected: str) -> None:
        """
        Given: a base URL and a suffix with or without a leading slash
        When: they are joined
        Then: exactly one slash is added and one leading slash dropped, as the platform does
        """
        assert urljoin(base, suffix) == expected

    def test_suffix_is_joined_and_full_url_wins(self, requests_mock: requests_mock_module.Mocker) -> None:
        """
        Given: a client with a base URL
        When: it requests a suffix with a leading slash, then a full URL
        Then: the first goes to base + suffix, the second ignores the base
        """
        requests_mock.get("https://h/api/items", json={"a": 1})
        requests_mock.get("https://other/x", json={"b": 2})
        client = BaseClient("https://h/api")

        first = client._http_request("GET", "/items")
        second = client._http_request("GET", full_url="https://other/x")

        assert first == {"a": 1}
        assert second == {"b": 2}
        assert [request.url for request in requests_mock.request_history] == [
            "https://h/api/items",
            "https://other/x",
        ]


class TestHeaders:
    """xsoar_runtime/SPEC.md §2.2 step 2: per-call headers replace the client's; an empty dict falls back."""

    def test_client_headers_are_used_unless_the_call_gives_its_own(
        self, requests_mock: requests_mock_module.Mocker
    ) -> None:
        """
        Given: a client with default headers
        When: one call passes an empty dict and another its own headers
        Then: the empty dict falls back to the client's headers; non-empty ones replace them (no merge)
        """
        requests_mock.get("https://h/x", json={})
        client = BaseClient("https://h", headers={"X-Client": "1"})

        client._http_request("GET", "x", headers={})
        client._http_request("GET", "x", headers={"X-Call": "2"})

        first, second = requests_mock.request_history
        assert first.headers["X-Client"] == "1"
        assert "X-Client" not in second.headers
        assert second.headers["X-Call"] == "2"


class TestStatusValidation:
    """xsoar_runtime/SPEC.md §2.3: ok codes and the default error text."""

    def test_error_text_with_json_body(self, requests_mock: requests_mock_module.Mocker) -> None:
        """
        Given: a 403 answer with a JSON body
        When: the default error handler runs
        Then: the DemistoException text is the platform's, with the re-dumped body, and .res is the response
        """
        requests_mock.get("https://h/x", status_code=403, reason="Forbidden", json={"error": "nope"})

        with pytest.raises(DemistoException) as caught:
            BaseClient("https://h")._http_request("GET", "x")

        assert str(caught.value) == 'Error in API call [403] - Forbidden\n{"error": "nope"}'
        assert caught.value.res.status_code == 403

    def test_error_text_with_text_body(self, requests_mock: requests_mock_module.Mocker) -> None:
        """
        Given: a 500 answer whose body is not JSON
        When: the default error handler runs
        Then: the raw text follows the status line
        """
        requests_mock.get("https://h/x", status_code=500, reason="Internal Server Error", text="boom")

        with pytest.raises(DemistoException, match=r"^Error in API call \[500\] - Internal Server Error\nboom$"):
            BaseClient("https://h")._http_request("GET", "x")

    def test_ok_codes_override_response_ok(self, requests_mock: requests_mock_module.Mocker) -> None:
        """
        Given: ok_codes that do not include 200 but include 404
        When: the server answers 200, then 404
        Then: 200 is an error and 404 a success
        """
        requests_mock.get("https://h/a", status_code=200, json={})
        requests_mock.get("https://h/b", status_code=404, json={"found": False})
        client = BaseClient("https://h", ok_codes=(404,))

        with pytest.raises(DemistoException, match=r"\[200\]"):
            client._http_request("GET", "a")
        assert client._http_request("GET", "b") == {"found": False}

    def test_custom_error_handler_that_returns_lets_the_call_continue(
        self, requests_mock: requests_mock_module.Mocker
    ) -> None:
        """
        Given: an error_handler that records the response and returns without raising
        When: the server answers 500 with a JSON body
        Then: the handler saw it and the body is still cast and returned
        """
        requests_mock.get("https://h/x", status_code=500, json={"partial": True})
        seen: list[int] = []

        body = BaseClient("https://h")._http_request("GET", "x", error_handler=lambda res: seen.append(res.status_code))

        assert seen == [500]
        assert body == {"partial": True}


class TestResponseCasting:
    """xsoar_runtime/SPEC.md §2.2 step 8: resp_type, empty answers and the xml quirk."""

    @pytest.mark.parametrize(
        ("resp_type", "expected"),
        [
            pytest.param("json", {"k": "v"}, id="json"),
            pytest.param("text", '{"k": "v"}', id="text"),
            pytest.param("content", b'{"k": "v"}', id="content"),
            pytest.param("JSON", {"k": "v"}, id="case-insensitive"),
        ],
    )
    def test_resp_type_casts(
        self, requests_mock: requests_mock_module.Mocker, resp_type: str, expected: object
    ) -> None:
        """
        Given: a JSON body
        When: it is requested with each resp_type (case-insensitive)
        Then: the cast matches the platform's
        """
        requests_mock.get("https://h/x", text='{"k": "v"}')

        assert BaseClient("https://h")._http_request("GET", "x", resp_type=resp_type) == expected

    @pytest.mark.parametrize(
        "resp_type",
        [
            pytest.param("response", id="response"),
            pytest.param("xml", id="xml-parses-but-returns-the-response"),
            pytest.param("anything-else", id="unknown"),
        ],
    )
    def test_resp_types_that_return_the_response(
        self, requests_mock: requests_mock_module.Mocker, resp_type: str
    ) -> None:
        """
        Given: a well-formed XML body with a header
        When: it is requested as 'response', 'xml' or an unknown type
        Then: the requests.Response itself comes back (xml is only checked for well-formedness)
        """
        requests_mock.get("https://h/x", text="<a/>", headers={"X-Total-Count": "7"})

        res = BaseClient("https://h")._http_request("GET", "x", resp_type=resp_type)

        assert isinstance(res, requests.Response)
        assert res.headers["X-Total-Count"] == "7"

    def test_empty_204(self, requests_mock: requests_mock_module.Mocker) -> None:
        """
        Given: a 204 with no body
        When: it is read as JSON by default, and with return_empty_response
        Then: the default fails with the platform's parse message; the flag returns the Response
        """
        requests_mock.post("https://h/x", status_code=204, text="")
        client = BaseClient("https://h")

        with pytest.raises(DemistoException, match=r"^Failed to parse json object from response: b''$"):
            client._http_request("POST", "x")
        assert client._http_request("POST", "x", return_empty_response=True).status_code == 204


class TestRetries:
    """xsoar_runtime/SPEC.md §2.4: urllib3 retries, mounted on https:// only, shown against a real TLS server."""

    def test_retries_429_and_5xx_then_succeeds(self, https_server: ScriptedServer) -> None:
        """
        Given: an HTTPS server answering 429, then 503, then 200
        When: the client asks with retries and those codes in status_list_to_retry
        Then: urllib3 retries through both and the call returns the 200 body
        """
        https_server.script(
            ScriptedReply(429, "slow down"), ScriptedReply(503, "busy"), ScriptedReply(200, json.dumps({"ok": True}))
        )
        client = BaseClient(https_server.base_url, verify=https_server.ca_bundle)  # type: ignore[arg-type]

        body = client._http_request("GET", "x", retries=3, status_list_to_retry=[429, 503], backoff_factor=0.01)

        assert body == {"ok": True}
        assert len(https_server.seen_paths) == 3

    def test_exhausted_retries_fall_through_to_status_validation(self, https_server: ScriptedServer) -> None:
        """
        Given: an HTTPS server that always answers 502
        When: the client retries twice with raise_on_status left False
        Then: three attempts are made and the last answer raises the usual API-call error
        """
        https_server.script(ScriptedReply(502, "bad gateway", {"Content-Type": "text/plain"}))
        client = BaseClient(https_server.base_url, verify=https_server.ca_bundle)  # type: ignore[arg-type]

        with pytest.raises(DemistoException, match=r"^Error in API call \[502\]"):
            client._http_request("GET", "x", retries=2, status_list_to_retry=[502], backoff_factor=0.01)
        assert len(https_server.seen_paths) == 3

    def test_exhausted_retries_with_raise_on_status(self, https_server: ScriptedServer) -> None:
        """
        Given: an HTTPS server that always answers 503
        When: the client retries once with raise_on_status=True
        Then: the platform's Max Retries message names the retry count
        """
        https_server.script(ScriptedReply(503, "busy"))
        client = BaseClient(https_server.base_url, verify=https_server.ca_bundle)  # type: ignore[arg-type]

        with pytest.raises(DemistoException, match=r"^Max Retries Error- Request attempts with 1 retries failed. \n"):
            client._http_request(
                "GET", "x", retries=1, status_list_to_retry=[503], backoff_factor=0.01, raise_on_status=True
            )


class TestTransportErrors:
    """xsoar_runtime/SPEC.md §2.5: the platform's wording for each requests exception."""

    def test_untrusted_certificate_message(self, https_server: ScriptedServer) -> None:
        """
        Given: an HTTPS server whose CA the client does not trust
        When: the client verifies certificates
        Then: the platform's SSL message asks for 'Trust any certificate'
        """
        https_server.script(ScriptedReply(200, "{}"))

        with pytest.raises(DemistoException, match=r"^SSL Certificate Verification Failed - try selecting 'Trust any"):
            BaseClient(https_server.base_url)._http_request("GET", "x")

    def test_insecure_client_reaches_untrusted_server(self, https_server: ScriptedServer) -> None:
        """
        Given: the same untrusted server
        When: the client is built with verify=False
        Then: the call succeeds
        """
        https_server.script(ScriptedReply(200, json.dumps({"ok": 1})))

        assert BaseClient(https_server.base_url, verify=False)._http_request("GET", "x") == {"ok": 1}

    def test_connection_error_message(self, requests_mock: requests_mock_module.Mocker) -> None:
        """
        Given: a connection that fails
        When: the request is made
        Then: the message names the server URL parameter and the exception class
        """
        requests_mock.get("https://h/x", exc=requests.exceptions.ConnectionError("refused"))

        with pytest.raises(DemistoException) as caught:
            BaseClient("https://h")._http_request("GET", "x")

        assert str(caught.value) == (
            "Verify that the server URL parameter is correct and that you have access to the server from your host."
            "\nError Type: <requests.exceptions.ConnectionError>\nrefused"
        )

    @pytest.mark.parametrize(
        ("raised", "message_start"),
        [
            pytest.param(
                requests.exceptions.ConnectTimeout("t"), "Connection Timeout Error - potential reasons", id="timeout"
            ),
            pytest.param(
                requests.exceptions.ProxyError("p"), "Proxy Error - if the 'Use system proxy' checkbox", id="proxy"
            ),
        ],
    )
    def test_timeout_and_proxy_messages(
        self, requests_mock: requests_mock_module.Mocker, raised: Exception, message_start: str
    ) -> None:
        """
        Given: a connect timeout or a proxy failure
        When: the request is made
        Then: the platform's wording for each is raised as a DemistoException carrying the original
        """
        requests_mock.get("https://h/x", exc=raised)

        with pytest.raises(DemistoException) as caught:
            BaseClient("https://h")._http_request("GET", "x")

        assert str(caught.value).startswith(message_start)
        assert caught.value.exception is raised

    def test_read_timeout_is_not_wrapped(self, requests_mock: requests_mock_module.Mocker) -> None:
        """
        Given: a read timeout
        When: the request is made
        Then: requests' own ReadTimeout propagates, as on the platform
        """
        requests_mock.get("https://h/x", exc=requests.exceptions.ReadTimeout("slow"))

        with pytest.raises(requests.exceptions.ReadTimeout):
            BaseClient("https://h")._http_request("GET", "x")


class TestEnvironmentSideEffects:
    """xsoar_runtime/SPEC.md §2.1: proxy and timeout settings travel through os.environ."""

    def test_proxy_false_removes_proxy_variables(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """
        Given: proxy variables in the environment
        When: a client is built with proxy=False
        Then: the variables are deleted from the process, as the platform does
        """
        monkeypatch.setenv("HTTPS_PROXY", "127.0.0.1:3128")
        monkeypatch.setenv("http_proxy", "127.0.0.1:3128")

        BaseClient("https://h", proxy=False)

        assert "HTTPS_PROXY" not in os.environ
        assert "http_proxy" not in os.environ

    def test_proxy_true_adds_scheme(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """
        Given: a proxy variable without a scheme and one with socks5
        When: a client is built with proxy=True
        Then: http:// is added to the first only
        """
        monkeypatch.setenv("HTTPS_PROXY", "127.0.0.1:3128")
        monkeypatch.setenv("HTTP_PROXY", "socks5://127.0.0.1:1080")

        BaseClient("https://h", proxy=True)

        assert os.environ["HTTPS_PROXY"] == "http://127.0.0.1:3128"
        assert os.environ["HTTP_PROXY"] == "socks5://127.0.0.1:1080"

    @pytest.mark.parametrize(
        ("address", "expected"),
        [
            pytest.param("", "", id="empty-stays-empty"),
            pytest.param("proxy:8080", "http://proxy:8080", id="no-scheme"),
            pytest.param("https://proxy", "https://proxy", id="https-kept"),
            pytest.param("socks4a://proxy", "socks4a://proxy", id="socks-kept"),
        ],
    )
    def test_add_http_prefix_if_missing(self, address: str, expected: str) -> None:
        """
        Given: proxy addresses with and without a known scheme
        When: the prefix helper runs
        Then: only a scheme-less, non-empty address gains http://
        """
        assert add_http_prefix_if_missing(address) == expected

    def test_timeout_from_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """
        Given: REQUESTS_TIMEOUT in the environment
        When: a client is built with its own timeout, before and after the variable is removed
        Then: the environment wins while set; the argument applies otherwise; both as floats
        """
        monkeypatch.setenv("REQUESTS_TIMEOUT", "7")
        from_environment = BaseClient("https://h", timeout=30).timeout
        monkeypatch.delenv("REQUESTS_TIMEOUT")
        from_argument = BaseClient("https://h", timeout=30).timeout

        assert from_environment == 7.0
        assert from_argument == 30.0


class TestExecutionMetrics:
    """xsoar_runtime/SPEC.md §2.6: with_metrics counts outcomes; the client reports them when it is collected."""

    def test_outcomes_are_counted_and_reported_on_collection(
        self, requests_mock: requests_mock_module.Mocker, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """
        Given: a 200 answer and a 401 answer, both requested with with_metrics=True
        When: the client is garbage-collected
        Then: one metrics entry (Type 19) lists one success and one auth error, in order of first use
        """
        requests_mock.get("https://h/ok", json={})
        requests_mock.get("https://h/denied", status_code=401, json={})
        written: list[dict] = []
        monkeypatch.setattr(demistomock, "results", written.append)
        client = BaseClient("https://h")
        client._http_request("GET", "ok", with_metrics=True)
        with pytest.raises(DemistoException):
            client._http_request("GET", "denied", with_metrics=True)

        del client
        gc.collect()

        (entry,) = written
        assert entry["Type"] == 19
        assert entry["APIExecutionMetrics"] == [
            {"Type": "Successful", "APICallsCount": 1},
            {"Type": "AuthError", "APICallsCount": 1},
        ]

    def test_without_metrics_nothing_is_reported(
        self, requests_mock: requests_mock_module.Mocker, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """
        Given: a call made without with_metrics
        When: the client is garbage-collected
        Then: no entry is written
        """
        requests_mock.get("https://h/ok", json={})
        written: list[dict] = []
        monkeypatch.setattr(demistomock, "results", written.append)
        client = BaseClient("https://h")
        client._http_request("GET", "ok")

        del client
        gc.collect()

        assert written == []
