"""Unit tests of the LivePerson collector.

HTTP goes through requests_mock: the `api` fixture answers the Domain API and Sentinel, and the
Audit Trail from an in-memory list. The reading core is tested through its pure pieces with small
hand-built inputs and a list-backed PageSource; the in-memory model runs of the whole core (every
reading of the undocumented API, hundreds of runs) live in tests/reading/ and are not repeated here.

The platform is observed only through patched public functions (demistomock, send_events_to_xsiam),
so these tests pass on our stand-in and on the platform's own modules (XSOAR_RUNTIME_PATH) alike.
Retry pacing is observed through an injected `sleep` and clock; no module constant is rewritten.
Assertions about the canary secret and token compare booleans, so a failure never prints them.
"""

from __future__ import annotations

import CommonServerPython
import demistomock as demisto
from CommonServerPython import DemistoException

import base64
import bisect
import copy
import json
import math
import re
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import LivePerson
import pytest
import requests
import requests_mock as requests_mock_module
from LivePerson import (
    NO_DEADLINE,
    PAGE_REQUEST,
    TAIL_MAX_RECORDS,
    Client,
    Cursor,
    Deadline,
    GetEventsArgs,
    InputError,
    LivePersonError,
    OutOfTime,
    PageKnowledge,
    ReadOutcome,
    ReadRules,
    RecordFilter,
    RetryPolicy,
    Scan,
    Search,
    Settings,
    Stage,
    Stop,
    TimeBudgets,
    Window,
    as_tail,
    build_audit_query,
    fingerprint,
    keep_recent,
    locate,
    normalize_host,
    parse_change_date,
    plan_tail,
    plan_window,
    proves_cap,
    read_audit_trail,
    to_xsiam_event,
    token_lifetime_seconds,
    xsiam_events,
)
from pytest_mock import MockerFixture

TEST_DATA = Path(__file__).parent / "test_data"
ACCOUNT = "12345678"
OTHER_ACCOUNT = "87654321"
CLIENT_ID = "client-id-1"
AUTH_HOST = "va.sentinel.liveperson.net"
DOMAIN_API_HOST = "api.liveperson.net"
AUDIT_HOST = "va-a.acr.liveperson.net"
MOVED_AUDIT_HOST = "lo-a.acr.liveperson.net"


def domain_url(account: str = ACCOUNT) -> str:
    return f"https://{DOMAIN_API_HOST}/api/account/{account}/service/accountConfigReadOnly/baseURI.json"


def token_url(account: str = ACCOUNT) -> str:
    return f"https://{AUTH_HOST}/sentinel/api/v2/account/{account}/app/token"


def audit_url(account: str = ACCOUNT, host: str = AUDIT_HOST) -> str:
    return f"https://{host}/api/account/{account}/configuration/metadata/audit"


DOMAIN_URL = domain_url()
TOKEN_URL = token_url()
AUDIT_URL = audit_url()
MOVED_AUDIT_URL = audit_url(host=MOVED_AUDIT_HOST)

CANARY_SECRET = "canary-client-secret-7f3e"
NOW = datetime(2024, 5, 1, 10, 1, 0, tzinfo=UTC)
BASE = NOW - timedelta(minutes=1)  # where a first fetch at NOW starts
WINDOW = Window(date(2024, 4, 30), date(2024, 5, 3))  # trusted from 2024-04-30 14:00 to 2024-05-02 10:00 UTC
KNOWN_CAP = PageKnowledge(size=PAGE_REQUEST, proven=True, checked_at=NOW.timestamp())  # checked just now

EMPTY_ANSWER: dict[str, Any] = {"data": {"auditData": []}}
QUERY_ARGUMENT = re.compile(r'\b(fromDate|toDate|first|offset): "?([\w-]+)"?')


def load_json(name: str) -> Any:
    return json.loads((TEST_DATA / name).read_text(encoding="utf-8"))


CANARY_TOKEN: str = load_json("token_response.json")["access_token"]
TEMPLATE: dict[str, Any] = load_json("audit_record_template.json")
BOB = {"originator": "Bob Builder", "originatorLoginName": "bob", "originatorUserId": "2000002"}


@pytest.fixture(autouse=True)
def keep_log_masking_as_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Client registers its secret with the runtime's log masking; each test works on a copy of that list."""
    logger = getattr(CommonServerPython, "LOG", None)
    masked = getattr(logger, "replace_strs", None)
    if isinstance(masked, list):
        monkeypatch.setattr(logger, "replace_strs", list(masked))


# ============================================================================ records and sources


def render(moment: datetime) -> str:
    """changeDate as LivePerson renders it with timezone UTC: '2024-05-01 10:00:05.0'."""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond // 100_000}"


def record(change_date: str, **overrides: Any) -> dict[str, Any]:
    """An audit record shaped like LivePerson's documented sample, at the given changeDate."""
    return {**TEMPLATE, "changeDate": change_date, **overrides}


def record_at(seconds: float, name: str = "agent.smith", **overrides: Any) -> dict[str, Any]:
    """A record `seconds` after BASE (10:00:00 UTC on 2024-05-01)."""
    return record(render(BASE + timedelta(seconds=seconds)), objectName=name, **overrides)


def changed(item: dict[str, Any]) -> datetime:
    return parse_change_date(item["changeDate"])


def series(count: int, start: float = 0, step: float = 1, prefix: str = "r") -> list[dict[str, Any]]:
    """`count` records `step` seconds apart from `start` seconds after BASE, named r0, r1, ..."""
    return [record_at(start + index * step, f"{prefix}{index}") for index in range(count)]


def names(events: list[dict[str, Any]] | None) -> list[str]:
    return [event["objectName"] for event in events or []]


@dataclass
class ListSource:
    """A PageSource over a list: a window's answer holds its UTC days (toDate exclusive), oldest first.

    `cap` is the server's largest page; `fail_from_offset` makes every page read from that offset on
    fail; `fail_on_call` makes that one call fail; `on_call` runs before each call (e.g. moves a clock).
    """

    records: list[dict[str, Any]]
    cap: int | None = None
    fail_from_offset: int | None = None
    fail_on_call: int | None = None
    on_call: Callable[[], None] | None = None
    calls: list[tuple[Window, int, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.records = sorted(self.records, key=changed)

    def __call__(self, window: Window, offset: int, first: int) -> list[dict[str, Any]]:
        self.calls.append((window, offset, first))
        if self.on_call is not None:
            self.on_call()
        failing_page = self.fail_from_offset is not None and first > 1 and offset >= self.fail_from_offset
        if failing_page or self.fail_on_call == len(self.calls):
            raise LivePersonError("audit trail query: LivePerson answered HTTP 500.", Stage.AUDIT, 500)
        answer = [item for item in self.records if window.from_day <= changed(item).date() < window.to_day]
        count = first if self.cap is None else min(first, self.cap)
        return [dict(item) for item in answer[offset : offset + count]]


@dataclass
class FakeAuditTrail:
    """The Audit Trail behind requests_mock: each query is answered like ListSource, and logged."""

    records: list[dict[str, Any]] = field(default_factory=list)
    cap: int | None = None
    fail_from_offset: int | None = None
    queries: list[dict[str, Any]] = field(default_factory=list)

    def add(self, *new: dict[str, Any]) -> None:
        self.records = sorted([*self.records, *new], key=changed)

    def answer(self, request: Any, context: Any) -> dict[str, Any]:
        arguments = dict(QUERY_ARGUMENT.findall(request.json()["query"]))
        window = Window(date.fromisoformat(arguments["fromDate"]), date.fromisoformat(arguments["toDate"]))
        offset, first = int(arguments["offset"]), int(arguments["first"])
        self.queries.append({"window": window, "offset": offset, "first": first})
        if self.fail_from_offset is not None and offset >= self.fail_from_offset:
            context.status_code = 500
            return {"error": "down"}
        return {"data": {"auditData": ListSource(self.records, cap=self.cap)(window, offset, first)}}


@dataclass
class LivePersonApi:
    """The LivePerson endpoints on requests_mock, and what they were asked."""

    mock: requests_mock_module.Mocker
    trail: FakeAuditTrail

    def requests_to(self, url: str) -> list[Any]:
        return [item for item in self.mock.request_history if item.url.split("?")[0] == url]

    def calls_to(self, url: str) -> int:
        return len(self.requests_to(url))

    def add_account(self, account: str) -> None:
        """Another account on the same hosts, answering from the same trail."""
        self.mock.get(domain_url(account), json={"baseURI": AUDIT_HOST})
        self.mock.post(token_url(account), json={"access_token": f"token-of-{account}", "expires_in": 3600})
        self.mock.post(audit_url(account), json=self.trail.answer)


@pytest.fixture
def api(requests_mock: requests_mock_module.Mocker) -> LivePersonApi:
    """Domain API and Sentinel answering normally; the Audit Trail answering from an in-memory list.

    A test that needs another answer from one endpoint registers it again (the last one wins).
    """
    trail = FakeAuditTrail()
    requests_mock.get(DOMAIN_URL, json=load_json("domain_response.json"))
    requests_mock.post(TOKEN_URL, json=load_json("token_response.json"))
    requests_mock.post(AUDIT_URL, json=trail.answer)
    return LivePersonApi(requests_mock, trail)


# ============================================================================ settings, clock and runs


class FakeClock:
    """Epoch seconds that move only when the client sleeps or a test says so; records every pause."""

    def __init__(self, start: float = NOW.timestamp()) -> None:
        self.now = start
        self.pauses: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "auth_server_url": AUTH_HOST,
        "account_id": ACCOUNT,
        "credentials": {"identifier": CLIENT_ID, "password": CANARY_SECRET},
        "domain_api_host": DOMAIN_API_HOST,
        "max_fetch": "5000",
        "insecure": False,
        "proxy": False,
    }
    params.update(overrides)
    return params


def make_settings(**overrides: Any) -> Settings:
    return Settings.from_params(make_params(**overrides))


def make_client(
    clock: FakeClock | None = None,
    use_cache: bool = True,
    retry_policy: RetryPolicy | None = None,
    request_timeout: float = 15.0,
    **params: Any,
) -> Client:
    """A client on a fake clock whose sleep records the pauses (and moves the clock)."""
    clock = clock or FakeClock()
    return Client(
        make_settings(**params),
        use_cache=use_cache,
        clock=clock,
        sleep=clock.sleep,
        retry_policy=retry_policy or RetryPolicy(),
        request_timeout=request_timeout,
    )


def read_rules(limit: int = 10_000, **overrides: Any) -> ReadRules:
    return ReadRules(limit=limit, now=NOW, **overrides)


@dataclass
class FetchRun:
    """What one fetch_events run pushed and saved (None when it did not), and what it raised."""

    pushed: list[dict[str, Any]] | None
    saved: dict[str, Any] | None
    error: Exception | None


def run_fetch(
    mocker: MockerFixture,
    client: Client,
    last_run: Any,
    now: datetime = NOW,
    budgets: TimeBudgets | None = None,
) -> FetchRun:
    """One fetch-events run with `last_run` stored; the saved state comes back as the platform keeps it (JSON)."""
    send = mocker.patch.object(LivePerson, "send_events_to_xsiam")
    save = mocker.patch.object(demisto, "setLastRun")
    mocker.patch.object(demisto, "getLastRun", return_value=copy.deepcopy(last_run))
    error: Exception | None = None
    try:
        LivePerson.fetch_events(client, client.settings, now, budgets or TimeBudgets())
    except LivePersonError as raised:
        error = raised
    pushed = send.call_args.args[0] if send.called else None
    saved = json.loads(json.dumps(save.call_args.args[0])) if save.called else None
    return FetchRun(pushed, saved, error)


def get_events(client: Client, args: dict[str, Any], now: datetime = NOW) -> Any:
    """liveperson-get-events as run_get_events does it, on a fixed `now`."""
    parsed = GetEventsArgs.from_args(args, now)
    return LivePerson.get_events_command(client, client.settings, parsed, now, TimeBudgets())


@dataclass
class MainRun:
    """What one main() run showed: entries, logs, pushes and saved states, in the order they happened."""

    entries: list[Any] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    pushes: list[tuple[list[dict[str, Any]], dict[str, Any]]] = field(default_factory=list)
    saved: list[dict[str, Any]] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    pauses: list[float] = field(default_factory=list)
    exited: bool = False

    def error_text(self) -> str:
        """The Contents of the last error entry."""
        return str(self.entries[-1]["Contents"])


def run_main(
    mocker: MockerFixture,
    command: str,
    args: dict[str, Any] | None = None,
    last_run: Any = None,
    params: dict[str, Any] | None = None,
    push_error: Exception | None = None,
    budgets: TimeBudgets | None = None,
) -> MainRun:
    """main() as the platform runs it, observed through patched demistomock functions; sleep is recorded.

    `last_run` is what getLastRun answers, or an exception it raises.
    """
    run = MainRun()

    def push(events: list[dict[str, Any]], **kwargs: Any) -> None:
        run.order.append(f"push {len(events)}")
        if push_error is not None:
            raise push_error
        run.pushes.append((copy.deepcopy(events), kwargs))

    def save(state: dict[str, Any]) -> None:
        run.order.append("save")
        run.saved.append(json.loads(json.dumps(state)))

    def result(entry: Any) -> None:
        run.order.append("entry")
        run.entries.append(entry)

    def log(message: Any, *args: Any) -> None:
        run.logs.append(str(message))

    def error(message: Any, *args: Any) -> None:
        run.logs.append(str(message))
        run.errors.append(str(message))

    mocker.patch.object(demisto, "command", return_value=command)
    mocker.patch.object(demisto, "params", return_value=params if params is not None else make_params())
    mocker.patch.object(demisto, "args", return_value=args or {})
    if isinstance(last_run, Exception):
        mocker.patch.object(demisto, "getLastRun", side_effect=last_run)
    else:
        mocker.patch.object(demisto, "getLastRun", return_value=copy.deepcopy(last_run if last_run is not None else {}))
    mocker.patch.object(demisto, "setLastRun", side_effect=save)
    mocker.patch.object(demisto, "results", side_effect=result)
    mocker.patch.object(demisto, "debug", side_effect=log)
    mocker.patch.object(demisto, "info", side_effect=log)
    mocker.patch.object(demisto, "error", side_effect=error)
    mocker.patch.object(LivePerson, "send_events_to_xsiam", side_effect=push)
    try:
        LivePerson.main(sleep=run.pauses.append, budgets=budgets or TimeBudgets())
    except SystemExit:
        run.exited = True
    return run


def recent_records(count: int, seconds_ago: float = 40) -> list[dict[str, Any]]:
    """Records from `seconds_ago` before the real now on, a tenth of a second apart (for runs through main)."""
    start = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    return [record(render(start + timedelta(seconds=index / 10)), objectName=f"n{index}") for index in range(count)]


def jwt_expiring_at(exp: Any) -> str:
    payload = base64.urlsafe_b64encode(json.dumps({"exp": exp}).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJSUzI1NiJ9.{payload}.signature"


def contains_canary(text: str) -> bool:
    return CANARY_SECRET in text or CANARY_TOKEN in text


# ============================================================================ parameters


class TestHostParameters:
    """Instance parameters: hosts, account ID, credentials and max_fetch, each refused with its name."""

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            pytest.param("va.sentinel.liveperson.net", "va.sentinel.liveperson.net", id="bare-host"),
            pytest.param("VA.Sentinel.LivePerson.net", "va.sentinel.liveperson.net", id="lower-cased"),
            pytest.param("va.sentinel.liveperson.net:443", "va.sentinel.liveperson.net:443", id="with-port"),
            pytest.param("https://va.sentinel.liveperson.net/", "va.sentinel.liveperson.net", id="https-and-slash"),
            pytest.param("HTTPS://va.sentinel.liveperson.net", "va.sentinel.liveperson.net", id="upper-case-scheme"),
            pytest.param("https://127.0.0.1:8443", "127.0.0.1:8443", id="address-and-port"),
            pytest.param("  lo.sentinel.liveperson.net  ", "lo.sentinel.liveperson.net", id="surrounding-spaces"),
        ],
    )
    def test_accepted_host_forms(self, raw: str, expected: str) -> None:
        """
        Given: a bare host, host:port, or either with https:// and a trailing slash
        When: the parameter is read
        Then: the plain lower-case host[:port] is kept
        """
        assert normalize_host(raw, "auth_server_url") == expected

    @pytest.mark.parametrize(
        "raw",
        [
            pytest.param("http://va.sentinel.liveperson.net", id="plain-http"),
            pytest.param("ftp://va.sentinel.liveperson.net", id="other-scheme"),
            pytest.param("va.sentinel.liveperson.net/sentinel", id="path"),
            pytest.param("va.sentinel.liveperson.net?x=1", id="query"),
            pytest.param("va sentinel.liveperson.net", id="space"),
            pytest.param("https://va.sentinel.liveperson.net//", id="two-slashes"),
            pytest.param("va.sentinel.liveperson.net:99999", id="port-too-large"),
            pytest.param("va.sentinel.liveperson.net:0", id="port-zero"),
            pytest.param("user@va.sentinel.liveperson.net", id="user-info"),
            pytest.param("-bad.liveperson.net", id="label-starting-with-dash"),
            pytest.param("va..liveperson.net", id="empty-label"),
            pytest.param("https://", id="scheme-only"),
        ],
    )
    def test_refused_host_forms_name_the_parameter(self, raw: str) -> None:
        """
        Given: a path, a query, spaces, another scheme, a bad port or credentials in the host
        When: the parameter is read
        Then: an InputError names the parameter, shows accepted examples and quotes what was given
        """
        with pytest.raises(InputError) as caught:
            normalize_host(raw, "auth_server_url")
        message = str(caught.value)
        assert message.startswith("Parameter 'Authorization Server URL' (auth_server_url) must be a host name")
        assert "e.g. va.sentinel.liveperson.net, va.sentinel.liveperson.net:443" in message
        assert f"got '{raw.strip()}'" in message

    def test_long_refused_value_is_clipped(self) -> None:
        """
        Given: a 300-character host with a path
        When: the parameter is read
        Then: the message quotes only its first 80 characters, marked as cut
        """
        raw = "a" * 290 + ".com/x/y/z"
        with pytest.raises(InputError) as caught:
            normalize_host(raw, "domain_api_host")
        assert f"got '{'a' * 80}...'" in str(caught.value)
        assert raw not in str(caught.value)

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            pytest.param("12345678", "12345678", id="digits"),
            pytest.param(" le_1234 ", "le_1234", id="underscore-and-spaces"),
            pytest.param("a" * 20, "a" * 20, id="twenty-characters"),
            pytest.param(12345678, "12345678", id="number"),
        ],
    )
    def test_accepted_account_ids(self, raw: Any, expected: str) -> None:
        """
        Given: an account ID of letters, digits or underscores, up to 20 characters
        When: the settings are read
        Then: it is kept, stripped
        """
        assert make_settings(account_id=raw).account_id == expected

    @pytest.mark.parametrize(
        ("params", "message"),
        [
            pytest.param(
                {"auth_server_url": ""},
                "Parameter 'Authorization Server URL' (auth_server_url) is required: give a host name, e.g. ",
                id="auth-host-missing",
            ),
            pytest.param(
                {"domain_api_host": "api.liveperson.net/x"},
                "Parameter 'Domain API host' (domain_api_host) must be a host name",
                id="domain-host-with-path",
            ),
            pytest.param({"account_id": ""}, "Parameter 'Account ID' (account_id) is required", id="account-missing"),
            pytest.param(
                {"account_id": "le-12345"},
                "Parameter 'Account ID' (account_id) must be 1 to 20 letters, digits or underscores",
                id="account-with-dash",
            ),
            pytest.param(
                {"account_id": "a" * 21}, "Parameter 'Account ID' (account_id) must be 1 to 20", id="account-too-long"
            ),
            pytest.param(
                {"credentials": {"identifier": "", "password": "x"}},
                "Parameter 'Client ID' (credentials) is required",
                id="client-id-missing",
            ),
            pytest.param(
                {"credentials": {"identifier": "  ", "password": "x"}},
                "Parameter 'Client ID' (credentials) is required",
                id="client-id-blank",
            ),
            pytest.param(
                {"credentials": {"identifier": "id", "password": ""}},
                "Parameter 'Client Secret' (credentials) is required",
                id="client-secret-missing",
            ),
            pytest.param({"credentials": None}, "Parameter 'Client ID' (credentials) is required", id="no-credentials"),
            pytest.param(
                {"credentials": "id:secret"},
                "Parameter 'Client ID' (credentials) is required",
                id="credentials-not-a-mapping",
            ),
            pytest.param(
                {"max_fetch": "0"},
                "Parameter 'Maximum number of events per fetch' (max_fetch) must be a whole number from 1 to "
                "100000; got '0'",
                id="max-fetch-zero",
            ),
            pytest.param(
                {"max_fetch": "-5"}, "must be a whole number from 1 to 100000; got '-5'", id="max-fetch-negative"
            ),
            pytest.param(
                {"max_fetch": "abc"}, "must be a whole number from 1 to 100000; got 'abc'", id="max-fetch-text"
            ),
            pytest.param(
                {"max_fetch": "2.5"}, "must be a whole number from 1 to 100000; got '2.5'", id="max-fetch-decimal"
            ),
            pytest.param(
                {"max_fetch": "100001"},
                "must be a whole number from 1 to 100000; got '100001'",
                id="max-fetch-above-cap",
            ),
        ],
    )
    def test_bad_parameters_are_named(self, params: dict[str, Any], message: str) -> None:
        """
        Given: each malformed or missing parameter
        When: the settings are read
        Then: an InputError names the parameter and what is accepted, and never shows the secret
        """
        with pytest.raises(InputError) as caught:
            make_settings(**params)
        assert message in str(caught.value)
        shows_secret = contains_canary(str(caught.value))
        assert not shows_secret

    def test_defaults_when_optional_parameters_are_empty(self) -> None:
        """
        Given: no max_fetch, no Domain API host, no insecure and no proxy
        When: the settings are read
        Then: 5000 events, api.liveperson.net, certificate verification on and no proxy
        """
        settings = make_settings(max_fetch="", domain_api_host=None, insecure=None, proxy=None)
        assert settings.max_fetch == 5000
        assert settings.domain_api_host == "api.liveperson.net"
        assert settings.verify is True
        assert settings.proxy is False

    def test_flags_and_values_are_read(self) -> None:
        """
        Given: insecure and proxy selected, max_fetch at its cap, a client ID with spaces around it
        When: the settings are read
        Then: verification is off, the proxy is on, 100000 is kept and the client ID is stripped
        """
        settings = make_settings(
            insecure=True, proxy="true", max_fetch=100000, credentials={"identifier": " id ", "password": "pw"}
        )
        assert settings.verify is False
        assert settings.proxy is True
        assert settings.max_fetch == 100000
        assert settings.client_id == "id"

    def test_the_secret_is_not_in_the_settings_repr(self) -> None:
        """
        Given: settings holding the canary secret
        When: they are rendered with repr (as a traceback or a debugger would)
        Then: the secret is not shown
        """
        shows_secret = CANARY_SECRET in repr(make_settings())
        assert not shows_secret


# ============================================================================ domain discovery


class TestDomainDiscovery:
    """The Domain API: caching with a time-to-live, ownership, re-resolution and the baseURI check."""

    def test_lookup_asks_for_the_read_only_configuration_service(self, api: LivePersonApi) -> None:
        """
        Given: the Domain API answering the documented sample
        When: the domain is resolved
        Then: it asks for accountConfigReadOnly with version=1.0 and returns the baseURI
        """
        assert make_client().get_domain() == AUDIT_HOST
        (request,) = api.requests_to(DOMAIN_URL)
        assert request.qs == {"version": ["1.0"]}

    def test_domain_is_cached_with_a_time_to_live(self, api: LivePersonApi) -> None:
        """
        Given: a resolved domain in the integration context
        When: new clients (new runs) ask for it just before and just after the time-to-live
        Then: the first is a cache hit, the second resolves again
        """
        clock = FakeClock()
        make_client(clock=clock).get_domain()
        clock.advance(LivePerson.DOMAIN_CACHE_TTL_SECONDS - 1)
        assert make_client(clock=clock).get_domain() == AUDIT_HOST
        assert api.calls_to(DOMAIN_URL) == 1
        clock.advance(2)
        assert make_client(clock=clock).get_domain() == AUDIT_HOST
        assert api.calls_to(DOMAIN_URL) == 2

    def test_one_client_asks_once(self, api: LivePersonApi) -> None:
        """
        Given: a client without a cache (as test-module runs)
        When: it asks for the domain three times
        Then: one lookup, and the integration context is left untouched
        """
        client = make_client(use_cache=False)
        for _ in range(3):
            client.get_domain()
        assert api.calls_to(DOMAIN_URL) == 1
        assert demisto.getIntegrationContext() == {}

    def test_domain_cache_belongs_to_its_account(self, api: LivePersonApi) -> None:
        """
        Given: a domain cached for one account
        When: a client of another account asks for its domain
        Then: the other account's Domain API is asked, not the cache
        """
        api.add_account(OTHER_ACCOUNT)
        make_client().get_domain()
        make_client(account_id=OTHER_ACCOUNT).get_domain()
        assert api.calls_to(DOMAIN_URL) == 1
        assert api.calls_to(domain_url(OTHER_ACCOUNT)) == 1

    def test_foreign_cache_entry_is_not_used(self, api: LivePersonApi) -> None:
        """
        Given: an integration context holding a domain entry that belongs to someone else
        When: the domain is resolved
        Then: the entry is ignored and replaced by this account's
        """
        demisto.setIntegrationContext(
            {"domain": {"owner": "someone-else", "host": "evil.example", "resolved_at": 1e12}}
        )
        assert make_client().get_domain() == AUDIT_HOST
        assert demisto.getIntegrationContext()["domain"]["host"] == AUDIT_HOST

    def test_domain_re_resolved_after_a_connection_failure(self, api: LivePersonApi) -> None:
        """
        Given: a cached domain that now refuses connections, and a Domain API naming another host
        When: a new run fetches an audit page
        Then: the policy's retries run on the old host, the domain is re-resolved and the query answered there
        """
        make_client().get_domain()
        api.mock.get(DOMAIN_URL, json={"baseURI": MOVED_AUDIT_HOST})
        api.mock.post(AUDIT_URL, exc=requests.exceptions.ConnectionError("connection refused"))
        api.mock.post(MOVED_AUDIT_URL, json={"data": {"auditData": [record_at(5)]}})
        clock = FakeClock()
        page = make_client(clock=clock).fetch_audit_page(build_audit_query(WINDOW, PAGE_REQUEST, 0))
        assert page.records == [record_at(5)]
        assert api.calls_to(AUDIT_URL) == 4
        assert clock.pauses == [5.0, 10.0, 15.0]
        assert api.calls_to(MOVED_AUDIT_URL) == 1
        assert demisto.getIntegrationContext()["domain"]["host"] == MOVED_AUDIT_HOST

    def test_connection_failure_on_an_unchanged_domain_is_reported(self, api: LivePersonApi) -> None:
        """
        Given: an Audit Trail host refusing connections, and a Domain API still naming it
        When: a page is fetched
        Then: the original failure is raised once the retries are spent (no second round on the same host)
        """
        api.mock.post(AUDIT_URL, exc=requests.exceptions.ConnectionError("connection refused"))
        with pytest.raises(LivePersonError) as caught:
            make_client().fetch_audit_page(build_audit_query(WINDOW, PAGE_REQUEST, 0))
        assert "Gave up after 4 attempt(s)." in str(caught.value)
        assert caught.value.stage is Stage.AUDIT
        assert api.calls_to(AUDIT_URL) == 4
        assert api.calls_to(DOMAIN_URL) == 2

    def test_failure_on_the_re_resolved_domain_says_so(self, api: LivePersonApi) -> None:
        """
        Given: the old host refusing connections and the re-resolved host answering 400
        When: a page is fetched
        Then: the error is the new host's, marked as coming after the retry with the re-resolved domain
        """
        api.mock.post(AUDIT_URL, exc=requests.exceptions.ConnectionError("connection refused"))
        api.mock.get(DOMAIN_URL, [{"json": {"baseURI": AUDIT_HOST}}, {"json": {"baseURI": MOVED_AUDIT_HOST}}])
        api.mock.post(MOVED_AUDIT_URL, status_code=400, text="bad query")
        with pytest.raises(LivePersonError) as caught:
            make_client().fetch_audit_page(build_audit_query(WINDOW, PAGE_REQUEST, 0))
        assert str(caught.value) == (
            "The Audit Trail rejected the query (HTTP 400: bad query). "
            "(also after retrying with the re-resolved domain)"
        )

    @pytest.mark.parametrize(
        "base_uri",
        [
            pytest.param("evil.example/steal?x=", id="path-and-query"),
            pytest.param("https://va-a.acr.liveperson.net", id="with-scheme"),
            pytest.param("a b", id="space"),
            pytest.param(None, id="missing"),
            pytest.param(42, id="number"),
        ],
    )
    def test_discovered_base_uri_must_be_a_plain_host(self, api: LivePersonApi, base_uri: Any) -> None:
        """
        Given: a Domain API answer whose baseURI is not a plain host name
        When: the domain is resolved
        Then: it is refused at the discovery stage, so the token is never sent there
        """
        api.mock.get(DOMAIN_URL, json={"baseURI": base_uri})
        with pytest.raises(LivePersonError, match="not a plain host name") as caught:
            make_client().get_domain()
        assert caught.value.stage is Stage.DISCOVERY
        assert "domain" not in demisto.getIntegrationContext()

    def test_discovered_host_is_lower_cased(self, api: LivePersonApi) -> None:
        """
        Given: a baseURI in mixed case
        When: the domain is resolved
        Then: it is kept lower-cased
        """
        api.mock.get(DOMAIN_URL, json={"baseURI": "VA-A.acr.LivePerson.net"})
        assert make_client().get_domain() == AUDIT_HOST

    @pytest.mark.parametrize(
        ("answer", "message"),
        [
            pytest.param({"text": "<html>oops</html>"}, "answered with a body that is not JSON", id="not-json"),
            pytest.param({"json": ["va-a.acr.liveperson.net"]}, "answered with an unexpected JSON shape", id="list"),
            pytest.param(
                {"status_code": 404, "text": "account not found"},
                "The Domain API does not know this account (HTTP 404: account not found). Check the Account ID",
                id="unknown-account",
            ),
        ],
    )
    def test_unusable_domain_answers(self, api: LivePersonApi, answer: dict[str, Any], message: str) -> None:
        """
        Given: a Domain API answer that is not JSON, not an object, or a 404
        When: the domain is resolved
        Then: a discovery-stage error says what was wrong, after a single call
        """
        api.mock.get(DOMAIN_URL, **answer)
        with pytest.raises(LivePersonError, match=re.escape(message)) as caught:
            make_client().get_domain()
        assert caught.value.stage is Stage.DISCOVERY
        assert api.calls_to(DOMAIN_URL) == 1


# ============================================================================ token


class TestToken:
    """Sentinel: the client-credentials grant, token reuse and renewal, and what a refusal says."""

    def test_token_request_is_a_form_post_to_the_v2_endpoint(self, api: LivePersonApi) -> None:
        """
        Given: client credentials
        When: a token is requested
        Then: it is a form-encoded client_credentials grant at the v2 path, asking for JSON
        """
        make_client().get_token()
        (request,) = api.requests_to(TOKEN_URL)
        assert request.method == "POST"
        assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert request.headers["Accept"] == "application/json"
        form = urllib.parse.parse_qs(request.text)
        assert form.pop("grant_type") == ["client_credentials"]
        assert form.pop("client_id") == [CLIENT_ID]
        carries_the_secret = form.pop("client_secret") == [CANARY_SECRET]
        assert carries_the_secret
        assert form == {}

    def test_token_reused_across_ten_runs(self, mocker: MockerFixture, api: LivePersonApi) -> None:
        """
        Given: ten fetch runs a minute apart, the token valid for an hour
        When: each run builds a new client (as each platform run does)
        Then: one token request and one domain lookup serve all ten runs
        """
        clock = FakeClock()
        last_run: Any = {}
        for minute in range(10):
            clock.advance(60)
            run = run_fetch(mocker, make_client(clock=clock), last_run, NOW + timedelta(minutes=minute))
            assert run.error is None
            last_run = run.saved
        assert api.calls_to(TOKEN_URL) == 1
        assert api.calls_to(DOMAIN_URL) == 1
        assert api.calls_to(AUDIT_URL) >= 10

    @pytest.mark.parametrize(
        ("expires_in", "still_cached_at", "renewed_at"),
        [
            pytest.param(3600, 3600 - 400, 3600 - 100, id="one-hour-renewed-five-minutes-early"),
            pytest.param(60, 50, 55, id="one-minute-renewed-a-tenth-early"),
        ],
    )
    def test_token_renewed_shortly_before_expiry(
        self, api: LivePersonApi, expires_in: int, still_cached_at: float, renewed_at: float
    ) -> None:
        """
        Given: a cached token and its lifetime
        When: runs come before and inside the renewal margin (5 minutes, or a tenth of a short lifetime)
        Then: the early run reuses the token, the later run gets a new one
        """
        api.mock.post(TOKEN_URL, json={"access_token": "short-lived", "expires_in": expires_in})
        clock = FakeClock()
        start = clock()
        make_client(clock=clock).get_token()
        clock.now = start + still_cached_at
        make_client(clock=clock).get_token()
        assert api.calls_to(TOKEN_URL) == 1
        clock.now = start + renewed_at
        make_client(clock=clock).get_token()
        assert api.calls_to(TOKEN_URL) == 2

    def test_token_cache_belongs_to_its_client_id(self, api: LivePersonApi) -> None:
        """
        Given: a token cached for one client ID
        When: a client with another client ID asks for a token
        Then: a new token is requested
        """
        make_client().get_token()
        make_client(credentials={"identifier": "client-id-2", "password": CANARY_SECRET}).get_token()
        assert api.calls_to(TOKEN_URL) == 2

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            pytest.param(
                {"access_token": jwt_expiring_at(NOW.timestamp() + 900), "expires_in": 120}, 120, id="expires-in"
            ),
            pytest.param({"access_token": jwt_expiring_at(NOW.timestamp() + 900), "expires_in": "120"}, 120, id="text"),
            pytest.param({"access_token": jwt_expiring_at(NOW.timestamp() + 900)}, 900, id="jwt-exp"),
            pytest.param({"access_token": jwt_expiring_at(NOW.timestamp() + 900), "expires_in": 0}, 900, id="zero"),
            pytest.param({"access_token": jwt_expiring_at(NOW.timestamp() + 900), "expires_in": "soon"}, 900, id="bad"),
            pytest.param({"access_token": "opaque"}, 3600, id="opaque-token"),
            pytest.param({"access_token": jwt_expiring_at(NOW.timestamp() - 10)}, 3600, id="jwt-already-expired"),
            pytest.param({"access_token": jwt_expiring_at("never")}, 3600, id="jwt-exp-not-a-number"),
            pytest.param({"access_token": "a.!!!.c"}, 3600, id="jwt-payload-not-base64"),
            pytest.param({"access_token": "a.b.c", "expires_in": None}, 3600, id="nothing-usable"),
        ],
    )
    def test_token_lifetime_sources(self, body: dict[str, Any], expected: float) -> None:
        """
        Given: token answers with expires_in, with only a JWT exp claim, or with neither usable
        When: the lifetime is worked out
        Then: a positive expires_in wins, then a future exp claim, then one hour
        """
        assert token_lifetime_seconds(body, NOW.timestamp()) == pytest.approx(expected)

    def test_401_renews_the_token_once(self, api: LivePersonApi) -> None:
        """
        Given: a cached token the Audit Trail now rejects with 401
        When: a page is fetched
        Then: one new token is requested, the query succeeds with it, and it replaces the cached one
        """
        api.mock.post(TOKEN_URL, [{"json": {"access_token": "first"}}, {"json": {"access_token": "second"}}])
        api.mock.post(
            AUDIT_URL,
            [{"status_code": 401, "text": "token expired"}, {"json": {"data": {"auditData": [record_at(5)]}}}],
        )
        client = make_client()
        client.get_token()
        page = client.fetch_audit_page(build_audit_query(WINDOW, PAGE_REQUEST, 0))
        assert page.records == [record_at(5)]
        assert [item.headers["Authorization"] for item in api.requests_to(AUDIT_URL)] == [
            "Bearer first",
            "Bearer second",
        ]
        assert demisto.getIntegrationContext()["token"]["access_token"] == "second"

    def test_401_twice_is_a_clear_error(self, api: LivePersonApi) -> None:
        """
        Given: an Audit Trail that rejects even a fresh token
        When: a page is fetched
        Then: the error says the fresh token was refused, after exactly two token requests, without the token
        """
        api.mock.post(AUDIT_URL, status_code=401, text="nope")
        with pytest.raises(LivePersonError, match="rejected a freshly issued token") as caught:
            make_client().fetch_audit_page(build_audit_query(WINDOW, PAGE_REQUEST, 0))
        assert caught.value.status == 401
        shows_token = contains_canary(str(caught.value))
        assert not shows_token
        assert api.calls_to(TOKEN_URL) == 2
        assert api.calls_to(AUDIT_URL) == 2

    @pytest.mark.parametrize("status", [pytest.param(400, id="400"), pytest.param(401, id="401")])
    def test_bad_client_credentials(self, api: LivePersonApi, status: int) -> None:
        """
        Given: a token endpoint refusing the credentials
        When: a token is requested
        Then: one call (no retry) and a message pointing at the Client ID/Secret and the region
        """
        api.mock.post(TOKEN_URL, status_code=status, json={"error": "invalid_client"})
        with pytest.raises(LivePersonError) as caught:
            make_client().get_token()
        message = str(caught.value)
        assert message.startswith(f"The authorization server refused the client credentials (HTTP {status}: ")
        assert "Check the Client ID and Client Secret" in message
        assert "Authorization Server URL is your account's region" in message
        assert caught.value.stage is Stage.TOKEN
        assert api.calls_to(TOKEN_URL) == 1

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param({"token_type": "Bearer"}, id="missing"),
            pytest.param({"access_token": ""}, id="empty"),
            pytest.param({"access_token": 42}, id="not-text"),
        ],
    )
    def test_token_answer_without_access_token(self, api: LivePersonApi, body: dict[str, Any]) -> None:
        """
        Given: a 200 token answer without a usable access_token
        When: a token is requested
        Then: a clear token-stage error, and nothing is cached
        """
        api.mock.post(TOKEN_URL, json=body)
        with pytest.raises(LivePersonError, match="answered without an access_token") as caught:
            make_client().get_token()
        assert caught.value.stage is Stage.TOKEN
        assert "token" not in demisto.getIntegrationContext()


# ============================================================================ audit query and answers


class TestAuditQuery:
    """The documented GraphQL body, the request, and every way an answer can be unusable."""

    def test_query_is_the_documented_graphql_body(self) -> None:
        """
        Given: a window, a page size and an offset
        When: the query is built
        Then: it selects every documented field, oldest first in UTC, with LPA changes and automatic updates
        """
        query = build_audit_query(Window(date(2024, 5, 1), date(2024, 5, 4)), 500, 1500)
        assert query.startswith("{auditData(")
        assert query.endswith("}}")
        arguments = query[len("{auditData(") : query.index(") {")].split(", ")
        assert arguments == [
            'fromDate: "2024-05-01"',
            'toDate: "2024-05-04"',
            "first: 500",
            "offset: 1500",
            'orderBy: ["changeTimestamp"]',
            'orderDirection: ["ASC"]',
            'timezone: "UTC"',
            'language: "en-US"',
            "lpa: true",
            "automaticUpdates: true",
        ]
        selection = query[query.index(") {") + 3 : -2].split()
        assert selection == [
            "accountId",
            "objectType",
            "objectName",
            "actionType",
            "element",
            "oldValue",
            "newValue",
            "changeDate",
            "originator",
            "originatorLoginName",
            "originatorUserId",
            "originatorUserAgent",
            "originatorAuthType",
            "originatorIsLpa",
        ]

    def test_query_direction_and_zone_can_be_asked_for(self) -> None:
        """
        Given: a descending order and another results zone
        When: the query is built
        Then: both appear in the arguments
        """
        query = build_audit_query(WINDOW, 1, 0, descending=True, results_zone="Asia/Tokyo")
        assert 'orderDirection: ["DESC"]' in query
        assert 'timezone: "Asia/Tokyo"' in query

    def test_audit_request_shape(self, api: LivePersonApi) -> None:
        """
        Given: a resolved domain and a token
        When: a page is fetched
        Then: it is a JSON POST with a single query field and the bearer token
        """
        query = build_audit_query(WINDOW, PAGE_REQUEST, 0)
        make_client().fetch_audit_page(query)
        (request,) = api.requests_to(AUDIT_URL)
        assert request.json() == {"query": query}
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["Accept"] == "application/json"
        sends_the_token = request.headers["Authorization"] == f"Bearer {CANARY_TOKEN}"
        assert sends_the_token

    def test_total_count_header_is_kept(self, api: LivePersonApi) -> None:
        """
        Given: an answer with an X-Total-Count header
        When: a page is fetched
        Then: the header's value comes back with the records
        """
        api.mock.post(AUDIT_URL, json={"data": {"auditData": [record_at(1)]}}, headers={"X-Total-Count": "17"})
        page = make_client().fetch_audit_page(build_audit_query(WINDOW, PAGE_REQUEST, 0))
        assert page.records == [record_at(1)]
        assert page.total_count == "17"

    def test_errors_array_in_a_200_is_a_failure(self, api: LivePersonApi) -> None:
        """
        Given: a 200 answer carrying a GraphQL errors array
        When: a page is fetched
        Then: it fails at the audit stage with the server's message
        """
        api.mock.post(AUDIT_URL, json=load_json("audit_graphql_errors.json"))
        with pytest.raises(LivePersonError) as caught:
            make_client().fetch_audit_page(build_audit_query(WINDOW, PAGE_REQUEST, 0))
        assert str(caught.value) == (
            "The Audit Trail rejected the query: Validation error of type FieldUndefined: "
            "Field 'objectId' in type 'AuditData' is undefined"
        )
        assert caught.value.stage is Stage.AUDIT

    def test_errors_that_are_not_objects_are_shown_as_given(self) -> None:
        """
        Given: an errors array of one object and one plain text
        When: the answer is read
        Then: both appear in the message, joined
        """
        with pytest.raises(LivePersonError) as caught:
            LivePerson.audit_records_from_body({"errors": [{"message": "first"}, "second"]})
        assert str(caught.value) == "The Audit Trail rejected the query: first; second"

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param({"data": {}}, id="no-audit-data"),
            pytest.param({"data": {"auditData": "x"}}, id="audit-data-text"),
            pytest.param({"data": {"auditData": [1]}}, id="audit-data-not-records"),
            pytest.param({"data": None}, id="data-null"),
            pytest.param({}, id="empty"),
        ],
    )
    def test_unexpected_audit_shapes(self, body: dict[str, Any]) -> None:
        """
        Given: answers without a list of record objects
        When: they are read
        Then: a clear error instead of a crash later
        """
        with pytest.raises(LivePersonError, match="without a data.auditData list"):
            LivePerson.audit_records_from_body(body)

    def test_audit_answer_that_is_not_json(self, api: LivePersonApi) -> None:
        """
        Given: an Audit Trail answering 200 with HTML
        When: a page is fetched
        Then: an audit-stage error says the body is not JSON
        """
        api.mock.post(AUDIT_URL, text="<html>maintenance</html>")
        with pytest.raises(LivePersonError) as caught:
            make_client().fetch_audit_page(build_audit_query(WINDOW, PAGE_REQUEST, 0))
        assert str(caught.value) == "audit trail query: LivePerson answered with a body that is not JSON."


# ============================================================================ times and event shaping


class TestTimes:
    """changeDate as LivePerson renders it, the state's time format and `_time` for XSIAM."""

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            pytest.param("2019-11-12 06:10:46.0", datetime(2019, 11, 12, 6, 10, 46, tzinfo=UTC), id="one-digit"),
            pytest.param(
                "2019-11-12 06:10:46.123", datetime(2019, 11, 12, 6, 10, 46, 123000, tzinfo=UTC), id="milliseconds"
            ),
            pytest.param("2019-11-12 06:10:46", datetime(2019, 11, 12, 6, 10, 46, tzinfo=UTC), id="no-fraction"),
            pytest.param("2017-12-05T11:47:06", datetime(2017, 12, 5, 11, 47, 6, tzinfo=UTC), id="export-t-form"),
            pytest.param("2024-05-01T12:00:05+02:00", datetime(2024, 5, 1, 10, 0, 5, tzinfo=UTC), id="offset"),
            pytest.param("2024-05-01 10:00:05Z", datetime(2024, 5, 1, 10, 0, 5, tzinfo=UTC), id="zulu"),
        ],
    )
    def test_change_date_parsed_as_utc(self, raw: str, expected: datetime) -> None:
        """
        Given: changeDate as the JSON API and the CSV export render it
        When: it is parsed
        Then: an aware UTC datetime, whatever the machine's time zone
        """
        parsed = parse_change_date(raw)
        assert parsed == expected
        assert parsed.utcoffset() == timedelta(0)

    @pytest.mark.parametrize(
        "raw", [pytest.param("yesterday", id="words"), pytest.param(None, id="missing"), pytest.param(17, id="number")]
    )
    def test_unreadable_change_date(self, raw: Any) -> None:
        """
        Given: a record whose changeDate cannot be read
        When: it is parsed
        Then: an audit-stage error quoting it
        """
        with pytest.raises(LivePersonError) as caught:
            parse_change_date(raw)
        assert str(caught.value) == f"An audit record has an unreadable changeDate: '{raw}'."
        assert caught.value.stage is Stage.AUDIT

    @pytest.mark.parametrize(
        ("change_date", "expected"),
        [
            pytest.param("2024-05-01 10:00:05.5", "2024-05-01T10:00:05.500Z", id="tenths"),
            pytest.param("2024-05-01 10:00:05", "2024-05-01T10:00:05.000Z", id="no-fraction"),
            pytest.param("2024-05-01T10:00:05.123456", "2024-05-01T10:00:05.123Z", id="microseconds-t-form"),
            pytest.param("2024-05-01T12:00:05.5+02:00", "2024-05-01T10:00:05.500Z", id="offset"),
            pytest.param("2024-05-01 10:00:05.5Z", "2024-05-01T10:00:05.500Z", id="zulu"),
            pytest.param("2024-05-01 10:00:05.3-05", "2024-05-01T15:00:05.300Z", id="short-offset"),
            pytest.param("2024-05-01 10:00:05.", "2024-05-01T10:00:05.000Z", id="dot-without-digits"),
        ],
    )
    def test_time_is_utc_whatever_the_rendering(self, change_date: str, expected: str) -> None:
        """
        Given: changeDate in LivePerson's UTC rendering, and with an offset or a Z
        When: the event's _time is set
        Then: it is the UTC instant with milliseconds: the text is reused only when it carries no offset
        """
        raw = record(change_date)
        assert to_xsiam_event(raw, parse_change_date(change_date))["_time"] == expected

    def test_state_time_round_trip(self) -> None:
        """
        Given: a time with microseconds in another zone
        When: it is written in the state's format and read back
        Then: the same instant comes back, in UTC, with a Z in the text
        """
        moment = datetime(2024, 5, 1, 12, 0, 5, 123456, tzinfo=timezone(timedelta(hours=2)))
        text = LivePerson.format_time(moment)
        assert text == "2024-05-01T10:00:05.123456Z"
        assert LivePerson.parse_state_time(text) == moment


class TestEventShaping:
    """What XSIAM receives, and what the War Room shows."""

    def test_event_keeps_every_field_and_adds_time_and_type(self) -> None:
        """
        Given: a raw record, and an independent copy of it taken before shaping
        When: it becomes an XSIAM event
        Then: every field of the copy is there unchanged, plus _time (ISO 8601 UTC) and source_log_type audit
        """
        raw = record("2024-05-01 10:00:05.5", oldValue="3", newValue="5")
        original = copy.deepcopy(raw)
        event = to_xsiam_event(raw, parse_change_date(raw["changeDate"]))
        assert event == {**original, "_time": "2024-05-01T10:00:05.500Z", "source_log_type": "audit"}

    @pytest.mark.parametrize("copied", [pytest.param(True, id="copy"), pytest.param(False, id="in-place")])
    def test_events_for_xsiam_keep_every_field(self, copied: bool) -> None:
        """
        Given: two raw records, their parsed times, and independent copies taken before shaping
        When: they are shaped for XSIAM, copied or in place
        Then: each event is its copy plus _time and source_log_type; copying leaves the records as read
        """
        raws = [record_at(1, "a", oldValue="", newValue="x"), record_at(2.5, "b", oldValue="7", newValue=None)]
        originals = copy.deepcopy(raws)
        events = xsiam_events(raws, [changed(item) for item in raws], copy=copied)
        assert events == [
            {**originals[0], "_time": "2024-05-01T10:00:01.000Z", "source_log_type": "audit"},
            {**originals[1], "_time": "2024-05-01T10:00:02.500Z", "source_log_type": "audit"},
        ]
        assert (raws == originals) is copied

    def test_events_and_times_must_pair_up(self) -> None:
        """
        Given: two records and one time
        When: they are shaped
        Then: the mismatch is an error, not a silently dropped event
        """
        with pytest.raises(ValueError):
            xsiam_events([record_at(1), record_at(2)], [BASE])

    def test_context_event_adds_the_legacy_keys(self) -> None:
        """
        Given: a record
        When: it becomes a War Room context entry
        Then: every field is kept, plus changeType, userId and changedBy, and the record is left as read
        """
        raw = record_at(1, actionType="Add new")
        original = copy.deepcopy(raw)
        context = LivePerson.to_context_event(raw)
        assert context == {**original, "changeType": "Add new", "userId": "1000001", "changedBy": "Ada Admin"}
        assert raw == original

    @pytest.mark.parametrize(
        ("overrides", "change", "originator"),
        [
            pytest.param({"oldValue": "3", "newValue": "5"}, "3 → 5", "Ada Admin", id="both-values"),
            pytest.param({"oldValue": None, "newValue": "x"}, " → x", "Ada Admin", id="no-old-value"),
            pytest.param({"originator": None}, "3 → 5", "ada.admin", id="login-name-when-no-originator"),
        ],
    )
    def test_table_row(self, overrides: dict[str, Any], change: str, originator: str) -> None:
        """
        Given: a record
        When: it becomes a row of the get-events table
        Then: the UTC time, what changed (old → new) and who changed it
        """
        row = LivePerson.to_table_row(record("2024-05-01 10:00:05.0", **overrides))
        assert row == {
            "Time (UTC)": "2024-05-01T10:00:05.000Z",
            "Object Type": "Users",
            "Object Name": "agent.smith",
            "Action": "Edit",
            "Element": "Max number of live chats",
            "Old → New": change,
            "Originator": originator,
        }


# ============================================================================ retries


class TestRetries:
    """LivePerson's retry policy, paced by the injected sleep, never waiting past the deadline."""

    @pytest.mark.parametrize(
        ("status", "attempt", "retry_after", "expected"),
        [
            pytest.param(503, 0, None, 5.0, id="5xx-first"),
            pytest.param(503, 1, None, 10.0, id="5xx-second"),
            pytest.param(503, 2, None, 15.0, id="5xx-third"),
            pytest.param(503, 3, None, None, id="5xx-exhausted"),
            pytest.param(None, 0, None, 5.0, id="dropped-connection"),
            pytest.param(429, 0, None, 1.0, id="429-first"),
            pytest.param(429, 1, None, 2.0, id="429-second"),
            pytest.param(429, 2, None, 4.0, id="429-third"),
            pytest.param(429, 3, None, None, id="429-exhausted"),
            pytest.param(429, 0, 0.2, 1.0, id="retry-after-below-one-second"),
            pytest.param(429, 0, 7.0, 7.0, id="retry-after-honoured"),
            pytest.param(429, 0, 600.0, 30.0, id="retry-after-capped"),
            pytest.param(429, 3, 7.0, None, id="retry-after-when-exhausted"),
            pytest.param(503, 0, 7.0, 5.0, id="retry-after-ignored-for-5xx"),
        ],
    )
    def test_retry_policy(self, status: int | None, attempt: int, retry_after: float | None, expected: float) -> None:
        """
        Given: LivePerson's published retry policy
        When: the pause before the next retry is planned
        Then: 5xx waits 5, 10, 15 s then gives up; 429 waits at least 1 s and honours Retry-After up to 30 s
        """
        assert RetryPolicy().pause(status, attempt, retry_after) == expected

    @pytest.mark.parametrize(
        ("headers", "pause"),
        [
            pytest.param({"Retry-After": "2"}, 2.0, id="retry-after-seconds"),
            pytest.param({}, 1.0, id="no-retry-after"),
            pytest.param({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 1.0, id="retry-after-date"),
        ],
    )
    def test_429_then_success(self, api: LivePersonApi, headers: dict[str, str], pause: float) -> None:
        """
        Given: an Audit Trail answering 429 then 200
        When: a page is fetched
        Then: the client sleeps once (Retry-After when given in seconds, else 1 s) and succeeds
        """
        api.mock.post(AUDIT_URL, [{"status_code": 429, "headers": headers}, {"json": EMPTY_ANSWER}])
        clock = FakeClock()
        assert make_client(clock=clock).fetch_audit_page(build_audit_query(WINDOW, PAGE_REQUEST, 0)).records == []
        assert clock.pauses == [pause]

    def test_5xx_exhausted(self, api: LivePersonApi) -> None:
        """
        Given: an Audit Trail that answers 502 every time
        When: a page is fetched
        Then: four attempts with 5, 10 and 15 s pauses, then a clear error with the status and the answer
        """
        api.mock.post(AUDIT_URL, status_code=502, text="bad gateway")
        clock = FakeClock()
        with pytest.raises(LivePersonError) as caught:
            make_client(clock=clock).fetch_audit_page(build_audit_query(WINDOW, PAGE_REQUEST, 0))
        assert str(caught.value) == (
            "audit trail query: LivePerson answered HTTP 502: bad gateway. Gave up after 4 attempt(s)."
        )
        assert caught.value.status == 502
        assert clock.pauses == [5.0, 10.0, 15.0]
        assert api.calls_to(AUDIT_URL) == 4

    def test_another_policy_can_be_given(self, api: LivePersonApi) -> None:
        """
        Given: a client with a policy of two short pauses for server errors
        When: the token endpoint answers 503 every time
        Then: the client waits those pauses, then gives up after three attempts
        """
        api.mock.post(TOKEN_URL, status_code=503)
        clock = FakeClock()
        client = make_client(clock=clock, retry_policy=RetryPolicy(server_error_pauses=(0.25, 0.5)))
        with pytest.raises(LivePersonError, match=re.escape("Gave up after 3 attempt(s).")):
            client.get_token()
        assert clock.pauses == [0.25, 0.5]

    def test_retries_never_pass_the_deadline(self, api: LivePersonApi) -> None:
        """
        Given: 12 s left before the deadline and a token endpoint answering 500
        When: a token is requested
        Then: it waits 5 s once, then gives up instead of waiting 10 s past the deadline
        """
        api.mock.post(TOKEN_URL, status_code=500, text="down")
        clock = FakeClock()
        with pytest.raises(LivePersonError, match=re.escape("Gave up after 2 attempt(s).")):
            make_client(clock=clock).get_token(deadline=Deadline(clock() + 12, clock))
        assert clock.pauses == [5.0]

    @pytest.mark.parametrize(
        "status", [pytest.param(400, id="400"), pytest.param(404, id="404"), pytest.param(409, id="409")]
    )
    def test_other_4xx_are_not_retried(self, api: LivePersonApi, status: int) -> None:
        """
        Given: a 4xx other than 401 and 429 from the Audit Trail
        When: a page is fetched
        Then: one call, no pause, and the status and answer in the message
        """
        api.mock.post(AUDIT_URL, status_code=status, text="bad request")
        clock = FakeClock()
        with pytest.raises(LivePersonError) as caught:
            make_client(clock=clock).fetch_audit_page(build_audit_query(WINDOW, PAGE_REQUEST, 0))
        assert str(caught.value) == f"The Audit Trail rejected the query (HTTP {status}: bad request)."
        assert api.calls_to(AUDIT_URL) == 1
        assert clock.pauses == []

    def test_403_names_the_missing_permission(self, api: LivePersonApi) -> None:
        """
        Given: an Audit Trail answering 403
        When: a page is fetched
        Then: the message says which access the app installation lacks, without a retry
        """
        api.mock.post(AUDIT_URL, status_code=403, json={"error": "forbidden"})
        with pytest.raises(LivePersonError) as caught:
            make_client().fetch_audit_page(build_audit_query(WINDOW, PAGE_REQUEST, 0))
        assert "LivePerson refused the Audit Trail query (HTTP 403 Not Authorized" in str(caught.value)
        assert "needs read access to the Audit Trail (Account Configuration, read-only)" in str(caught.value)
        assert api.calls_to(AUDIT_URL) == 1

    def test_dropped_connection_is_retried(self, api: LivePersonApi) -> None:
        """
        Given: a token endpoint that drops the connection once
        When: a token is requested
        Then: it is retried after 5 s and succeeds
        """
        api.mock.post(
            TOKEN_URL,
            [{"exc": requests.exceptions.ConnectionError("reset by peer")}, {"json": {"access_token": "fresh"}}],
        )
        clock = FakeClock()
        assert make_client(clock=clock).get_token() == "fresh"
        assert clock.pauses == [5.0]

    def test_read_timeout_is_retried_then_reported(self, api: LivePersonApi) -> None:
        """
        Given: a Domain API that never answers in time, and a request timeout of 2.5 s
        When: the domain is resolved
        Then: the policy's retries run and the error names the timeout the client used
        """
        api.mock.get(DOMAIN_URL, exc=requests.exceptions.ReadTimeout("slow"))
        clock = FakeClock()
        with pytest.raises(LivePersonError) as caught:
            make_client(clock=clock, request_timeout=2.5).get_domain()
        assert str(caught.value) == (
            "domain discovery: LivePerson did not answer within 2.5 s. Gave up after 4 attempt(s)."
        )
        assert clock.pauses == [5.0, 10.0, 15.0]

    @pytest.mark.parametrize(
        "failure",
        [
            pytest.param(requests.exceptions.SSLError("certificate verify failed"), id="tls"),
            pytest.param(requests.exceptions.ProxyError("proxy refused"), id="proxy"),
            pytest.param(requests.exceptions.ConnectTimeout("timed out"), id="connect-timeout"),
        ],
    )
    def test_configuration_failures_are_not_retried(self, api: LivePersonApi, failure: Exception) -> None:
        """
        Given: a token endpoint failing with a TLS, proxy or connect-timeout error
        When: a token is requested
        Then: one attempt and no pause: waiting would not fix the configuration
        """
        api.mock.post(TOKEN_URL, exc=failure)
        clock = FakeClock()
        with pytest.raises(LivePersonError) as caught:
            make_client(clock=clock).get_token()
        assert caught.value.stage is Stage.TOKEN
        assert api.calls_to(TOKEN_URL) == 1
        assert clock.pauses == []

    def test_each_retry_is_logged_with_its_reason(self, mocker: MockerFixture, api: LivePersonApi) -> None:
        """
        Given: a token endpoint answering 503 then dropping the connection, then answering
        When: a token is requested
        Then: each retry is logged with the stage, the failure and the pause
        """
        api.mock.post(
            TOKEN_URL,
            [
                {"status_code": 503},
                {"exc": requests.exceptions.ConnectionError("reset")},
                {"json": {"access_token": "fresh"}},
            ],
        )
        debug = mocker.patch.object(demisto, "debug")
        make_client().get_token()
        logged = [str(call.args[0]) for call in debug.call_args_list]
        assert "[HTTP] token request: HTTP 503, retry 1 in 5 s" in logged
        assert "[HTTP] token request: ConnectionError, retry 2 in 10 s" in logged

    @pytest.mark.parametrize(
        ("deadline", "passed", "allows_five_seconds"),
        [
            pytest.param(None, False, True, id="no-deadline"),
            pytest.param(10.0, False, True, id="ten-seconds-left"),
            pytest.param(3.0, False, False, id="three-seconds-left"),
            pytest.param(0.0, True, False, id="reached"),
        ],
    )
    def test_deadline(self, deadline: float | None, passed: bool, allows_five_seconds: bool) -> None:
        """
        Given: a deadline some seconds ahead on a fake clock (or none)
        When: it is asked whether it passed and whether a 5 s pause fits
        Then: it answers from the clock
        """
        clock = FakeClock()
        limit = Deadline() if deadline is None else Deadline.after(deadline, clock)
        assert limit.passed() is passed
        assert limit.allows(5.0) is allows_five_seconds


# ============================================================================ cursor and state


class TestCursorState:
    """The cursor and its lastRun: bounded, round-tripping, and refusing what is not ours."""

    def test_starting_at(self) -> None:
        """
        Given: a moment in UTC+2
        When: a cursor starts there
        Then: its floor is that instant in UTC, it remembers nothing and is not placed in any window
        """
        moment = datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
        cursor = Cursor.starting_at(moment)
        assert cursor.floor == moment
        assert cursor.floor.tzinfo is UTC
        assert cursor.tail == ()
        assert cursor.behind == 0
        assert cursor.placed is False
        assert cursor.reread_from == 0
        assert cursor.to_last_run() == {
            "version": LivePerson.STATE_VERSION,
            "floor": "2024-05-01T10:00:00.000000Z",
            "behind": 0,
            "tail": {},
        }

    @pytest.mark.parametrize(
        "cursor",
        [
            pytest.param(
                Cursor(
                    floor=datetime(2024, 5, 1, 10, 0, 5, 500000, tzinfo=UTC),
                    tail=as_tail({"aaaaaaaaaaaa": 2, "bbbbbbbbbbbb": 1}),
                    behind=3,
                    window=WINDOW,
                    offset=17,
                    checkpoint=datetime(2024, 5, 1, 10, 0, 6, tzinfo=UTC),
                ),
                id="placed",
            ),
            pytest.param(
                Cursor(floor=BASE, tail=as_tail({"cccccccccccc": 1}), window=WINDOW, offset=None), id="unplaced"
            ),
            pytest.param(Cursor.starting_at(BASE), id="fresh"),
        ],
    )
    def test_last_run_round_trip(self, cursor: Cursor) -> None:
        """
        Given: a cursor with a window, an offset, a tail with twins and records behind it (or fewer of these)
        When: it is saved as lastRun, kept as JSON by the platform, and read back
        Then: the same cursor comes back
        """
        stored = json.loads(json.dumps(cursor.to_last_run()))
        assert Cursor.from_last_run(stored) == cursor

    @pytest.mark.parametrize(
        "last_run",
        [
            pytest.param({}, id="empty"),
            pytest.param(None, id="none"),
            pytest.param("2024-05-01", id="text"),
            pytest.param([1, 2], id="list"),
            pytest.param({"lastRun": "2018-10-24T14:13:20+00:00"}, id="mock-default"),
            pytest.param({"floor": "2024-05-01T10:00:00.000000Z", "tail": {}}, id="version-less"),
            pytest.param({"version": 99, "floor": "2024-05-01T10:00:00.000000Z"}, id="unknown-version"),
        ],
    )
    def test_foreign_or_version_less_last_run_is_not_ours(self, last_run: Any) -> None:
        """
        Given: an empty lastRun, the real mock's fixed one, or one without our version
        When: it is read
        Then: there is no cursor (the run starts one minute ago)
        """
        assert Cursor.from_last_run(last_run) is None

    @pytest.mark.parametrize(
        "last_run",
        [
            pytest.param({"version": 2}, id="no-floor"),
            pytest.param({"version": 2, "floor": "yesterday"}, id="floor-unreadable"),
            pytest.param({"version": 2, "floor": "2024-05-01T10:00:00.000000Z", "tail": ["a"]}, id="tail-a-list"),
            pytest.param({"version": 2, "floor": "2024-05-01T10:00:00.000000Z", "tail": {"a": "x"}}, id="count"),
            pytest.param({"version": 2, "floor": "2024-05-01T10:00:00.000000Z", "behind": "x"}, id="behind"),
            pytest.param({"version": 2, "floor": "2024-05-01T10:00:00.000000Z", "window": ["x", "y"]}, id="window"),
            pytest.param({"version": 2, "floor": "2024-05-01T10:00:00.000000Z", "window": ["2024-05-01"]}, id="half"),
            pytest.param(
                {
                    "version": 2,
                    "floor": "2024-05-01T10:00:00.000000Z",
                    "window": ["2024-05-01", "2024-05-03"],
                    "offset": "x",
                },
                id="offset",
            ),
            pytest.param({"version": 2, "floor": "2024-05-01T10:00:00.000000Z", "checkpoint": "soon"}, id="checkpoint"),
        ],
    )
    def test_damaged_last_run_is_an_error(self, last_run: dict[str, Any]) -> None:
        """
        Given: our own lastRun with a damaged field
        When: it is read
        Then: a ValueError says it is not readable (the caller logs it and starts again)
        """
        with pytest.raises(ValueError, match=r"^lastRun is not readable \(\w+\)$"):
            Cursor.from_last_run(last_run)

    def test_version_1_state_is_read_without_its_offset(self) -> None:
        """
        Given: the previous release's state (version 1: one day, an offset in it, a floor and a tail)
        When: it is read
        Then: its floor, tail and checkpoint are kept, and the cursor is placed again by search (no window)
        """
        cursor = Cursor.from_last_run(
            {
                "version": 1,
                "day": "2024-05-01",
                "offset": 7,
                "floor": "2024-05-01T10:00:05.000000Z",
                "floor_complete": True,
                "tail": {"aaaaaaaaaaaa": 2},
                "checkpoint": "2024-05-01T10:00:05.000000Z",
            }
        )
        assert cursor == Cursor(
            floor=datetime(2024, 5, 1, 10, 0, 5, tzinfo=UTC),
            tail=(("aaaaaaaaaaaa", 2),),
            checkpoint=datetime(2024, 5, 1, 10, 0, 5, tzinfo=UTC),
        )

    def test_negative_counts_are_read_as_zero(self) -> None:
        """
        Given: a lastRun with a negative offset, a negative behind and a zero tail count
        When: it is read
        Then: the offset and behind are 0 and the zero count is dropped
        """
        cursor = Cursor.from_last_run(
            {
                "version": 2,
                "floor": "2024-05-01T10:00:00.000000Z",
                "behind": -3,
                "tail": {"aaaaaaaaaaaa": 0, "bbbbbbbbbbbb": 1},
                "window": ["2024-04-30", "2024-05-03"],
                "offset": -1,
            }
        )
        assert cursor is not None
        assert cursor.offset == 0
        assert cursor.behind == 0
        assert cursor.tail == (("bbbbbbbbbbbb", 1),)

    def test_placed_widened_and_unplaced(self) -> None:
        """
        Given: a cursor remembering three records (twins counted twice) and two more behind them at its floor
        When: it is placed where its floor's first record is, widened, and moved to an unsearched window
        Then: placing skips the known records (those behind only when the floor itself is in the window),
              widening keeps the offset, moving forgets it
        """
        cursor = Cursor(floor=BASE, tail=as_tail({"aaaaaaaaaaaa": 2, "bbbbbbbbbbbb": 1}), behind=2)
        placed = cursor.placed_at(WINDOW, 40)
        assert placed.offset == 45
        assert placed.window == WINDOW
        assert placed.reread_from == 42
        assert placed.placed is True
        wider = Window(WINDOW.from_day, WINDOW.to_day + timedelta(days=1))
        widened = placed.widened_to(wider)
        assert widened.window == wider
        assert widened.offset == 45
        assert cursor.placed_at(WINDOW, 40, floor_present=False).offset == 43
        moved = placed.unplaced_in(Window(date(2024, 5, 1), date(2024, 5, 4)))
        assert moved.offset is None
        assert moved.placed is False
        assert moved.tail == cursor.tail

    @pytest.mark.parametrize(
        ("floor", "checkpoint", "expected"),
        [
            pytest.param(BASE, None, BASE, id="nothing-delivered-yet"),
            pytest.param(BASE, BASE + timedelta(hours=1), BASE, id="recent-floor"),
            pytest.param(BASE - timedelta(days=5), BASE, BASE - LivePerson.LATE_COVER, id="days-old-floor"),
        ],
    )
    def test_reading_start(self, floor: datetime, checkpoint: datetime | None, expected: datetime) -> None:
        """
        Given: a cursor's floor and the time of its newest delivery
        When: the oldest time the next window must hold is asked for
        Then: the floor, but never more than LATE_COVER before the newest delivery
        """
        assert Cursor(floor=floor, checkpoint=checkpoint).reading_start == expected

    def test_last_run_stays_small_with_a_full_tail(self) -> None:
        """
        Given: a cursor with a full tail of distinct records, huge counts and every optional field
        When: it is saved as lastRun
        Then: the JSON stays within 4 KB
        """
        tail = as_tail({fingerprint(record_at(5, f"user{index}")): 1 for index in range(TAIL_MAX_RECORDS)})
        cursor = Cursor(
            floor=BASE, tail=tail, behind=10**9, window=WINDOW, offset=10**12, checkpoint=BASE + timedelta(seconds=5)
        )
        assert cursor.tail_size == TAIL_MAX_RECORDS
        assert len(json.dumps(cursor.to_last_run())) <= 4096


# ============================================================================ windows


class TestWindowPlanning:
    """The fromDate/toDate window: reused, widened for free, moved, capped, and what it surely holds."""

    def test_trusted_bounds_are_fourteen_hours_inside(self) -> None:
        """
        Given: a window from 2024-05-01 to 2024-05-03
        When: its trusted bounds are asked for
        Then: 14 h after its first midnight and 14 h before its last, in UTC (zones UTC-12 to UTC+14)
        """
        window = Window(date(2024, 5, 1), date(2024, 5, 3))
        assert window.trusted_start == datetime(2024, 5, 1, 14, 0, tzinfo=UTC)
        assert window.trusted_end == datetime(2024, 5, 2, 10, 0, tzinfo=UTC)
        assert str(window) == "2024-05-01..2024-05-03"

    @pytest.mark.parametrize(
        ("start", "horizon"),
        [
            pytest.param(BASE, NOW + timedelta(hours=1), id="a-fetch-at-ten"),
            pytest.param(datetime(2024, 5, 1, 0, 0, tzinfo=UTC), datetime(2024, 5, 1, 1, 0, tzinfo=UTC), id="midnight"),
            pytest.param(
                datetime(2024, 4, 30, 23, 59, tzinfo=UTC), datetime(2024, 5, 2, 9, 0, tzinfo=UTC), id="a-day-and-more"
            ),
        ],
    )
    def test_new_window_surely_holds_the_stretch(self, start: datetime, horizon: datetime) -> None:
        """
        Given: no window yet and a stretch of time shorter than the largest window
        When: a window is planned
        Then: its trusted part covers the whole stretch, and it spans at most MAX_WINDOW_DAYS
        """
        window = plan_window(None, start, horizon)
        assert window.trusted_start <= start
        assert window.trusted_end > horizon
        assert (window.to_day - window.from_day).days <= LivePerson.MAX_WINDOW_DAYS

    def test_new_window_for_a_fetch(self) -> None:
        """
        Given: no window, a start at 10:00 and a horizon at 11:01 on 2024-05-01
        When: a window is planned
        Then: it runs from the day of start - 14 h to the day after horizon + 14 h
        """
        assert plan_window(None, BASE, NOW + timedelta(hours=1)) == Window(date(2024, 4, 30), date(2024, 5, 3))

    def test_same_window_when_it_serves(self) -> None:
        """
        Given: a current window that already covers a later stretch
        When: a window is planned
        Then: the current one is kept as it is
        """
        current = Window(date(2024, 4, 30), date(2024, 5, 3))
        assert plan_window(current, BASE + timedelta(hours=1), NOW + timedelta(hours=2)) is current

    def test_widened_to_date_keeps_from_date(self) -> None:
        """
        Given: a current window whose toDate is too early for the horizon
        When: a window is planned
        Then: only toDate moves, so every offset in the answer stays valid
        """
        current = Window(date(2024, 4, 30), date(2024, 5, 2))
        planned = plan_window(current, BASE, NOW + timedelta(hours=1))
        assert planned == Window(date(2024, 4, 30), date(2024, 5, 3))
        cursor = Cursor(floor=BASE, window=current, offset=12).widened_to(planned)
        assert cursor.offset == 12

    def test_from_date_moves_when_the_window_would_grow_too_wide(self) -> None:
        """
        Given: a current window starting four days before the start, too early to widen within the cap
        When: a window is planned
        Then: a new window starts at the day of start - 14 h (offsets must be searched for again)
        """
        current = Window(date(2024, 4, 27), date(2024, 5, 1))
        assert plan_window(current, BASE, NOW + timedelta(hours=1)) == Window(date(2024, 4, 30), date(2024, 5, 3))

    def test_from_date_moves_back_for_an_earlier_start(self) -> None:
        """
        Given: a current window starting after the day the start needs
        When: a window is planned
        Then: a new window starts earlier
        """
        current = Window(date(2024, 5, 1), date(2024, 5, 3))
        planned = plan_window(current, datetime(2024, 4, 30, 10, 0, tzinfo=UTC), NOW)
        assert planned.from_day == date(2024, 4, 29)

    def test_long_catch_up_is_capped_at_max_window_days(self) -> None:
        """
        Given: a start ten days before the horizon
        When: a window is planned
        Then: it starts at the day of start - 14 h and spans exactly MAX_WINDOW_DAYS
        """
        start = NOW - timedelta(days=10)
        window = plan_window(None, start, NOW + timedelta(hours=1))
        assert window.from_day == (start - timedelta(hours=14)).date()
        assert (window.to_day - window.from_day).days == LivePerson.MAX_WINDOW_DAYS


# ============================================================================ page knowledge


class TestPageKnowledge:
    """What is learned about LivePerson's undocumented page cap, and when a short page ends the answer."""

    @pytest.mark.parametrize(
        ("before", "returned", "after"),
        [
            pytest.param(PageKnowledge(), 500, PageKnowledge(500, True), id="full-page-proves-the-cap"),
            pytest.param(PageKnowledge(), 137, PageKnowledge(137, False), id="short-page-is-a-lower-bound"),
            pytest.param(PageKnowledge(50, True, 9.0), 137, PageKnowledge(137, False, 9.0), id="larger-page-relearns"),
            pytest.param(PageKnowledge(137, False), 20, PageKnowledge(137, False), id="smaller-page-teaches-nothing"),
            pytest.param(PageKnowledge(137, True), 0, PageKnowledge(137, True), id="empty-page-teaches-nothing"),
        ],
    )
    def test_after_page(self, before: PageKnowledge, returned: int, after: PageKnowledge) -> None:
        """
        Given: what is known, and a page of `returned` records when 500 were asked for
        When: the page is taken as evidence
        Then: a full page proves the cap, a longer page raises the known size (unproven), others change nothing
        """
        assert before.after_page(returned, 500) == after

    def test_full_page_at_the_proven_cap_keeps_the_same_knowledge(self) -> None:
        """
        Given: a proven cap of 500
        When: another full page of 500 arrives
        Then: the very same knowledge is kept (nothing to store)
        """
        known = PageKnowledge(500, True, 5.0)
        assert known.after_page(500, 500) is known

    def test_capped_at(self) -> None:
        """
        Given: an unproven size of 100
        When: the server is seen to return 40 while more records existed
        Then: the cap is proven at 40
        """
        assert PageKnowledge(100, False, 7.0).capped_at(40) == PageKnowledge(40, True, 7.0)

    @pytest.mark.parametrize(
        ("known", "returned", "ends"),
        [
            pytest.param(PageKnowledge(500, True), 0, True, id="empty"),
            pytest.param(PageKnowledge(500, True), 499, True, id="below-the-cap"),
            pytest.param(PageKnowledge(137, False), 137, False, id="at-the-known-size"),
            pytest.param(PageKnowledge(137, False), 200, False, id="above-the-known-size"),
            pytest.param(PageKnowledge(), 3, False, id="nothing-known"),
            pytest.param(PageKnowledge(500, True), 500, False, id="full"),
        ],
    )
    def test_ends_answer(self, known: PageKnowledge, returned: int, ends: bool) -> None:
        """
        Given: what is known about the page size
        When: a page of `returned` records (of 500) arrives
        Then: only an empty page, or one shorter than the server has returned before, ends the answer
        """
        assert known.ends_answer(returned, 500) is ends

    @pytest.mark.parametrize(
        ("known", "recent", "budget"),
        [
            pytest.param(PageKnowledge(), 0, TAIL_MAX_RECORDS, id="unknown"),
            pytest.param(PageKnowledge(50, False), 0, TAIL_MAX_RECORDS, id="unproven"),
            pytest.param(PageKnowledge(500, True), 0, TAIL_MAX_RECORDS, id="proven-large"),
            pytest.param(PageKnowledge(50, True), 3, 25, id="proven-fifty-quiet"),
            pytest.param(PageKnowledge(50, True), 40, 40, id="proven-fifty-busy-second"),
            pytest.param(PageKnowledge(50, True), 70, 49, id="proven-fifty-busier-than-a-page"),
            pytest.param(PageKnowledge(100, True), 101, 99, id="proven-hundred-busy"),
            pytest.param(PageKnowledge(1, True), 5, 0, id="proven-one"),
        ],
    )
    def test_tail_budget(self, known: PageKnowledge, recent: int, budget: int) -> None:
        """
        Given: what is known about the page size, and how many records were stamped in the last LATE_GUARD
        When: the next tail's budget is asked for
        Then: half a proven page (so re-reading the tail and a few new records is one call), or as many as the
              busy last seconds hold but less than a page, never more than the tail bound
        """
        assert known.tail_budget(recent) == budget

    def test_context_round_trip(self) -> None:
        """
        Given: knowledge of a proven cap
        When: it is stored as an integration-context entry and read back
        Then: it belongs to the given owner and the same knowledge comes back
        """
        known = PageKnowledge(137, True, 1234.5)
        entry = json.loads(json.dumps(known.to_context("owner-1")))
        assert entry["owner"] == "owner-1"
        assert PageKnowledge.from_context(entry) == known

    @pytest.mark.parametrize(
        "entry",
        [
            pytest.param(None, id="none"),
            pytest.param({}, id="empty"),
            pytest.param({"size": "many"}, id="size-not-a-number"),
            pytest.param({"size": 5, "checked_at": None}, id="checked-at-null"),
        ],
    )
    def test_unreadable_context_is_unknown(self, entry: dict[str, Any] | None) -> None:
        """
        Given: no entry, or an unreadable one
        When: the knowledge is read
        Then: nothing is known
        """
        assert PageKnowledge.from_context(entry) == PageKnowledge()

    @pytest.mark.parametrize(
        ("following", "proves"),
        [
            pytest.param(None, False, id="nothing-followed"),
            pytest.param(NOW - timedelta(hours=2), True, id="two-hours-old"),
            pytest.param(NOW - timedelta(hours=1), False, id="exactly-one-hour-old"),
            pytest.param(NOW - timedelta(minutes=5), False, id="recent"),
        ],
    )
    def test_proves_cap_age_rule(self, following: datetime | None, proves: bool) -> None:
        """
        Given: the time of a record read after a short page
        When: it is asked whether that record existed when the short page was served
        Then: only a record older than an hour proves it (a recent one may have arrived in between)
        """
        assert proves_cap(following, NOW) is proves


# ============================================================================ scans


def placed_cursor(floor: datetime = BASE, at: int = 0) -> Cursor:
    """A cursor starting at `floor`, placed in WINDOW where the first record at or after it is at `at`."""
    return Cursor.starting_at(floor).placed_at(WINDOW, at)


def scan_list(
    cursor: Cursor,
    records: list[dict[str, Any]],
    knowledge: PageKnowledge = KNOWN_CAP,
    rules: ReadRules | None = None,
    page: int = PAGE_REQUEST,
    delivered_before: int = 0,
) -> tuple[Scan, list[dict[str, Any]]]:
    """Feeds a scan the pages of `records` a server with pages of `page` would return, until it stops.

    Each page is read where the scan asks (`next_read`), as read_audit_trail does.
    """
    rules = rules or read_rules()
    scan = Scan.begin(cursor, knowledge, delivered_before)
    events: list[dict[str, Any]] = []
    for _ in range(len(records) + 3):
        if scan.stop is not None:
            break
        offset, overlap = scan.next_read(rules.now)
        result = scan.feed(records[offset : offset + page], page, rules, overlap)
        scan, events = result.scan, events + result.events
    return scan, events


class TestScan:
    """One pass through a window's answer: which records are new, known or older, and where it stops."""

    def test_records_sharing_a_second_across_a_page_boundary(self) -> None:
        """
        Given: five records in one second, split over two pages of three
        When: they are scanned from the start, then a later run re-reads them with a sixth in that second
        Then: all five are delivered once and accounted for at that second; the later run delivers only the sixth
        """
        same = [record_at(5, f"user{index}") for index in range(5)]
        scan, events = scan_list(placed_cursor(), same, knowledge=PageKnowledge(), page=3)
        assert events == same
        after = scan.finish().cursor
        assert after.offset == 5
        assert after.floor == BASE + timedelta(seconds=5)
        assert after.tail_size + after.behind == 5
        sixth = record_at(5, "user5")
        _, later = scan_list(after, [*same, sixth], knowledge=scan.knowledge, page=3)
        assert later == [sixth]

    def test_identical_twins_are_both_delivered_and_both_remembered(self) -> None:
        """
        Given: two byte-identical records (two real changes in the same second)
        When: they are scanned, then re-read in the next run with a third twin arriving
        Then: both are delivered and remembered first, only the third the next time
        """
        twin = record_at(5)
        first, events = scan_list(placed_cursor(), [twin, dict(twin)])
        assert events == [twin, twin]
        resumed = first.finish().cursor
        assert resumed.tail == ((fingerprint(twin), 2),)
        second, later = scan_list(resumed, [twin, dict(twin), dict(twin)])
        assert later == [twin]
        assert second.counts.known == 2
        assert second.finish().cursor.tail == ((fingerprint(twin), 3),)

    def test_record_inserted_behind_the_resume_point_but_newer_than_the_floor_is_delivered(self) -> None:
        """
        Given: three delivered records, then a new one that sorts before the last of them
        When: the next run re-reads the tail
        Then: the newcomer is delivered, the known records are not, and nothing is counted as older
        """
        a, b, c = record_at(1, "a"), record_at(2, "b"), record_at(3, "c")
        first, _ = scan_list(placed_cursor(), [a, b, c])
        resumed = first.finish().cursor
        late = record_at(2, "late")
        second, events = scan_list(resumed, [a, b, late, c])
        assert events == [late]
        assert second.counts.known == 3
        assert second.counts.older == 0
        assert second.finish().cursor.offset == 4

    def test_record_older_than_the_floor_is_skipped_and_logged(self, mocker: MockerFixture) -> None:
        """
        Given: a cursor whose floor is 10:00:03, remembering the record there, and two records at 10:00:01
               that appeared before it
        When: the run re-reads the tail
        Then: they cannot be told apart from delivered ones: not sent, counted, and logged as an error with the count
        """
        kept = record_at(3, "kept")
        cursor = Cursor(floor=changed(kept), tail=as_tail({fingerprint(kept): 1}), window=WINDOW, offset=1)
        second, events = scan_list(cursor, [record_at(1, "old1"), record_at(1, "old2"), kept])
        assert events == []
        assert second.counts.older == 2
        assert second.counts.known == 1
        error = mocker.patch.object(demisto, "error")
        LivePerson.log_scan(WINDOW, second, second.finish())
        error.assert_called_once()
        assert error.call_args.args[0].startswith(
            f"[Fetch] 2 record(s) appeared behind the resume point in window {WINDOW}, older than every remembered"
        )

    def test_limit_never_stops_inside_the_tail(self) -> None:
        """
        Given: a cursor remembering three records and a run whose limit is already used up
        When: the tail and two new records are read
        Then: the whole tail is re-read before the limit stops the scan at the first new record
        """
        known = [record_at(1, "a"), record_at(2, "b"), record_at(3, "c")]
        cursor = scan_list(placed_cursor(), known)[0].finish().cursor
        scan, events = scan_list(
            cursor, [*known, record_at(4, "d"), record_at(5, "e")], rules=read_rules(limit=5), delivered_before=5
        )
        assert events == []
        assert scan.counts.known == 3
        assert scan.stop is Stop.LIMIT
        assert scan.stopped_at == BASE + timedelta(seconds=4)
        assert scan.finish().cursor == cursor

    def test_filter_keeps_matching_records_and_the_limit_counts_only_them(self) -> None:
        """
        Given: records by Bob and by Ada interleaved, a filter on Ada's login name and a limit of 2
        When: they are scanned
        Then: Ada's first two records are delivered, Bob's are counted as filtered, and the scan stops at Ada's third
        """
        records = [
            record_at(1, "bob1", **BOB),
            record_at(2, "ada1"),
            record_at(3, "bob2", **BOB),
            record_at(4, "bob3", **BOB),
            record_at(5, "ada2"),
            record_at(6, "ada3"),
        ]
        rules = read_rules(limit=2, record_filter=RecordFilter(originator="ada.admin"))
        scan, events = scan_list(placed_cursor(), records, rules=rules)
        assert names(events) == ["ada1", "ada2"]
        assert scan.counts.filtered == 3
        assert scan.stop is Stop.LIMIT
        assert scan.stopped_at == BASE + timedelta(seconds=6)

    def test_stops_at_the_window_trusted_end(self) -> None:
        """
        Given: a record just before the window's trusted end and one at it
        When: they are scanned
        Then: the first is delivered; the scan stops at the second without consuming it
        """
        before = record(render(WINDOW.trusted_end - timedelta(seconds=1)), objectName="in")
        at_end = record(render(WINDOW.trusted_end), objectName="out")
        scan, events = scan_list(placed_cursor(), [before, at_end])
        assert names(events) == ["in"]
        assert scan.stop is Stop.WINDOW_END
        assert scan.stopped_at == WINDOW.trusted_end
        assert scan.position == 1

    def test_stops_past_until(self) -> None:
        """
        Given: records at 2, 3 and 4 s, and an end time of 3 s
        When: they are scanned
        Then: the records up to and at the end time are delivered, and the scan stops at the next one
        """
        records = series(5)
        scan, events = scan_list(placed_cursor(), records, rules=read_rules(until=BASE + timedelta(seconds=3)))
        assert names(events) == ["r0", "r1", "r2", "r3"]
        assert scan.stop is Stop.UNTIL
        assert scan.stopped_at == BASE + timedelta(seconds=4)

    def test_more_records_in_one_second_than_the_tail_holds(self, mocker: MockerFixture) -> None:
        """
        Given: 5,000 records in one second
        When: they are delivered and the next cursor planned
        Then: the tail keeps the last 100, `behind` counts the rest, lastRun stays within 4 KB, and the log says so
        """
        same = [record_at(5, f"user{index}") for index in range(5000)]
        scan, events = scan_list(placed_cursor(), same)
        assert len(events) == 5000
        end = scan.finish()
        assert end.bound_hit is True
        assert end.cursor.offset == 5000
        assert end.cursor.tail_size == TAIL_MAX_RECORDS
        assert end.cursor.behind == 5000 - TAIL_MAX_RECORDS
        assert len(json.dumps(end.cursor.to_last_run())) <= 4096
        info = mocker.patch.object(demisto, "info")
        LivePerson.log_scan(WINDOW, scan, end)
        assert "more than 100 records share the time 2024-05-01T10:00:05.000000Z" in info.call_args.args[0]
        assert "counts the other 4900" in info.call_args.args[0]

    def test_a_later_run_inside_the_busy_second_keeps_counting_behind(self) -> None:
        """
        Given: a cursor after 150 records in one second: the last 100 remembered, 50 counted behind them
        When: the next run re-reads those 100 and finds two more records in that second
        Then: the two are delivered; the tail keeps the last 100 and counts the other 52 behind them
        """
        burst = [record_at(5, f"user{index}") for index in range(152)]
        remembered = as_tail({fingerprint(item): 1 for item in burst[50:150]})
        cursor = Cursor(floor=BASE + timedelta(seconds=5), tail=remembered, behind=50, window=WINDOW, offset=150)
        scan, events = scan_list(cursor, burst)
        assert names(events) == ["user150", "user151"]
        end = scan.finish()
        assert end.bound_hit is True
        assert end.cursor.tail_size == TAIL_MAX_RECORDS
        assert end.cursor.behind == 52
        assert end.cursor.offset == 152

    def test_nothing_consumed_keeps_the_cursor(self) -> None:
        """
        Given: a placed cursor and an empty answer
        When: the scan finishes
        Then: the next cursor is the same one
        """
        cursor = placed_cursor(at=7)
        scan, _ = scan_list(cursor, [])
        assert scan.finish().cursor is cursor


class TestAfterWholePage:
    """Whether the answer ended, decided after a page read to its last record."""

    def test_empty_page_ends(self) -> None:
        """
        Given: a scan with nothing known about the page size
        When: an empty page was read
        Then: the answer ended
        """
        scan = Scan.begin(placed_cursor(), PageKnowledge()).after_whole_page(0, 500, NOW.timestamp())
        assert scan.stop is Stop.END

    def test_full_page_continues(self) -> None:
        """
        Given: a scan with nothing known about the page size
        When: a full page was read
        Then: the scan goes on, and the cap is proven at the page's size
        """
        scan = Scan.begin(placed_cursor(), PageKnowledge()).after_whole_page(500, 500, NOW.timestamp())
        assert scan.stop is None
        assert scan.knowledge == PageKnowledge(500, True)

    def test_short_page_below_the_learned_size_ends(self) -> None:
        """
        Given: a proven cap of 500, checked within the hour
        When: a page of 10 was read
        Then: the answer ended
        """
        scan = Scan.begin(placed_cursor(), KNOWN_CAP).after_whole_page(10, 500, NOW.timestamp())
        assert scan.stop is Stop.END

    @pytest.mark.parametrize("returned", [pytest.param(10, id="at-the-size"), pytest.param(12, id="above-the-size")])
    def test_short_page_at_or_above_the_learned_size_continues(self, returned: int) -> None:
        """
        Given: a server known to return pages of 10 (unproven)
        When: a short page of 10 or more was read
        Then: it may be the server's cap: the scan reads on
        """
        known = PageKnowledge(10, False, NOW.timestamp())
        scan = Scan.begin(placed_cursor(), known).after_whole_page(returned, 500, NOW.timestamp())
        assert scan.stop is None
        assert scan.short_page == returned
        assert scan.knowledge.size == returned

    def test_known_records_beyond_a_short_page_prove_the_cap(self) -> None:
        """
        Given: a cursor remembering ten records before its offset, and nothing known about the page size
        When: a page of five of them comes back for a request of 500
        Then: records read by earlier runs lie past the page: the cap is proven at five
        """
        known = series(10)
        cursor = Cursor(floor=BASE, tail=as_tail({fingerprint(item): 1 for item in known}), window=WINDOW, offset=20)
        result = Scan.begin(cursor, PageKnowledge()).feed(known[:5], 500, read_rules())
        assert result.scan.knowledge == PageKnowledge(5, True)
        assert result.scan.stop is None

    @pytest.mark.parametrize(
        ("size", "proven"),
        [pytest.param(5, True, id="five-twice-proves"), pytest.param(4, False, id="four-twice-does-not")],
    )
    def test_two_short_pages_of_the_same_length(self, size: int, proven: bool) -> None:
        """
        Given: nothing known, and a server answering two recent pages of the same length in a row
        When: both are read
        Then: from five records on, the repeat proves the cap (arrivals cannot make it by chance)
        """
        result = Scan.begin(placed_cursor(), PageKnowledge())
        for page in (series(size), series(size, start=size)):
            result = result.feed(page, 500, read_rules()).scan
        assert result.knowledge.proven is proven
        assert result.knowledge.size == size

    def test_old_record_after_a_short_page_proves_the_cap(self) -> None:
        """
        Given: nothing known, a short page of three records, then a page starting with a record two hours old
        When: both are read
        Then: that record existed when the short page was served: the cap is proven at three
        """
        old = series(6, start=-7200)
        scan = Scan.begin(Cursor.starting_at(BASE - timedelta(hours=3)).placed_at(WINDOW, 0), PageKnowledge())
        scan = scan.feed(old[:3], 500, read_rules()).scan
        assert scan.knowledge == PageKnowledge(3, False)
        scan = scan.feed(old[3:], 500, read_rules()).scan
        assert scan.knowledge.proven is True
        assert scan.knowledge.size == 3

    def test_hourly_recheck_of_a_short_page(self) -> None:
        """
        Given: a proven cap of 500 last checked more than an hour ago
        When: a short page is read, then an empty one
        Then: the short page is checked with one more read; the empty page ends the answer and records the check
        """
        stale = PageKnowledge(500, True, NOW.timestamp() - 3601)
        scan = Scan.begin(placed_cursor(), stale).feed(series(10), 500, read_rules()).scan
        assert scan.stop is None
        assert scan.verifying is True
        scan = scan.feed([], 500, read_rules()).scan
        assert scan.stop is Stop.END
        assert scan.knowledge.checked_at == NOW.timestamp()

    def test_a_check_that_finds_more_records_reads_on_to_an_empty_page(self) -> None:
        """
        Given: a proven cap of 500 last checked more than an hour ago
        When: a short page is read, the check finds more records, then another short page comes
        Then: the server's cap went down: only an empty page ends this run, and the check is recorded
        """
        stale = PageKnowledge(500, True, NOW.timestamp() - 3601)
        scan = Scan.begin(placed_cursor(), stale).feed(series(10), 500, read_rules()).scan
        scan = scan.feed(series(10, start=10), 500, read_rules()).scan
        assert scan.doubting is True
        assert scan.knowledge.checked_at == NOW.timestamp()
        scan = scan.feed(series(3, start=20), 500, read_rules()).scan
        assert scan.stop is None
        scan = scan.feed([], 500, read_rules()).scan
        assert scan.stop is Stop.END


# ============================================================================ tail planning


def seen(count: int, per_second: int) -> list[tuple[datetime, str]]:
    """(time, fingerprint) of `count` consumed records, `per_second` of them in each second from BASE."""
    return [(BASE + timedelta(seconds=index // per_second), f"fp{index:03d}") for index in range(count)]


class TestTailPlanning:
    """Which of the newest records the next cursor remembers."""

    def test_cut_moved_to_a_change_of_time(self) -> None:
        """
        Given: 101 records over three seconds (40, 40 and 21), and a budget of 100
        When: the tail is planned
        Then: the cut moves forward to where the time changes, so every known record at the floor is remembered
        """
        newest = seen(101, 40)[:80] + [(BASE + timedelta(seconds=2), f"late{index}") for index in range(21)]
        plan = plan_tail(newest, 100, 21, Cursor.starting_at(BASE))
        assert plan.floor == BASE + timedelta(seconds=1)
        assert plan.tail == LivePerson.tail_of(newest[40:])
        assert plan.behind == 0
        assert plan.bound_hit is False

    def test_cut_already_at_a_change_of_time(self) -> None:
        """
        Given: 150 records, 50 in each of three seconds, and a budget of 100
        When: the tail is planned
        Then: the last 100 are remembered from the second second on
        """
        newest = seen(150, 50)
        plan = plan_tail(newest, 100, 50, Cursor.starting_at(BASE))
        assert plan.floor == BASE + timedelta(seconds=1)
        assert sum(count for _, count in plan.tail) == 100
        assert plan.behind == 0

    def test_bound_hit_counts_the_rest_behind(self) -> None:
        """
        Given: the last 101 records in one second, 150 known records at that second in all, and a budget of 100
        When: the tail is planned
        Then: the last 100 are remembered and the other 50 are counted behind them
        """
        newest = seen(101, 1000)
        plan = plan_tail(newest, 100, 150, Cursor.starting_at(BASE))
        assert plan.bound_hit is True
        assert plan.tail == LivePerson.tail_of(newest[1:])
        assert plan.floor == BASE
        assert plan.behind == 50

    def test_old_floor_stays_when_the_whole_run_fits(self) -> None:
        """
        Given: a cursor whose floor is ten seconds before BASE with 2 known records behind it, and a run of three
        When: the tail is planned with room for all three
        Then: all three are remembered and the old floor and count behind it stay (late records down to it are
              still looked for)
        """
        origin = Cursor(floor=BASE - timedelta(seconds=10), behind=2)
        plan = plan_tail(seen(3, 1), 100, 1, origin)
        assert plan.tail == LivePerson.tail_of(seen(3, 1))
        assert plan.floor == BASE - timedelta(seconds=10)
        assert plan.behind == 2
        assert plan.bound_hit is False

    def test_budget_zero_remembers_nothing(self) -> None:
        """
        Given: a budget of 0 (a proven page of one record)
        When: the tail is planned
        Then: nothing is remembered, the floor is the newest time and every known record there is counted behind
        """
        newest = seen(3, 1)
        plan = plan_tail(newest, 0, 1, Cursor.starting_at(BASE))
        assert plan.tail == ()
        assert plan.floor == BASE + timedelta(seconds=2)
        assert plan.behind == 1

    def test_records_behind_the_old_tail_stay_behind(self) -> None:
        """
        Given: a cursor with 7 known records behind its tail at its floor, and a run that read only records there
        When: the tail is planned from the run's first record
        Then: the 7 are still counted behind
        """
        origin = Cursor(floor=BASE, tail=as_tail({"fp000": 1}), behind=7)
        plan = plan_tail(seen(3, 10), 100, 3, origin)
        assert plan.floor == BASE
        assert plan.behind == 7

    def test_twins_are_counted_twice(self) -> None:
        """
        Given: three consumed records, two of them identical twins
        When: the tail is planned
        Then: the twin's fingerprint is remembered with a count of two
        """
        plan = plan_tail([(BASE, "twin"), (BASE, "twin"), (BASE, "other")], 100, 3, Cursor.starting_at(BASE))
        assert plan.tail == (("other", 1), ("twin", 2))

    def test_keep_recent_keeps_only_the_pages_a_tail_can_come_from(self) -> None:
        """
        Given: three pages of 60 records each, fed one after the other
        When: the recent pages are kept
        Then: the oldest page is dropped once the newer ones hold more than the tail bound; empty pages add nothing
        """
        pages = [tuple(series(60, start=60 * index)) for index in range(3)]
        recent: tuple[tuple[dict[str, Any], ...], ...] = ()
        for page in pages:
            recent = keep_recent(recent, page)
        assert recent == (pages[1], pages[2])
        assert keep_recent(recent, ()) == recent


# ============================================================================ search and locate


def search_in(times: list[datetime], target: datetime, hint: int | None = None) -> tuple[int, list[int]]:
    """Runs a Search against a list of record times; returns the position found and the offsets probed."""
    search = Search(target, hint=hint)
    probes: list[int] = []
    while not search.found:
        offset = search.next_probe()
        probes.append(offset)
        search = search.after(offset, times[offset] if offset < len(times) else None)
        assert len(probes) <= 4 * len(times) + 8, "the search does not converge"
    return search.low, probes


def probe_bound(size: int) -> float:
    return 2 * math.log2(max(size, 1)) + 2


ONE_PER_SECOND = [BASE + timedelta(seconds=index) for index in range(1000)]
WITH_DUPLICATES = [BASE + timedelta(seconds=index // 7) for index in range(1000)]


class TestSearch:
    """Finding the first record at or after a time in O(log N) one-record reads."""

    @pytest.mark.parametrize(
        ("times", "target"),
        [
            pytest.param(ONE_PER_SECOND, BASE - timedelta(seconds=1), id="before-all"),
            pytest.param(ONE_PER_SECOND, BASE, id="first"),
            pytest.param(ONE_PER_SECOND, BASE + timedelta(seconds=700), id="inside"),
            pytest.param(ONE_PER_SECOND, BASE + timedelta(seconds=700.5), id="between-two"),
            pytest.param(ONE_PER_SECOND, BASE + timedelta(seconds=999), id="last"),
            pytest.param(ONE_PER_SECOND, BASE + timedelta(seconds=5000), id="after-all"),
            pytest.param(WITH_DUPLICATES, BASE + timedelta(seconds=77), id="first-of-duplicates"),
            pytest.param([], BASE, id="empty-answer"),
        ],
    )
    def test_finds_the_first_record_at_or_after_the_target(self, times: list[datetime], target: datetime) -> None:
        """
        Given: an answer's record times and a target
        When: the search runs without a hint
        Then: it finds the first position at or after the target, in at most 2·log2(N)+2 probes
        """
        position, probes = search_in(times, target)
        assert position == bisect.bisect_left(times, target)
        assert len(probes) <= probe_bound(len(times))

    def test_gallops_before_bisecting(self) -> None:
        """
        Given: 1000 records and a target at the 700th
        When: the search runs without a hint
        Then: it gallops from the start (+0, +1, +3, +7, ... from each new low) before it bisects
        """
        _, probes = search_in(ONE_PER_SECOND, ONE_PER_SECOND[700])
        assert probes[:10] == [0, 2, 6, 14, 30, 62, 126, 254, 510, 1022]

    def test_hint_is_tried_first_and_bounds_the_search(self) -> None:
        """
        Given: a hint at or after the target (the old offset, when only older days left the window)
        When: the search runs
        Then: the hint is probed first and every later probe lies below it
        """
        position, probes = search_in(ONE_PER_SECOND, ONE_PER_SECOND[400], hint=450)
        assert position == 400
        assert probes[0] == 450
        assert all(offset < 450 for offset in probes[1:])
        assert len(probes) <= probe_bound(1000)

    def test_hint_before_the_target_gallops_on_from_it(self) -> None:
        """
        Given: a hint before the target
        When: the search runs
        Then: the hint is probed first, and later probes all lie beyond it
        """
        position, probes = search_in(ONE_PER_SECOND, ONE_PER_SECOND[400], hint=300)
        assert position == 400
        assert probes[0] == 300
        assert all(offset > 300 for offset in probes[1:])

    def test_hint_below_the_known_low_is_ignored(self) -> None:
        """
        Given: a search that already knows everything before 10 is older, and a hint at 5
        When: the next probe is chosen
        Then: it gallops from 10
        """
        assert Search(BASE, low=10, hint=5).next_probe() == 10

    @pytest.mark.parametrize(
        "size",
        [pytest.param(size, id=f"N-{size}") for size in (2, 3, 10, 100, 1000, 4096, 10_000)],
    )
    def test_probes_stay_logarithmic(self, size: int) -> None:
        """
        Given: answers of N records (N >= 2), with repeated times, and targets all over them, with and without hints
        When: each search runs
        Then: each finds the right position in at most 2·log2(N)+2 probes
        """
        times = [BASE + timedelta(seconds=index // 3) for index in range(size)]
        for target_index in sorted({0, 1, size // 3, size // 2, size - 1, size}):
            target = times[target_index] if target_index < size else times[-1] + timedelta(seconds=1)
            for hint in (None, 0, target_index, min(size, target_index + 5), size // 2):
                position, probes = search_in(times, target, hint)
                assert position == bisect.bisect_left(times, target)
                assert len(probes) <= probe_bound(size)

    @pytest.mark.parametrize(
        ("target", "hint"),
        [
            pytest.param(BASE, None, id="at-the-record"),
            pytest.param(BASE + timedelta(seconds=1), None, id="after-the-record"),
            pytest.param(BASE + timedelta(seconds=1), 2, id="after-the-record-hint-beyond"),
        ],
    )
    def test_one_record_answer_takes_at_most_three_probes(self, target: datetime, hint: int | None) -> None:
        """
        Given: an answer of a single record (where 2·log2(N)+2 is 2)
        When: a target at it or after it is searched for
        Then: the position is found in at most three probes (one gallop past the end, one bisection)
        """
        position, probes = search_in([BASE], target, hint)
        assert position == bisect.bisect_left([BASE], target)
        assert len(probes) <= 3

    @pytest.mark.parametrize(
        ("target", "at_target"),
        [
            pytest.param(ONE_PER_SECOND[300], True, id="a-record-at-the-target"),
            pytest.param(ONE_PER_SECOND[300] + timedelta(milliseconds=500), False, id="only-records-after-it"),
            pytest.param(ONE_PER_SECOND[-1] + timedelta(seconds=1), False, id="answer-ends-before-it"),
        ],
    )
    def test_says_whether_a_record_is_at_the_target(self, target: datetime, at_target: bool) -> None:
        """
        Given: an answer and a target at a record's time, between two records, or after all of them
        When: the search has found the position
        Then: it says whether the record found is at the target itself
        """
        search = Search(target)
        while not search.found:
            offset = search.next_probe()
            search = search.after(offset, ONE_PER_SECOND[offset] if offset < len(ONE_PER_SECOND) else None)
        assert search.at_target is at_target

    def test_a_later_probe_does_not_raise_a_known_bound(self) -> None:
        """
        Given: a search that knows the record at 10 is at or after the target
        When: a record at 20 is reported at or after it too
        Then: the bound stays at 10
        """
        search = Search(BASE).after(10, BASE).after(20, BASE + timedelta(seconds=1))
        assert search.high == 10
        assert search.high_time == BASE

    def test_after_page(self) -> None:
        """
        Given: a whole page read at offset 100
        When: the page holds the target, holds only older records, or is empty
        Then: the position is found in it, known to lie beyond it, or found at the end of the answer
        """
        target = BASE + timedelta(seconds=10)
        inside = Search(target).after_page(100, [BASE, BASE + timedelta(seconds=10), BASE + timedelta(seconds=11)])
        assert inside.found is True
        assert inside.low == 101
        older = Search(target).after_page(100, [BASE, BASE + timedelta(seconds=1)])
        assert older.found is False
        assert older.low == 102
        empty = Search(target, low=100).after_page(100, [])
        assert empty.found is True
        assert empty.low == 100


class TestLocate:
    """Placing a cursor in a window: a first whole page while the page size is unproven, then one-record probes."""

    def test_first_page_learns_the_page_size_when_unproven(self) -> None:
        """
        Given: nothing known about the page size, and ten records in the window
        When: the cursor's floor (the fourth record's time) is located
        Then: the first read is a whole page at offset 0, which finds it and teaches a page of at least ten
        """
        source = ListSource(series(10))
        located = locate(
            source, WINDOW, Cursor.starting_at(BASE + timedelta(seconds=3)), PageKnowledge(), NOW, NO_DEADLINE
        )
        assert located.position == 3
        assert source.calls[0] == (WINDOW, 0, PAGE_REQUEST)
        assert located.reads == len(source.calls)
        assert located.knowledge == PageKnowledge(10, False)

    @pytest.mark.parametrize(
        ("floor", "position", "floor_present"),
        [
            pytest.param(BASE + timedelta(seconds=3), 3, True, id="a-record-at-the-floor"),
            pytest.param(BASE + timedelta(seconds=3.5), 4, False, id="no-record-at-the-floor"),
        ],
    )
    def test_says_whether_the_floor_itself_is_in_the_window(
        self, floor: datetime, position: int, floor_present: bool
    ) -> None:
        """
        Given: ten records a second apart and a proven page size
        When: a floor at a record's time, or between two records, is located
        Then: the first record at or after it is found, and whether it is at the floor itself
        """
        located = locate(ListSource(series(10)), WINDOW, Cursor.starting_at(floor), KNOWN_CAP, NOW, NO_DEADLINE)
        assert located.position == position
        assert located.floor_present is floor_present

    def test_whole_page_is_skipped_when_the_cap_is_proven(self) -> None:
        """
        Given: a proven page size, and 300 records
        When: the floor (the 200th record's time) is located
        Then: every read is a one-record probe, and the position is found
        """
        source = ListSource(series(300))
        floor = BASE + timedelta(seconds=200)
        located = locate(source, WINDOW, Cursor.starting_at(floor), KNOWN_CAP, NOW, NO_DEADLINE)
        assert located.position == 200
        assert {first for _, _, first in source.calls} == {1}
        assert located.reads == len(source.calls)
        assert located.knowledge == KNOWN_CAP

    def test_old_records_beyond_a_short_first_page_prove_the_cap(self) -> None:
        """
        Given: nothing known, a server returning five records a page, and 20 records three hours old
        When: a floor after all of them is located
        Then: the probes beyond the first page find records older than an hour: the cap is proven at five
        """
        source = ListSource(series(20, start=-3 * 3600), cap=5)
        located = locate(source, WINDOW, Cursor.starting_at(BASE), PageKnowledge(), NOW, NO_DEADLINE)
        assert located.position == 20
        assert located.knowledge == PageKnowledge(5, True)

    def test_old_offset_is_the_first_probe(self) -> None:
        """
        Given: a cursor placed at offset 12 with two remembered records, moved to a window with the same fromDate
        When: its floor is located with a proven page size
        Then: the first probe is where its floor's first record was (offset 10)
        """
        records = series(30)
        cursor = Cursor(
            floor=changed(records[10]), tail=as_tail({fingerprint(records[10]): 1, fingerprint(records[11]): 1})
        ).placed_at(WINDOW, 10)
        source = ListSource(records)
        wider = Window(WINDOW.from_day, WINDOW.to_day + timedelta(days=1))
        located = locate(source, wider, cursor, KNOWN_CAP, NOW, NO_DEADLINE)
        assert source.calls[0] == (wider, 10, 1)
        assert located.position == 10

    def test_out_of_time_before_a_probe(self) -> None:
        """
        Given: a proven page size and a deadline already passed
        When: a floor is located
        Then: OutOfTime is raised before any read
        """
        clock = FakeClock()
        source = ListSource(series(10))
        with pytest.raises(OutOfTime):
            locate(source, WINDOW, Cursor.starting_at(BASE), KNOWN_CAP, NOW, Deadline(clock() - 1, clock))
        assert source.calls == []


# ============================================================================ the reading loop


def read(
    source: ListSource,
    cursor: Cursor,
    knowledge: PageKnowledge = KNOWN_CAP,
    rules: ReadRules | None = None,
    deadline: Deadline = NO_DEADLINE,
) -> ReadOutcome:
    return read_audit_trail(source, cursor, knowledge, rules or read_rules(), deadline)


class TestReadAuditTrail:
    """read_audit_trail over a list-backed PageSource: what a run returns however it ends."""

    def test_reads_everything_new_and_stops_at_the_end(self) -> None:
        """
        Given: ten records since the cursor's floor
        When: a run reads them
        Then: all ten, oldest first, with their times; nothing more waiting and no error
        """
        records = series(10)
        outcome = read(ListSource(records), Cursor.starting_at(BASE))
        assert outcome.events == records
        assert outcome.event_times == [changed(item) for item in records]
        assert outcome.more_waiting is False
        assert outcome.error is None
        assert outcome.counts.delivered == 10

    def test_failure_mid_run_returns_what_was_read_and_the_matching_cursor(self) -> None:
        """
        Given: a server returning four records a page, failing for every page from offset 4 on
        When: a run reads, then the next run reads from the cursor it returned with the server healthy again
        Then: the first run returns the records it read, oldest first, with the error; the second returns
              exactly the others
        """
        records = series(10)
        failing = ListSource(records, cap=4, fail_from_offset=4)
        known = PageKnowledge(4, True, NOW.timestamp())
        first = read(failing, Cursor.starting_at(BASE), known)
        assert isinstance(first.error, LivePersonError)
        assert first.more_waiting is False
        assert 4 <= len(first.events) < 10
        assert first.events == records[: len(first.events)]
        assert first.cursor.offset == len(first.events)
        second = read(ListSource(records, cap=4), first.cursor, first.knowledge)
        assert second.error is None
        assert second.events == records[len(first.events) :]

    def test_answer_moving_under_the_read_ends_the_run_and_the_next_one_catches_up(self) -> None:
        """
        Given: a server returning five records a page, and a record committed just before the last record read
               while the run reads its second page
        When: the run reads, then the next one
        Then: the second page does not join the first: the run stops with more waiting; the next run delivers
              the late record and the rest, each record once
        """
        records = series(10)
        late = record_at(3.5, "late")
        source = ListSource(records, cap=5)
        pages_read: list[int] = []

        def commit_late_record_before_second_page() -> None:
            pages_read.append(len([call for call in source.calls if call[2] > 1]))
            if pages_read[-1] == 2 and late not in source.records:
                source.records = sorted([*source.records, late], key=changed)

        source.on_call = commit_late_record_before_second_page
        known = PageKnowledge(5, True, NOW.timestamp())
        first = read(source, Cursor.starting_at(BASE), known)
        assert first.more_waiting is True
        assert first.error is None
        assert first.events == records[:5]
        second = read(ListSource(source.records, cap=5), first.cursor, first.knowledge)
        assert names(first.events + second.events) == names(records[:5]) + ["late"] + names(records[5:])

    def test_failure_while_searching_keeps_the_floor(self) -> None:
        """
        Given: a server failing on the first read
        When: a run starts from an unplaced cursor
        Then: no events, the error, and a cursor still at its floor with no offset in the window
        """
        outcome = read(ListSource(series(5), fail_on_call=1), Cursor.starting_at(BASE))
        assert isinstance(outcome.error, LivePersonError)
        assert outcome.events == []
        assert outcome.cursor.floor == BASE
        assert outcome.cursor.window is not None
        assert outcome.cursor.placed is False

    def test_out_of_time_leaves_more_waiting(self) -> None:
        """
        Given: a server returning four records a page, each read taking 10 s, and a deadline 25 s away
        When: a run reads, then the next run reads from its cursor without a deadline
        Then: the first stops at the deadline with more waiting and no error; together they read each record once
        """
        records = series(10)
        clock = FakeClock()
        slow = ListSource(records, cap=4, on_call=lambda: clock.advance(10))
        known = PageKnowledge(4, True, NOW.timestamp())
        first = read(slow, Cursor.starting_at(BASE), known, deadline=Deadline(clock() + 25, clock))
        assert first.more_waiting is True
        assert first.error is None
        assert 0 < len(first.events) < 10
        assert first.events == records[: len(first.events)]
        second = read(ListSource(records, cap=4), first.cursor, first.knowledge)
        assert first.events + second.events == records

    def test_out_of_time_while_searching(self) -> None:
        """
        Given: a proven page size and a deadline already passed
        When: a run starts from an unplaced cursor
        Then: no events, more waiting, no error, and the cursor still unplaced at its floor
        """
        clock = FakeClock()
        source = ListSource(series(5))
        outcome = read(source, Cursor.starting_at(BASE), deadline=Deadline(clock() - 1, clock))
        assert outcome.more_waiting is True
        assert outcome.error is None
        assert outcome.events == []
        assert outcome.cursor.placed is False
        assert source.calls == []

    def test_limit_leaves_more_waiting(self) -> None:
        """
        Given: ten records and a limit of three
        When: two runs follow each other
        Then: each reads the next three, and says more is waiting
        """
        records = series(10)
        first = read(ListSource(records), Cursor.starting_at(BASE), rules=read_rules(limit=3))
        assert first.events == records[:3]
        assert first.more_waiting is True
        second = read(ListSource(records), first.cursor, first.knowledge, rules=read_rules(limit=3))
        assert second.events == records[3:6]
        assert second.more_waiting is True

    def test_until_ends_the_run(self) -> None:
        """
        Given: ten records and an end time at the fifth
        When: a run reads
        Then: the records up to the end time, and nothing more waiting
        """
        records = series(10)
        outcome = read(ListSource(records), Cursor.starting_at(BASE), rules=read_rules(until=changed(records[4])))
        assert outcome.events == records[:5]
        assert outcome.more_waiting is False

    def test_a_later_run_widens_the_window_without_searching(self) -> None:
        """
        Given: a run at 05:00 that placed its cursor, and records arriving until 10:00
        When: the next run comes at 10:01
        Then: the window only gains a later toDate: no search read, and exactly the new records
        """
        early = datetime(2024, 5, 1, 5, 0, tzinfo=UTC)
        before = [record(render(early - timedelta(seconds=30)), objectName="before")]
        after = [record(render(early + timedelta(hours=hours)), objectName=f"after{hours}") for hours in (1, 3, 5)]
        first = read(ListSource(before), Cursor.starting_at(early - timedelta(minutes=1)), rules=ReadRules(100, early))
        assert first.events == before
        second = read(ListSource(before + after), first.cursor, first.knowledge)
        assert second.events == after
        assert second.search_reads == 0
        assert first.cursor.window is not None
        assert second.cursor.window is not None
        assert second.cursor.window.from_day == first.cursor.window.from_day
        assert second.cursor.window.to_day > first.cursor.window.to_day

    def test_long_catch_up_reads_window_after_window(self) -> None:
        """
        Given: a cursor six days old and a record every six hours since
        When: one run reads
        Then: every record once, in order, through several windows of at most MAX_WINDOW_DAYS
        """
        start = NOW - timedelta(days=6)
        records = [record(render(start + timedelta(hours=6 * index)), objectName=f"q{index}") for index in range(25)]
        source = ListSource(records)
        outcome = read(source, Cursor.starting_at(start - timedelta(minutes=1)))
        assert outcome.events == records
        assert outcome.more_waiting is False
        windows = {window for window, _, _ in source.calls}
        assert len(windows) >= 2
        assert all((window.to_day - window.from_day).days <= LivePerson.MAX_WINDOW_DAYS for window in windows)

    def test_catch_up_longer_than_the_windows_of_one_run_goes_on_in_the_next(self) -> None:
        """
        Given: a cursor 100 days old and a record every day since
        When: runs follow each other
        Then: the first stops after MAX_WINDOWS_PER_RUN windows with more waiting (its time stays bounded);
              the runs together deliver every record once, in order
        """
        start = NOW - timedelta(days=100)
        records = [record(render(start + timedelta(days=day)), objectName=f"d{day}") for day in range(101)]
        source = ListSource(records)
        first = read(source, Cursor.starting_at(start - timedelta(minutes=1)))
        assert first.more_waiting is True
        assert first.error is None
        assert len({window for window, _, _ in source.calls}) == LivePerson.MAX_WINDOWS_PER_RUN
        delivered, outcome = list(first.events), first
        for _ in range(5):
            if not outcome.more_waiting:
                break
            outcome = read(ListSource(records), outcome.cursor, outcome.knowledge)
            delivered += outcome.events
        assert names(delivered) == names(records)

    def test_quiet_account_still_delivers_after_seventy_days(self) -> None:
        """
        Given: a record delivered, then 70 days without any change, then a new record
        When: three runs follow each other (runs in the quiet days leave the same floor and checkpoint)
        Then: the new record is delivered
        """
        old = record(render(NOW - timedelta(days=70)), objectName="old")
        start = Cursor.starting_at(NOW - timedelta(days=70, minutes=1))
        first = read(ListSource([old]), start, rules=ReadRules(5000, NOW - timedelta(days=70)))
        assert names(first.events) == ["old"]
        source = ListSource([old, record_at(30, "new")])
        delivered, outcome = [], first
        for minute in range(3):
            rules = ReadRules(5000, NOW + timedelta(minutes=minute))
            outcome = read(source, outcome.cursor, outcome.knowledge, rules=rules)
            delivered += names(outcome.events)
        assert delivered == ["new"]

    def test_quiet_runs_stay_cheap(self) -> None:
        """
        Given: a record delivered, then runs every six hours for twenty days without any change
        When: each run reads
        Then: no run needs more than four calls (one search and one page when the window moves)
        """
        old = record(render(NOW - timedelta(days=20)), objectName="old")
        source = ListSource([old])
        then = NOW - timedelta(days=20)
        outcome = read(source, Cursor.starting_at(then - timedelta(minutes=1)), rules=ReadRules(5000, then))
        costs = []
        for step in range(1, 20 * 4 + 1):
            before = len(source.calls)
            rules = ReadRules(5000, then + timedelta(hours=6 * step))
            outcome = read(source, outcome.cursor, outcome.knowledge, rules=rules)
            costs.append(len(source.calls) - before)
        assert max(costs) <= 4

    def test_version_1_state_with_an_incomplete_floor_delivers_nothing_twice(self) -> None:
        """
        Given: the previous release's state after 150 records in one second: the last 100 remembered, floor incomplete
        When: the first run after the upgrade reads, with one new record after that second
        Then: only the new record is delivered
        """
        burst = [record_at(5, f"user{index}") for index in range(150)]
        new = record_at(6, "new")
        v1_state = {
            "version": 1,
            "day": "2024-05-01",
            "offset": 150,
            "floor": "2024-05-01T10:00:05.000000Z",
            "floor_complete": False,
            "tail": {fingerprint(item): 1 for item in burst[50:]},
            "checkpoint": "2024-05-01T10:00:05.000000Z",
        }
        cursor = Cursor.from_last_run(v1_state)
        assert cursor is not None
        outcome = read(ListSource([*burst, new]), cursor)
        assert names(outcome.events) == ["new"]


# ============================================================================ fetch-events


class TestFetchEvents:
    """fetch-events: where it starts, what it pushes, and that it saves only what was pushed."""

    def test_first_run_starts_one_minute_ago(self, mocker: MockerFixture, api: LivePersonApi) -> None:
        """
        Given: an empty lastRun and records from two minutes and thirty seconds ago
        When: the first fetch runs
        Then: only the recent record is pushed; the state remembers it from where collection started,
              with nothing more waiting
        """
        api.trail.add(
            record("2024-05-01 09:59:00.0", objectName="old"), record("2024-05-01 10:00:30.0", objectName="new")
        )
        run = run_fetch(mocker, make_client(), {})
        assert names(run.pushed) == ["new"]
        assert run.saved is not None
        assert run.saved["version"] == LivePerson.STATE_VERSION
        assert run.saved["floor"] == "2024-05-01T10:00:00.000000Z"
        assert sum(run.saved["tail"].values()) == 1
        assert run.saved["checkpoint"] == "2024-05-01T10:00:30.000000Z"
        assert "nextTrigger" not in run.saved

    def test_push_names_the_dataset_and_the_reporting_host(self, mocker: MockerFixture, api: LivePersonApi) -> None:
        """
        Given: two new records, and independent copies of them taken before the run
        When: a fetch runs
        Then: send_events_to_xsiam gets the copies plus _time and source_log_type, for vendor LivePerson and
              product LiveEngage (dataset liveperson_liveengage_raw), with the Sentinel host as url_key
        """
        records = [record_at(10, "a", oldValue="1", newValue="2"), record_at(20.5, "b", oldValue=None, newValue="x")]
        api.trail.add(*records)
        originals = copy.deepcopy(records)
        send = mocker.patch.object(LivePerson, "send_events_to_xsiam")
        mocker.patch.object(demisto, "getLastRun", return_value={})
        mocker.patch.object(demisto, "setLastRun")
        client = make_client()
        LivePerson.fetch_events(client, client.settings, NOW, TimeBudgets())
        send.assert_called_once_with(
            [
                {**originals[0], "_time": "2024-05-01T10:00:10.000Z", "source_log_type": "audit"},
                {**originals[1], "_time": "2024-05-01T10:00:20.500Z", "source_log_type": "audit"},
            ],
            vendor="LivePerson",
            product="LiveEngage",
            url_key="auth_server_url",
        )

    def test_push_comes_before_save_even_with_no_events(self, mocker: MockerFixture, api: LivePersonApi) -> None:
        """
        Given: no new records
        When: a fetch runs through main()
        Then: an empty push happens (it feeds the ingestion health counter), then the state is saved
        """
        run = run_main(mocker, "fetch-events")
        assert run.order == ["push 0", "save"]
        assert run.exited is False

    def test_failed_push_saves_nothing(self, mocker: MockerFixture, api: LivePersonApi) -> None:
        """
        Given: a new record and an XSIAM push that fails
        When: a fetch runs through main()
        Then: the state is never saved and the error entry explains the failure
        """
        api.trail.add(*recent_records(1))
        run = run_main(mocker, "fetch-events", push_error=DemistoException("Error sending new events into XSIAM."))
        assert run.saved == []
        assert run.order == ["push 1", "entry"]
        assert (
            run.error_text() == "Failed to execute fetch-events command.\nError:\nError sending new events into XSIAM."
        )
        assert run.exited is True

    def test_failure_mid_run_saves_exactly_what_was_pushed(self, mocker: MockerFixture, api: LivePersonApi) -> None:
        """
        Given: a server returning five records a page that answers 500 for reads from offset 6 on
        When: a fetch runs through main(), then the next run with the server healthy
        Then: the first pushes the records it read, retrying at the injected sleep's pace, saves their state, then
              reports the error; the second pushes exactly the others
        """
        records = recent_records(12)
        api.trail.add(*records)
        api.trail.cap = 5
        api.trail.fail_from_offset = 6
        first = run_main(mocker, "fetch-events")
        pushed = names(first.pushes[0][0])
        assert first.order == [f"push {len(pushed)}", "save", "entry"]
        assert 5 <= len(pushed) < 12
        assert pushed == names(records[: len(pushed)])
        assert first.pauses == [5.0, 10.0, 15.0]
        assert "audit trail query: LivePerson answered HTTP 500" in first.error_text()
        api.trail.fail_from_offset = None
        second = run_main(mocker, "fetch-events", last_run=first.saved[0])
        assert second.order == [f"push {12 - len(pushed)}", "save"]
        assert names(second.pushes[0][0]) == names(records[len(pushed) :])

    def test_more_waiting_asks_for_the_next_run_at_once(self, mocker: MockerFixture, api: LivePersonApi) -> None:
        """
        Given: three new records and max_fetch 2
        When: two fetches run
        Then: the first pushes two and sets nextTrigger 0; the second pushes the third and does not
        """
        records = [record_at(10, "a"), record_at(20, "b"), record_at(30, "c")]
        api.trail.add(*records)
        first = run_fetch(mocker, make_client(max_fetch="2"), {})
        assert names(first.pushed) == ["a", "b"]
        assert first.saved is not None
        assert first.saved["nextTrigger"] == "0"
        second = run_fetch(mocker, make_client(max_fetch="2"), first.saved)
        assert names(second.pushed) == ["c"]
        assert second.saved is not None
        assert "nextTrigger" not in second.saved

    def test_out_of_time_pushes_what_was_read_and_asks_for_more(
        self, mocker: MockerFixture, api: LivePersonApi
    ) -> None:
        """
        Given: a new record and a fetch budget of 0 s
        When: a fetch runs, then another with the normal budget
        Then: the first stops before reading pages and asks for the next run at once; the second pushes the record
        """
        api.trail.add(record_at(30, "a"))
        first = run_fetch(mocker, make_client(), {}, budgets=TimeBudgets(fetch=0.0))
        assert first.error is None
        assert first.pushed == []
        assert first.saved is not None
        assert first.saved["nextTrigger"] == "0"
        second = run_fetch(mocker, make_client(), first.saved)
        assert names(second.pushed) == ["a"]

    def test_damaged_last_run_is_logged_and_collection_starts_again(
        self, mocker: MockerFixture, api: LivePersonApi
    ) -> None:
        """
        Given: our lastRun with an unreadable floor, and a record from thirty seconds ago
        When: a fetch runs
        Then: the damage is logged as an error and collection starts again from one minute ago
        """
        api.trail.add(record_at(30, "a"))
        error = mocker.patch.object(demisto, "error")
        run = run_fetch(mocker, make_client(), {"version": 2, "floor": "garbage"})
        error.assert_called_once_with(
            "[Fetch] lastRun is not readable (ValueError); starting again from one minute ago"
        )
        assert names(run.pushed) == ["a"]

    def test_foreign_last_run_starts_quietly(self, mocker: MockerFixture, api: LivePersonApi) -> None:
        """
        Given: the real mock's fixed lastRun, and a record from thirty seconds ago
        When: a fetch runs
        Then: collection starts one minute ago without an error
        """
        api.trail.add(record_at(30, "a"))
        error = mocker.patch.object(demisto, "error")
        run = run_fetch(mocker, make_client(), {"lastRun": "2018-10-24T14:13:20+00:00"})
        error.assert_not_called()
        assert names(run.pushed) == ["a"]

    def test_learned_page_size_serves_the_next_runs_of_the_same_account(
        self, mocker: MockerFixture, api: LivePersonApi
    ) -> None:
        """
        Given: a server returning five records a page, and twelve records; a first run learns its cap
        When: a run of the same account and one of another account start afresh
        Then: the same account locates with one-record probes only; the other account reads a whole page first
        """
        api.trail.add(*series(12))
        api.trail.cap = 5
        run_fetch(mocker, make_client(), {})
        assert api.trail.queries[0]["first"] == PAGE_REQUEST
        api.trail.queries.clear()
        run_fetch(mocker, make_client(), {})
        assert api.trail.queries[0]["first"] == 1
        api.add_account(OTHER_ACCOUNT)
        api.trail.queries.clear()
        run_fetch(mocker, make_client(account_id=OTHER_ACCOUNT), {})
        assert api.trail.queries[0]["first"] == PAGE_REQUEST

    def test_page_knowledge_is_stored_only_when_it_changed(self, mocker: MockerFixture) -> None:
        """
        Given: knowledge already stored next to a cached token
        When: the same knowledge is saved, then a new one
        Then: the first save writes nothing; the second replaces only the page entry
        """
        settings = make_settings()
        demisto.setIntegrationContext({"token": {"owner": "x"}})
        LivePerson.save_page_knowledge(settings, PageKnowledge(5, True, 1.0))
        write = mocker.spy(demisto, "setIntegrationContext")
        LivePerson.save_page_knowledge(settings, PageKnowledge(5, True, 1.0))
        write.assert_not_called()
        LivePerson.save_page_knowledge(settings, PageKnowledge(7, True, 2.0))
        write.assert_called_once()
        assert LivePerson.load_page_knowledge(settings) == PageKnowledge(7, True, 2.0)
        assert demisto.getIntegrationContext()["token"] == {"owner": "x"}

    def test_every_request_uses_https(self, mocker: MockerFixture, api: LivePersonApi) -> None:
        """
        Given: hosts given with and without https://
        When: a fetch runs discovery, token and audit calls
        Then: every request goes out over https
        """
        api.trail.add(record_at(30))
        run_fetch(mocker, make_client(auth_server_url=f"https://{AUTH_HOST}/"), {})
        schemes = {item.scheme for item in api.mock.request_history}
        assert schemes == {"https"}
        assert api.calls_to(TOKEN_URL) == 1


# ============================================================================ get-events


class TestGetEvents:
    """liveperson-get-events: the table and context, pushing on request, filters, and refused arguments."""

    def test_table_context_and_no_last_run(self, mocker: MockerFixture, api: LivePersonApi) -> None:
        """
        Given: records in the last three days and should_push_events left out
        When: liveperson-get-events runs with a limit of 2
        Then: two events, oldest first, in a table and in LivePerson.Event with the legacy keys;
              nothing pushed, lastRun neither read nor written
        """
        api.trail.add(
            record("2024-04-28 09:00:00.0", objectName="too-old"),
            record("2024-04-29 12:00:00.0", objectName="first", actionType="Add new", oldValue="", newValue="x"),
            record("2024-04-30 12:00:00.0", objectName="second"),
            record("2024-05-01 09:00:00.0", objectName="third"),
        )
        send = mocker.patch.object(LivePerson, "send_events_to_xsiam")
        set_last_run = mocker.patch.object(demisto, "setLastRun")
        get_last_run = mocker.patch.object(demisto, "getLastRun")
        result = get_events(make_client(), {"limit": "2"})
        assert names(result.outputs) == ["first", "second"]
        first = result.outputs[0]
        assert first["changeType"] == "Add new"
        assert first["userId"] == "1000001"
        assert first["changedBy"] == "Ada Admin"
        assert first["originatorLoginName"] == "ada.admin"
        assert "_time" not in first
        assert result.outputs_prefix == "LivePerson.Event"
        assert result.raw_response == [api.trail.records[1], api.trail.records[2]]
        assert result.readable_output is not None
        assert result.readable_output.startswith(
            "### LivePerson audit events from 2024-04-28T10:01:00.000000Z to 2024-05-01T10:01:00.000000Z"
        )
        assert "|Time (UTC)|Object Type|Object Name|Action|Element|Old → New|Originator|" in result.readable_output
        assert (
            "| 2024-04-29T12:00:00.000Z | Users | first | Add new | Max number of live chats |  → x | Ada Admin |"
            in result.readable_output
        )
        send.assert_not_called()
        set_last_run.assert_not_called()
        get_last_run.assert_not_called()

    def test_pushes_with_time_when_asked(self, mocker: MockerFixture, api: LivePersonApi) -> None:
        """
        Given: should_push_events true, a time window, and an independent copy of the record inside it
        When: liveperson-get-events runs
        Then: the copy plus _time and source_log_type is pushed like fetch-events does;
              the context shows the record as read
        """
        inside = record("2024-05-01 08:00:00.0", objectName="in")
        api.trail.add(inside, record("2024-05-01 09:30:00.0", objectName="after"))
        original = copy.deepcopy(inside)
        send = mocker.patch.object(LivePerson, "send_events_to_xsiam")
        result = get_events(
            make_client(),
            {"start_time": "2024-05-01T07:00:00Z", "end_time": "2024-05-01T09:00:00Z", "should_push_events": "true"},
        )
        send.assert_called_once_with(
            [{**original, "_time": "2024-05-01T08:00:00.000Z", "source_log_type": "audit"}],
            vendor="LivePerson",
            product="LiveEngage",
            url_key="auth_server_url",
        )
        assert result.raw_response == [original]
        assert "(1 pushed to XSIAM)" in result.readable_output

    @pytest.mark.parametrize(
        "originator",
        [
            pytest.param("ada.admin", id="login-name"),
            pytest.param("1000001", id="user-id"),
            pytest.param("ADA ADMIN", id="display-name-upper-case"),
            pytest.param("  Ada.Admin ", id="spaces-and-mixed-case"),
        ],
    )
    def test_originator_filter(self, api: LivePersonApi, originator: str) -> None:
        """
        Given: changes by Ada and by Bob
        When: liveperson-get-events runs with Ada's login name, user ID or display name in any case
        Then: only Ada's changes come back
        """
        api.trail.add(record_at(-600, "ada1"), record_at(-500, "bob1", **BOB), record_at(-400, "ada2"))
        result = get_events(make_client(), {"start_time": "1 hour", "originator": originator})
        assert names(result.outputs) == ["ada1", "ada2"]

    @pytest.mark.parametrize(
        ("args", "expected"),
        [
            pytest.param({"object_types": "users, PROFILES"}, ["user", "profile"], id="object-types"),
            pytest.param({"action_types": "add new,DELETE"}, ["profile", "skill"], id="action-types"),
            pytest.param({"object_types": "Skills", "action_types": "Edit"}, [], id="both-nothing-matches"),
            pytest.param({"object_types": '["Skills"]'}, ["skill"], id="json-list"),
        ],
    )
    def test_type_filters(self, api: LivePersonApi, args: dict[str, str], expected: list[str]) -> None:
        """
        Given: a user edited, a profile added and a skill deleted
        When: liveperson-get-events runs with object and action type filters, in any case
        Then: only the changes passing every filter come back
        """
        api.trail.add(
            record_at(-600, "user", objectType="Users", actionType="Edit"),
            record_at(-500, "profile", objectType="Profiles", actionType="Add new"),
            record_at(-400, "skill", objectType="Skills", actionType="Delete"),
        )
        result = get_events(make_client(), {"start_time": "1 hour", **args})
        assert names(result.outputs) == expected

    def test_limit_counts_matching_records(self, api: LivePersonApi) -> None:
        """
        Given: Ada's changes with many of Bob's between them
        When: liveperson-get-events runs with Ada's name and a limit of 2
        Then: Ada's first two changes come back
        """
        api.trail.add(
            record_at(-900, "bob1", **BOB),
            record_at(-800, "ada1"),
            *[record_at(-700 + index, f"bob-{index}", **BOB) for index in range(5)],
            record_at(-600, "ada2"),
            record_at(-500, "ada3"),
        )
        result = get_events(make_client(), {"start_time": "1 hour", "originator": "ada.admin", "limit": "2"})
        assert names(result.outputs) == ["ada1", "ada2"]

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            pytest.param(
                {"originator": "ada\x00admin"},
                "Argument 'originator' must be a value of 1 to 200 printable characters, e.g. 'ada.admin' or a "
                "user ID; got 'ada\x00admin'.",
                id="originator-control-character",
            ),
            pytest.param(
                {"originator": "a" * 201}, "Argument 'originator' must be a value of 1 to 200", id="originator-too-long"
            ),
            pytest.param(
                {"object_types": "Users,,Profiles"},
                "Argument 'object_types' must be a comma-separated list of values, each of 1 to 200 printable "
                "characters, e.g. 'Users,Profiles'; got 'Users,,Profiles'.",
                id="object-types-empty-item",
            ),
            pytest.param(
                {"action_types": "Edit,\x07"},
                "Argument 'action_types' must be a comma-separated list of values",
                id="action-types-control-character",
            ),
            pytest.param(
                {"limit": "0"}, "Argument 'limit' must be a whole number from 1 to 10000; got '0'.", id="limit-zero"
            ),
            pytest.param(
                {"limit": "-1"}, "Argument 'limit' must be a whole number from 1 to 10000", id="limit-negative"
            ),
            pytest.param({"limit": "ten"}, "Argument 'limit' must be a whole number from 1 to 10000", id="limit-text"),
            pytest.param({"limit": "10001"}, "Argument 'limit' must be a whole number from 1 to 10000", id="limit-cap"),
            pytest.param(
                {"start_time": "the other day"},
                "Argument 'start_time' must be a time such as '3 days', '2024-05-01T10:00:00Z' or epoch seconds; "
                "got 'the other day'.",
                id="start-time",
            ),
            pytest.param({"end_time": "whenever"}, "Argument 'end_time' must be a time such as", id="end-time"),
            pytest.param(
                {"start_time": "2024-05-01T09:00:00Z", "end_time": "2024-05-01T08:00:00Z"},
                "Argument 'end_time' (2024-05-01T08:00:00.000000Z) must not be before 'start_time' "
                "(2024-05-01T09:00:00.000000Z).",
                id="end-before-start",
            ),
            pytest.param(
                {"should_push_events": "maybe"},
                "Argument 'should_push_events' must be true or false; got 'maybe'.",
                id="should-push",
            ),
        ],
    )
    def test_bad_arguments_are_named(self, args: dict[str, Any], message: str) -> None:
        """
        Given: each malformed argument
        When: the arguments are read
        Then: an InputError names the argument and what is accepted (before any call is made)
        """
        with pytest.raises(InputError) as caught:
            GetEventsArgs.from_args(args, NOW)
        assert message in str(caught.value)

    def test_defaults(self) -> None:
        """
        Given: no arguments
        When: the arguments are read
        Then: 50 records of the last three days, not pushed, no filter
        """
        args = GetEventsArgs.from_args({}, NOW)
        assert args.limit == 50
        assert args.start == NOW - timedelta(days=3)
        assert args.end == NOW
        assert args.should_push is False
        assert args.record_filter == RecordFilter()
        assert args.record_filter.active is False

    @pytest.mark.parametrize(
        ("start_time", "start"),
        [
            pytest.param("1714550400", datetime(2024, 5, 1, 8, 0, tzinfo=UTC), id="epoch-seconds"),
            pytest.param("2024-05-01T09:00:00+02:00", datetime(2024, 5, 1, 7, 0, tzinfo=UTC), id="iso-with-offset"),
            pytest.param("2024-05-01 09:00", datetime(2024, 5, 1, 9, 0, tzinfo=UTC), id="no-zone-is-utc"),
            pytest.param("2 hours", NOW - timedelta(hours=2), id="relative"),
        ],
    )
    def test_time_forms(self, start_time: str, start: datetime) -> None:
        """
        Given: a start time as epoch seconds, ISO 8601, ISO without a zone, or relative to now
        When: the arguments are read
        Then: the same UTC instant
        """
        assert GetEventsArgs.from_args({"start_time": start_time}, NOW).start == start

    def test_end_time_in_the_future_is_now(self) -> None:
        """
        Given: an end time tomorrow
        When: the arguments are read
        Then: the end is now
        """
        assert GetEventsArgs.from_args({"end_time": "2024-05-02T10:00:00Z"}, NOW).end == NOW

    def test_filter_values_are_lower_cased(self) -> None:
        """
        Given: filters in mixed case with spaces
        When: the arguments are read
        Then: they are kept lower-cased and stripped, and the filter is active
        """
        record_filter = GetEventsArgs.from_args(
            {"originator": " Ada.Admin ", "object_types": "Users, Profiles", "action_types": "Add New"}, NOW
        ).record_filter
        assert record_filter == RecordFilter("ada.admin", frozenset({"users", "profiles"}), frozenset({"add new"}))
        assert record_filter.active is True

    def test_failure_is_raised_without_partial_results(self, api: LivePersonApi) -> None:
        """
        Given: an Audit Trail answering 403
        When: liveperson-get-events runs
        Then: the error is raised
        """
        api.mock.post(AUDIT_URL, status_code=403, text="Not Authorized")
        with pytest.raises(LivePersonError, match="HTTP 403"):
            get_events(make_client(), {})

    def test_through_main(self, mocker: MockerFixture, api: LivePersonApi) -> None:
        """
        Given: a record from an hour ago
        When: main() runs liveperson-get-events with a limit of 1
        Then: one entry with the record in its table and as its contents
        """
        api.trail.add(*recent_records(1, seconds_ago=3600))
        run = run_main(mocker, "liveperson-get-events", args={"limit": "1"})
        (entry,) = run.entries
        assert names(entry["Contents"]) == ["n0"]
        assert "| n0 |" in entry["HumanReadable"]
        assert run.saved == []
        assert run.pushes == []

    def test_bad_argument_through_main_is_an_error_entry(self, mocker: MockerFixture) -> None:
        """
        Given: a bad limit in the War Room
        When: main() runs the command
        Then: an error entry names the argument, with no traceback, and the process exits
        """
        run = run_main(mocker, "liveperson-get-events", args={"limit": "lots"})
        assert run.error_text() == (
            "Failed to execute liveperson-get-events command.\nError:\n"
            "Argument 'limit' must be a whole number from 1 to 10000; got 'lots'."
        )
        assert run.exited is True
        assert run.errors == ["[Main] liveperson-get-events failed: InputError"]


# ============================================================================ test-module


class TestTestModule:
    """test-module: ok, or the stage that failed and why, in the user's terms."""

    def test_ok(self, api: LivePersonApi) -> None:
        """
        Given: all three stages answering
        When: test-module runs
        Then: ok, after discovery, a fresh token and a one-record query, without touching the integration context
        """
        assert LivePerson.test_module(make_client(use_cache=False), NOW, TimeBudgets()) == "ok"
        assert api.calls_to(DOMAIN_URL) == 1
        assert api.calls_to(TOKEN_URL) == 1
        assert [query["first"] for query in api.trail.queries] == [1]
        assert demisto.getIntegrationContext() == {}

    def test_ok_through_main(self, mocker: MockerFixture, api: LivePersonApi) -> None:
        """
        Given: a token and a domain cached in the integration context, valid for the real clock
        When: main() runs test-module
        Then: the entry is ok; a fresh lookup and token were asked for anyway, and the cache is left as it was
        """
        make_client(clock=FakeClock(time.time())).get_token()
        make_client(clock=FakeClock(time.time())).get_domain()
        cached = copy.deepcopy(demisto.getIntegrationContext())
        run = run_main(mocker, "test-module")
        assert run.entries == ["ok"]
        assert api.calls_to(TOKEN_URL) == 2
        assert api.calls_to(DOMAIN_URL) == 2
        assert demisto.getIntegrationContext() == cached

    @pytest.mark.parametrize(
        ("url", "answer", "expected"),
        [
            pytest.param(
                DOMAIN_URL,
                {"status_code": 404, "text": "account not found"},
                "Test failed at the domain discovery stage. The Domain API does not know this account (HTTP 404",
                id="domain-unknown-account",
            ),
            pytest.param(
                DOMAIN_URL,
                {"exc": requests.exceptions.ConnectionError("Name or service not known")},
                "Test failed at the domain discovery stage. Domain API unreachable (api.liveperson.net)",
                id="domain-unreachable",
            ),
            pytest.param(
                DOMAIN_URL,
                {"json": {"baseURI": "evil.example/x"}},
                "Test failed at the domain discovery stage. The Domain API answered with a baseURI that is not a "
                "plain host name",
                id="domain-bad-base-uri",
            ),
            pytest.param(
                TOKEN_URL,
                {"status_code": 401, "json": {"error": "invalid_client"}},
                "Test failed at the token request stage. The authorization server refused the client credentials",
                id="token-refused",
            ),
            pytest.param(
                TOKEN_URL,
                {"exc": requests.exceptions.SSLError("certificate verify failed")},
                "Test failed at the token request stage. TLS failure reaching the authorization server "
                "va.sentinel.liveperson.net: its certificate is not trusted.",
                id="token-tls",
            ),
            pytest.param(
                TOKEN_URL,
                {"exc": requests.exceptions.ProxyError("proxy refused")},
                "Test failed at the token request stage. Proxy failure reaching the authorization server",
                id="token-proxy",
            ),
            pytest.param(
                TOKEN_URL,
                {"exc": requests.exceptions.ConnectionError("connection refused")},
                "Test failed at the token request stage. Could not connect to the authorization server "
                "va.sentinel.liveperson.net: check the host and your network path.",
                id="token-connection-refused",
            ),
            pytest.param(
                AUDIT_URL,
                {"status_code": 403, "text": "Not Authorized"},
                "Test failed at the audit trail query stage. LivePerson refused the Audit Trail query (HTTP 403",
                id="audit-forbidden",
            ),
            pytest.param(
                AUDIT_URL,
                {"exc": requests.exceptions.ConnectTimeout("timed out")},
                "Test failed at the audit trail query stage. Timeout reaching the account's Audit Trail domain",
                id="audit-connect-timeout",
            ),
            pytest.param(
                AUDIT_URL,
                {"exc": requests.exceptions.ReadTimeout("slow")},
                "Test failed at the audit trail query stage. Timeout reaching the account's Audit Trail domain",
                id="audit-read-timeout",
            ),
            pytest.param(
                AUDIT_URL,
                {"json": load_json("audit_graphql_errors.json")},
                "Test failed at the audit trail query stage. The Audit Trail rejected the query: Validation error",
                id="audit-graphql-errors",
            ),
        ],
    )
    def test_says_which_stage_failed(self, api: LivePersonApi, url: str, answer: dict[str, Any], expected: str) -> None:
        """
        Given: one stage failing in a particular way
        When: test-module runs
        Then: the message names the stage and the reason, and is not ok
        """
        method = "GET" if url == DOMAIN_URL else "POST"
        api.mock.register_uri(method, url, **answer)
        message = LivePerson.test_module(make_client(use_cache=False), NOW, TimeBudgets())
        assert message.startswith(expected)


# ============================================================================ main


class TestMain:
    """main(): dispatching, and how failures become error entries."""

    def test_unknown_command(self, mocker: MockerFixture) -> None:
        """
        Given: a command the integration does not have
        When: main() runs it
        Then: an error entry says so, and the failure is logged with its traceback
        """
        run = run_main(mocker, "liveperson-delete-everything")
        assert run.error_text() == (
            "Failed to execute liveperson-delete-everything command.\nError:\n"
            "Command liveperson-delete-everything is not implemented."
        )
        assert run.errors[0].startswith("[Main] liveperson-delete-everything failed unexpectedly:\nTraceback")

    def test_bad_parameter_is_an_error_entry(self, mocker: MockerFixture) -> None:
        """
        Given: an account ID with a dash
        When: main() runs fetch-events
        Then: the error entry names the parameter, nothing is pushed or saved, and only the error's type is logged
        """
        run = run_main(mocker, "fetch-events", params=make_params(account_id="le-1"))
        assert "Parameter 'Account ID' (account_id) must be 1 to 20 letters" in run.error_text()
        assert run.pushes == []
        assert run.saved == []
        assert run.errors == ["[Main] fetch-events failed: InputError"]

    def test_unreadable_record_is_an_error_entry_after_saving(self, mocker: MockerFixture, api: LivePersonApi) -> None:
        """
        Given: an Audit Trail answering a record whose changeDate cannot be read
        When: main() runs fetch-events
        Then: nothing is pushed, the unchanged start is saved, and the error entry quotes the changeDate
        """
        api.mock.post(AUDIT_URL, json={"data": {"auditData": [{"changeDate": "yesterday", "objectName": "x"}]}})
        run = run_main(mocker, "fetch-events")
        assert run.order == ["push 0", "save", "entry"]
        assert run.error_text() == (
            "Failed to execute fetch-events command.\nError:\n"
            "An audit record has an unreadable changeDate: 'yesterday'."
        )
        assert run.errors == ["[Main] fetch-events failed: LivePersonError"]

    def test_unexpected_failure_is_an_error_entry_with_a_logged_traceback(self, mocker: MockerFixture) -> None:
        """
        Given: a platform whose getLastRun fails with an error the integration does not expect
        When: main() runs fetch-events
        Then: the error entry carries the message, and the traceback goes to the error log
        """
        run = run_main(mocker, "fetch-events", last_run=RuntimeError("boom"))
        assert run.error_text() == "Failed to execute fetch-events command.\nError:\nboom"
        assert run.errors[0].startswith("[Main] fetch-events failed unexpectedly:\nTraceback")
        assert "RuntimeError: boom" in run.errors[0]


# ============================================================================ secrets


class TestSecrets:
    """The client secret and the token never reach logs, errors, lastRun or War Room entries."""

    def test_canary_secret_and_token_never_leak(self, mocker: MockerFixture, api: LivePersonApi) -> None:
        """
        Given: a canary client secret and token, and runs that succeed and fail (with a server echoing both)
        When: test-module, fetch-events and get-events run through main()
        Then: neither canary is in any log, entry, pushed event or saved lastRun, and the secret is not in the
              integration context (the token lives only there)
        """
        api.trail.add(*recent_records(2))
        runs = [run_main(mocker, command, args={"limit": "5"}) for command in ("test-module", "fetch-events")]
        runs.append(run_main(mocker, "liveperson-get-events", args={"limit": "5"}))
        api.mock.post(AUDIT_URL, status_code=500, text=f"echo {CANARY_SECRET} {CANARY_TOKEN}")
        failing = [run_main(mocker, command, args={"limit": "5"}) for command in ("test-module", "fetch-events")]
        stage_named = str(failing[0].entries[0]).startswith("Test failed at the audit trail query stage")
        assert stage_named
        echo_redacted = "echo <redacted> <redacted>" in str(failing[0].entries[0])
        assert echo_redacted
        assert failing[1].exited is True
        channels: dict[str, str] = {}
        for index, run in enumerate([*runs, *failing]):
            channels[f"logs {index}"] = "\n".join(run.logs)
            channels[f"entries {index}"] = json.dumps(run.entries, default=str)
            channels[f"pushed {index}"] = json.dumps(run.pushes, default=str)
            channels[f"saved {index}"] = json.dumps(run.saved, default=str)
        leaks = [name for name, text in channels.items() if contains_canary(text)]
        assert leaks == []
        assert sum(len(run.entries) for run in [*runs, *failing]) >= 4
        secret_in_context = CANARY_SECRET in json.dumps(demisto.getIntegrationContext())
        assert not secret_in_context

    def test_token_endpoint_echo_is_redacted(self, api: LivePersonApi) -> None:
        """
        Given: a token endpoint refusing the credentials and echoing the secret
        When: a token is requested
        Then: the error shows the echo with the secret redacted
        """
        api.mock.post(TOKEN_URL, status_code=400, text=f"invalid client_secret={CANARY_SECRET}")
        with pytest.raises(LivePersonError) as caught:
            make_client().get_token()
        echo_redacted = "(HTTP 400: invalid client_secret=<redacted>)" in str(caught.value)
        assert echo_redacted
        shows_secret = contains_canary(str(caught.value))
        assert not shows_secret

    def test_secret_and_token_are_registered_for_log_masking(self, mocker: MockerFixture, api: LivePersonApi) -> None:
        """
        Given: a client holding the canary secret
        When: it gets a token
        Then: both the secret and the token are registered with the platform's log masking
        """
        register = mocker.patch.object(LivePerson, "add_sensitive_log_strs")
        make_client().get_token()
        registered = [call.args[0] for call in register.call_args_list]
        secret_registered = CANARY_SECRET in registered
        token_registered = CANARY_TOKEN in registered
        assert secret_registered
        assert token_registered

    def test_cache_owners_are_hashes_without_the_secret(self, api: LivePersonApi) -> None:
        """
        Given: a client that cached a domain and a token
        When: the integration context is inspected
        Then: the owners are short hashes, different per entry, and the secret is nowhere in the context
        """
        client = make_client()
        client.get_domain()
        client.get_token()
        context = demisto.getIntegrationContext()
        owners = {context["domain"]["owner"], context["token"]["owner"]}
        assert len(owners) == 2
        assert all(re.fullmatch(r"[0-9a-f]{16}", owner) for owner in owners)
        secret_in_context = CANARY_SECRET in json.dumps(context)
        assert not secret_in_context
