"""Unit tests of the LivePerson collector: HTTP through requests_mock, the hard parts as pure functions."""

import demistomock as demisto
from CommonServerPython import DemistoException

import copy
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import LivePerson
import pytest
import requests
import requests_mock as requests_mock_module
from LivePerson import (
    Client,
    Cursor,
    DayScan,
    InputError,
    LivePersonError,
    build_audit_query,
    cursor_from_last_run,
    fingerprint,
    normalize_host,
    parse_change_date,
    plan_tail,
    retry_pause,
    settings_from_params,
    token_lifetime_seconds,
)
from pytest_mock import MockerFixture

TEST_DATA = Path(__file__).parent / "test_data"
ACCOUNT = "12345678"
AUTH_HOST = "va.sentinel.liveperson.net"
AUDIT_HOST = "va-a.acr.liveperson.net"
DOMAIN_URL = f"https://api.liveperson.net/api/account/{ACCOUNT}/service/accountConfigReadOnly/baseURI.json"
TOKEN_URL = f"https://{AUTH_HOST}/sentinel/api/v2/account/{ACCOUNT}/app/token"
AUDIT_URL = f"https://{AUDIT_HOST}/api/account/{ACCOUNT}/configuration/metadata/audit"
CANARY_SECRET = "canary-client-secret-7f3e"
CANARY_TOKEN = "canary-access-token.not-a-jwt"
NOW = datetime(2024, 5, 1, 10, 1, 0, tzinfo=UTC)


def util_load_json(name: str) -> Any:
    return json.loads((TEST_DATA / name).read_text(encoding="utf-8"))


def record(change_date: str, **overrides: Any) -> dict[str, Any]:
    """An audit record shaped like LivePerson's documented sample, at the given changeDate."""
    built = util_load_json("audit_record_template.json")
    built["changeDate"] = change_date
    built.update(overrides)
    return built


def make_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "auth_server_url": AUTH_HOST,
        "account_id": ACCOUNT,
        "credentials": {"identifier": "client-id-1", "password": CANARY_SECRET},
        "domain_api_host": "api.liveperson.net",
        "max_fetch": "5000",
        "insecure": False,
        "proxy": False,
    }
    params.update(overrides)
    return params


class FakeClock:
    """Time that moves only when the client sleeps (or a test says so)."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.pauses: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


def make_client(max_fetch: int = 5000, use_cache: bool = True, clock: FakeClock | None = None) -> Client:
    clock = clock or FakeClock()
    settings = settings_from_params(make_params(max_fetch=str(max_fetch)))
    return Client(settings, use_cache=use_cache, clock=clock, sleep=clock.sleep)


class FakeAuditTrail:
    """Answers the documented GraphQL query from an in-memory list, the way the API is documented to.

    Records are kept in ascending changeDate order (stable for equal times), the day filters are UTC
    and `toDate` is treated as inclusive, so a query for [D, D+1] returns both days in order.
    """

    def __init__(self, records: list[dict[str, Any]] | None = None) -> None:
        self.records: list[dict[str, Any]] = []
        self.queries: list[dict[str, Any]] = []
        self.add(*(records or []))

    def add(self, *records: dict[str, Any]) -> None:
        self.records = sorted([*self.records, *records], key=lambda item: parse_change_date(item["changeDate"]))

    def callback(self, request: Any, context: Any) -> dict[str, Any]:
        query = request.json()["query"]
        arguments = dict(re.findall(r"(\w+): \"?([\w\-]+)\"?", query))
        first, offset = int(arguments["first"]), int(arguments["offset"])
        from_day, to_day = date.fromisoformat(arguments["fromDate"]), date.fromisoformat(arguments["toDate"])
        self.queries.append(
            {"day": from_day, "offset": offset, "first": first, "auth": request.headers["Authorization"]}
        )
        selected = [item for item in self.records if from_day <= parse_change_date(item["changeDate"]).date() <= to_day]
        return {"data": {"auditData": copy.deepcopy(selected[offset : offset + first])}}


@pytest.fixture
def api(requests_mock: requests_mock_module.Mocker) -> Iterator[FakeAuditTrail]:
    """Domain API, token endpoint and Audit Trail, all answering normally."""
    trail = FakeAuditTrail()
    requests_mock.get(DOMAIN_URL, json=util_load_json("domain_response.json"))
    requests_mock.post(TOKEN_URL, json=util_load_json("token_response.json"))
    requests_mock.post(AUDIT_URL, json=trail.callback)
    yield trail


def calls_to(requests_mock: requests_mock_module.Mocker, url: str) -> int:
    return sum(1 for item in requests_mock.request_history if item.url.split("?")[0] == url)


def run_fetch(
    mocker: MockerFixture, client: Client, last_run: dict[str, Any], now: datetime = NOW
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One fetch-events run as main() does it: read, push, then save. Returns (pushed, saved)."""
    send = mocker.patch.object(LivePerson, "send_events_to_xsiam")
    save = mocker.patch.object(demisto, "setLastRun")
    events, outcome = LivePerson.fetch_events_command(client, last_run, now)
    LivePerson.push_then_save(events, LivePerson.next_run_from(outcome))
    pushed = send.call_args.args[0]
    saved = save.call_args.args[0]
    return pushed, saved


def state_at(day: str, offset: int, floor: str, tail: list[dict[str, Any]], complete: bool = True) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for item in tail:
        counts[fingerprint(item)] = counts.get(fingerprint(item), 0) + 1
    return {"version": 1, "day": day, "offset": offset, "floor": floor, "floor_complete": complete, "tail": counts}


# ============================================================================ 1. hosts and account ID


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("va.sentinel.liveperson.net", "va.sentinel.liveperson.net"),
        ("VA.Sentinel.LivePerson.net", "va.sentinel.liveperson.net"),
        ("va.sentinel.liveperson.net:443", "va.sentinel.liveperson.net:443"),
        ("https://va.sentinel.liveperson.net/", "va.sentinel.liveperson.net"),
        ("https://127.0.0.1:8443", "127.0.0.1:8443"),
        ("  lo.sentinel.liveperson.net  ", "lo.sentinel.liveperson.net"),
    ],
)
def test_hosts_accepted_forms(raw: str, expected: str) -> None:
    """
    Given: a bare host, host:port, or either with https:// and a trailing slash
    When: the parameter is read
    Then: the plain host[:port] is kept
    """
    assert normalize_host(raw, "auth_server_url", "Authorization Server URL") == expected


@pytest.mark.parametrize(
    "raw",
    [
        "http://va.sentinel.liveperson.net",
        "ftp://va.sentinel.liveperson.net",
        "va.sentinel.liveperson.net/sentinel",
        "va.sentinel.liveperson.net?x=1",
        "va sentinel.liveperson.net",
        "https://va.sentinel.liveperson.net//",
        "va.sentinel.liveperson.net:99999",
        "user@va.sentinel.liveperson.net",
        "-bad.liveperson.net",
    ],
)
def test_hosts_refused_forms_name_the_parameter(raw: str) -> None:
    """
    Given: a path, a query, spaces, another scheme, a bad port or credentials in the host
    When: the parameter is read
    Then: a clear error names the parameter and shows an accepted example
    """
    with pytest.raises(InputError) as caught:
        normalize_host(raw, "auth_server_url", "Authorization Server URL")
    assert "'Authorization Server URL' (auth_server_url)" in str(caught.value)
    assert "va.sentinel.liveperson.net" in str(caught.value)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"auth_server_url": ""}, "'Authorization Server URL' (auth_server_url) is required"),
        ({"domain_api_host": "api.liveperson.net/x"}, "'Domain API host' (domain_api_host) must be a host name"),
        ({"account_id": ""}, "'Account ID' (account_id) is required"),
        ({"account_id": "le-12345"}, "'Account ID' (account_id) must be 1 to 20 letters, digits or underscores"),
        ({"account_id": "a" * 21}, "'Account ID' (account_id) must be 1 to 20"),
        ({"credentials": {"identifier": "", "password": "x"}}, "'Client ID' (credentials) is required"),
        ({"credentials": {"identifier": "id", "password": ""}}, "'Client Secret' (credentials) is required"),
        ({"credentials": None}, "'Client ID' (credentials) is required"),
        ({"max_fetch": "0"}, "(max_fetch) must be a whole number from 1 to 100000; got '0'"),
        ({"max_fetch": "-5"}, "(max_fetch) must be a whole number from 1 to 100000; got '-5'"),
        ({"max_fetch": "abc"}, "(max_fetch) must be a whole number from 1 to 100000; got 'abc'"),
        ({"max_fetch": "2.5"}, "(max_fetch) must be a whole number from 1 to 100000; got '2.5'"),
        ({"max_fetch": "100001"}, "(max_fetch) must be a whole number from 1 to 100000; got '100001'"),
    ],
)
def test_bad_parameters_are_named(params: dict[str, Any], message: str) -> None:
    """
    Given: each malformed or missing parameter
    When: the settings are read
    Then: an InputError names the parameter and what is accepted, and never shows the secret
    """
    with pytest.raises(InputError) as caught:
        settings_from_params(make_params(**params))
    assert message in str(caught.value)
    assert CANARY_SECRET not in str(caught.value)


def test_defaults_when_optional_parameters_are_empty() -> None:
    """
    Given: no max_fetch and no Domain API host
    When: the settings are read
    Then: 5000 and api.liveperson.net are used, and the secret is not in the settings' repr
    """
    settings = settings_from_params(make_params(max_fetch="", domain_api_host=None))
    assert settings.max_fetch == 5000 and settings.domain_api_host == "api.liveperson.net"
    assert CANARY_SECRET not in repr(settings)


def test_every_request_uses_https(
    mocker: MockerFixture, api: FakeAuditTrail, requests_mock: requests_mock_module.Mocker
) -> None:
    """
    Given: hosts given with and without https://
    When: a fetch runs discovery, token and audit calls
    Then: every request goes out over https
    """
    settings = settings_from_params(make_params(auth_server_url=f"https://{AUTH_HOST}/"))
    client = Client(settings, clock=FakeClock(), sleep=lambda _: None)
    run_fetch(mocker, client, {})
    assert requests_mock.request_history and all(item.scheme == "https" for item in requests_mock.request_history)


# ============================================================================ 2. domain discovery


def test_domain_is_cached_with_a_time_to_live(api: FakeAuditTrail, requests_mock: requests_mock_module.Mocker) -> None:
    """
    Given: a resolved domain in the integration context
    When: a new client (a new run) asks for it before and after the time-to-live
    Then: the first is a cache hit, the second resolves again
    """
    clock = FakeClock()
    assert make_client(clock=clock).get_domain() == AUDIT_HOST
    assert make_client(clock=clock).get_domain() == AUDIT_HOST
    assert calls_to(requests_mock, DOMAIN_URL) == 1
    clock.now += LivePerson.DOMAIN_CACHE_TTL_SECONDS + 1
    make_client(clock=clock).get_domain()
    assert calls_to(requests_mock, DOMAIN_URL) == 2


def test_domain_cache_belongs_to_its_account(api: FakeAuditTrail, requests_mock: requests_mock_module.Mocker) -> None:
    """
    Given: a cached domain for another account
    When: this account's client asks for its domain
    Then: the cache entry is not used
    """
    demisto.setIntegrationContext({"domain": {"owner": "someone-else", "host": "evil.example", "resolved_at": 1e12}})
    assert make_client().get_domain() == AUDIT_HOST
    assert calls_to(requests_mock, DOMAIN_URL) == 1


def test_domain_re_resolved_after_connection_failure(requests_mock: requests_mock_module.Mocker) -> None:
    """
    Given: a cached domain that no longer answers, and a Domain API that now names another host
    When: an audit page is fetched
    Then: the domain is re-resolved and the query retried there once
    """
    moved = "lo-a.acr.liveperson.net"
    client = make_client()
    demisto.setIntegrationContext(
        {
            "domain": {
                "owner": LivePerson._cache_owner("api.liveperson.net", ACCOUNT),
                "host": AUDIT_HOST,
                "resolved_at": client.clock(),
            }
        }
    )
    requests_mock.get(DOMAIN_URL, json={"baseURI": moved})
    requests_mock.post(TOKEN_URL, json=util_load_json("token_response.json"))
    requests_mock.post(AUDIT_URL, exc=requests.exceptions.ConnectionError("connection refused"))
    requests_mock.post(AUDIT_URL.replace(AUDIT_HOST, moved), json={"data": {"auditData": []}})
    assert client.fetch_audit_page(build_audit_query(date(2024, 5, 1), 500, 0)) == []
    assert demisto.getIntegrationContext()["domain"]["host"] == moved
    assert client.calls[LivePerson.STAGE_AUDIT] == 4 + 1  # first try + 3 retries on the old host, then the new one


@pytest.mark.parametrize("base_uri", ["evil.example/steal?x=", "https://va-a.acr.liveperson.net", "a b", None, 42])
def test_discovered_base_uri_must_be_a_plain_host(requests_mock: requests_mock_module.Mocker, base_uri: Any) -> None:
    """
    Given: a Domain API answer whose baseURI is not a plain host name
    When: the domain is resolved
    Then: it is refused, so the token is never sent there
    """
    requests_mock.get(DOMAIN_URL, json={"baseURI": base_uri})
    with pytest.raises(LivePersonError, match="not a plain host name"):
        make_client().get_domain()


# ============================================================================ 3. token


def test_token_request_is_a_form_post_to_the_v2_endpoint(
    api: FakeAuditTrail, requests_mock: requests_mock_module.Mocker
) -> None:
    """
    Given: client credentials
    When: a token is requested
    Then: it is a form-encoded client_credentials grant at the v2 path
    """
    make_client().get_token()
    (request,) = [item for item in requests_mock.request_history if item.url == TOKEN_URL]
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert dict(pair.split("=") for pair in request.text.split("&")) == {
        "grant_type": "client_credentials",
        "client_id": "client-id-1",
        "client_secret": CANARY_SECRET,
    }


def test_token_reused_across_ten_runs(
    mocker: MockerFixture, api: FakeAuditTrail, requests_mock: requests_mock_module.Mocker
) -> None:
    """
    Given: ten fetch runs a minute apart, the token valid for an hour
    When: each run builds a new client (as each platform run does)
    Then: one token request and one domain lookup serve all ten runs
    """
    clock = FakeClock()
    last_run: dict[str, Any] = {}
    for minute in range(10):
        clock.now += 60
        _, last_run = run_fetch(mocker, make_client(clock=clock), last_run, NOW + timedelta(minutes=minute))
    assert calls_to(requests_mock, TOKEN_URL) == 1
    assert calls_to(requests_mock, DOMAIN_URL) == 1
    assert calls_to(requests_mock, AUDIT_URL) == 10


def test_token_renewed_shortly_before_expiry(api: FakeAuditTrail, requests_mock: requests_mock_module.Mocker) -> None:
    """
    Given: a cached one-hour token
    When: a run comes 5 minutes before it expires (inside the renewal margin) and one after
    Then: the early run reuses it, the late run gets a new one
    """
    clock = FakeClock()
    make_client(clock=clock).get_token()
    clock.now += 3600 - 400
    make_client(clock=clock).get_token()
    assert calls_to(requests_mock, TOKEN_URL) == 1
    clock.now += 200
    make_client(clock=clock).get_token()
    assert calls_to(requests_mock, TOKEN_URL) == 2


def test_token_lifetime_sources() -> None:
    """
    Given: a body with expires_in, one with only a JWT exp claim, and one with neither
    When: the lifetime is worked out
    Then: expires_in wins, then exp, then one hour
    """
    now = 1_700_000_000.0
    payload = LivePerson.base64.urlsafe_b64encode(json.dumps({"exp": now + 900}).encode()).decode().rstrip("=")
    jwt = f"eyJhbGciOiJSUzI1NiJ9.{payload}.signature"
    assert token_lifetime_seconds({"access_token": jwt, "expires_in": 120}, now) == 120
    assert token_lifetime_seconds({"access_token": jwt}, now) == 900
    assert token_lifetime_seconds({"access_token": "opaque"}, now) == 3600
    assert token_lifetime_seconds({"access_token": "a.b.c", "expires_in": "soon"}, now) == 3600


def test_401_renews_the_token_once(requests_mock: requests_mock_module.Mocker) -> None:
    """
    Given: a cached token the Audit Trail now rejects with 401
    When: a page is fetched
    Then: one new token is requested and the query succeeds with it
    """
    requests_mock.get(DOMAIN_URL, json=util_load_json("domain_response.json"))
    requests_mock.post(TOKEN_URL, [{"json": {"access_token": "first"}}, {"json": {"access_token": "second"}}])
    requests_mock.post(
        AUDIT_URL,
        [
            {"status_code": 401, "text": "token expired"},
            {"json": {"data": {"auditData": [record("2024-05-01 10:00:05.0")]}}},
        ],
    )
    client = make_client()
    client.get_token()
    page = client.fetch_audit_page(build_audit_query(date(2024, 5, 1), 500, 0))
    assert len(page) == 1
    audit_auth = [item.headers["Authorization"] for item in requests_mock.request_history if item.url == AUDIT_URL]
    assert audit_auth == ["Bearer first", "Bearer second"]
    assert demisto.getIntegrationContext()["token"]["access_token"] == "second"


def test_401_twice_is_a_clear_error(requests_mock: requests_mock_module.Mocker) -> None:
    """
    Given: an Audit Trail that rejects even a fresh token
    When: a page is fetched
    Then: the error says the fresh token was refused, without showing the token
    """
    requests_mock.get(DOMAIN_URL, json=util_load_json("domain_response.json"))
    requests_mock.post(TOKEN_URL, json=util_load_json("token_response.json"))
    requests_mock.post(AUDIT_URL, status_code=401, text="nope")
    with pytest.raises(LivePersonError, match="rejected a freshly issued token") as caught:
        make_client().fetch_audit_page(build_audit_query(date(2024, 5, 1), 500, 0))
    assert CANARY_TOKEN not in str(caught.value)
    assert calls_to(requests_mock, TOKEN_URL) == 2


@pytest.mark.parametrize("status", [400, 401])
def test_bad_client_credentials(requests_mock: requests_mock_module.Mocker, status: int) -> None:
    """
    Given: a token endpoint refusing the credentials
    When: a token is requested
    Then: one call (no retry) and a message pointing at Client ID/Secret and the region
    """
    requests_mock.post(TOKEN_URL, status_code=status, json={"error": "invalid_client"})
    with pytest.raises(LivePersonError, match="refused the client credentials") as caught:
        make_client().get_token()
    assert "Authorization Server URL" in str(caught.value)
    assert calls_to(requests_mock, TOKEN_URL) == 1


def test_token_answer_without_access_token(requests_mock: requests_mock_module.Mocker) -> None:
    """
    Given: a 200 token answer without access_token
    When: a token is requested
    Then: a clear error
    """
    requests_mock.post(TOKEN_URL, json={"token_type": "Bearer"})
    with pytest.raises(LivePersonError, match="without an access_token"):
        make_client().get_token()


# ============================================================================ 4. the audit trail query


def test_query_is_the_documented_graphql_body() -> None:
    """
    Given: a day, a page size and an offset
    When: the query is built
    Then: it selects every documented field, asks oldest first in UTC with LPA and automatic updates, one day wide
    """
    query = build_audit_query(date(2024, 5, 1), 500, 1500)
    assert query.startswith("{auditData(") and query.endswith("}}")
    for argument in [
        'fromDate: "2024-05-01"',
        'toDate: "2024-05-02"',
        "first: 500",
        "offset: 1500",
        'orderBy: ["changeTimestamp"]',
        'orderDirection: ["ASC"]',
        'timezone: "UTC"',
        'language: "en-US"',
        "lpa: true",
        "automaticUpdates: true",
    ]:
        assert argument in query
    selection = query[query.index(") {") + 3 : -2].split()
    assert selection == list(LivePerson.AUDIT_RECORD_FIELDS)


def test_audit_request_shape(api: FakeAuditTrail, requests_mock: requests_mock_module.Mocker) -> None:
    """
    Given: a resolved domain and a token
    When: a page is fetched
    Then: it is a JSON POST with a single query field and the bearer token
    """
    make_client().fetch_audit_page(build_audit_query(date(2024, 5, 1), 500, 0))
    (request,) = [item for item in requests_mock.request_history if item.url == AUDIT_URL]
    assert list(request.json()) == ["query"]
    assert request.headers["Authorization"] == f"Bearer {CANARY_TOKEN}"
    assert request.headers["Content-Type"] == "application/json"


def test_errors_array_in_a_200_is_a_failure(requests_mock: requests_mock_module.Mocker) -> None:
    """
    Given: a 200 answer carrying a GraphQL errors array
    When: a page is fetched
    Then: it fails with the server's message
    """
    requests_mock.get(DOMAIN_URL, json=util_load_json("domain_response.json"))
    requests_mock.post(TOKEN_URL, json=util_load_json("token_response.json"))
    requests_mock.post(AUDIT_URL, json=util_load_json("audit_graphql_errors.json"))
    with pytest.raises(LivePersonError, match="FieldUndefined: Field 'objectId'"):
        make_client().fetch_audit_page(build_audit_query(date(2024, 5, 1), 500, 0))


@pytest.mark.parametrize("body", [{"data": {}}, {"data": {"auditData": "x"}}, {"data": {"auditData": [1]}}, {}])
def test_unexpected_audit_shapes(body: dict[str, Any]) -> None:
    """
    Given: answers without a list of record objects
    When: they are read
    Then: a clear error instead of a crash later
    """
    with pytest.raises(LivePersonError, match="without a data.auditData list"):
        LivePerson.audit_records_from_body(body)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2019-11-12 06:10:46.0", datetime(2019, 11, 12, 6, 10, 46, tzinfo=UTC)),
        ("2019-11-12 06:10:46.123", datetime(2019, 11, 12, 6, 10, 46, 123000, tzinfo=UTC)),
        ("2019-11-12 06:10:46", datetime(2019, 11, 12, 6, 10, 46, tzinfo=UTC)),
        ("2017-12-05T11:47:06", datetime(2017, 12, 5, 11, 47, 6, tzinfo=UTC)),
        ("2024-05-01T12:00:05+02:00", datetime(2024, 5, 1, 10, 0, 5, tzinfo=UTC)),
    ],
)
def test_change_date_parsed_as_utc(raw: str, expected: datetime) -> None:
    """
    Given: changeDate as the JSON API and the CSV export render it
    When: parsed
    Then: an aware UTC datetime, whatever the machine's time zone
    """
    assert parse_change_date(raw) == expected


def test_unreadable_change_date() -> None:
    """
    Given: a record whose changeDate cannot be read
    When: it is parsed
    Then: a clear error quoting it
    """
    with pytest.raises(LivePersonError, match="unreadable changeDate: 'yesterday'"):
        parse_change_date("yesterday")


@pytest.mark.parametrize(
    ("change_date", "expected"),
    [
        ("2024-05-01 10:00:05.5", "2024-05-01T10:00:05.500Z"),
        ("2024-05-01 10:00:05", "2024-05-01T10:00:05.000Z"),
        ("2024-05-01T10:00:05.123456", "2024-05-01T10:00:05.123Z"),
        ("2024-05-01T12:00:05.5+02:00", "2024-05-01T10:00:05.500Z"),
        ("2024-05-01 10:00:05.5Z", "2024-05-01T10:00:05.500Z"),
        ("2024-05-01 10:00:05.3-05", "2024-05-01T15:00:05.300Z"),
    ],
)
def test_time_is_utc_whatever_the_rendering(change_date: str, expected: str) -> None:
    """
    Given: changeDate in LivePerson's UTC rendering, and with an offset or a Z
    When: the event's _time is set
    Then: it is the UTC instant with milliseconds: the text is reused only when it has no offset
    """
    assert LivePerson.to_xsiam_event(record(change_date))["_time"] == expected


def test_event_shape_for_xsiam() -> None:
    """
    Given: a raw record
    When: it becomes an XSIAM event
    Then: every field is kept, plus _time (ISO 8601 UTC) and source_log_type audit
    """
    raw = record("2024-05-01 10:00:05.5")
    event = LivePerson.to_xsiam_event(raw)
    assert event == {**raw, "_time": "2024-05-01T10:00:05.500Z", "source_log_type": "audit"}


# ============================================================================ 5. exactly-once: the pure reader


def scan_pages(cursor: Cursor, pages: list[list[dict[str, Any]]], limit: int = 10_000, page_size: int = 3) -> DayScan:
    scan = DayScan(cursor, limit)
    for page in pages:
        if scan.done:
            break
        scan.feed(page, page_size)
    return scan


def test_records_sharing_one_second_across_a_page_boundary() -> None:
    """
    Given: five records in the same second split over two pages
    When: they are scanned from the start
    Then: all five are delivered once, and the tail remembers all five at that second
    """
    same = [record("2024-05-01 10:00:05.0", objectName=f"user{index}") for index in range(5)]
    cursor = Cursor(date(2024, 5, 1), 0, datetime(2024, 5, 1, 10, tzinfo=UTC))
    scan = scan_pages(cursor, [same[:3], same[3:]])
    assert scan.result.events == same
    after = scan.next_cursor()
    assert after.offset == 5 and after.tail_size == 5 and after.floor_complete


def test_identical_twins_are_both_delivered_and_both_remembered() -> None:
    """
    Given: two byte-identical records (two real changes in the same second)
    When: they are scanned, then re-read in the next run with one more twin arriving
    Then: both are delivered first, only the third the next time
    """
    twin = record("2024-05-01 10:00:05.0")
    cursor = Cursor(date(2024, 5, 1), 0, datetime(2024, 5, 1, 10, tzinfo=UTC))
    first = scan_pages(cursor, [[twin, twin]])
    assert first.result.events == [twin, twin]
    resumed = first.next_cursor()
    assert resumed.tail == {fingerprint(twin): 2}
    second = scan_pages(resumed, [[twin, twin, twin]], page_size=500)
    assert second.result.events == [twin]
    assert second.next_cursor().tail == {fingerprint(twin): 3}


def test_limit_stops_mid_second_and_the_next_run_continues_inside_it() -> None:
    """
    Given: four records in one second and a limit of two
    When: one run stops at the limit and the next resumes
    Then: the second run re-reads the two delivered, skips them, and delivers the other two
    """
    same = [record("2024-05-01 10:00:05.0", objectName=f"user{index}") for index in range(4)]
    cursor = Cursor(date(2024, 5, 1), 0, datetime(2024, 5, 1, 10, tzinfo=UTC))
    first = scan_pages(cursor, [same], limit=2, page_size=500)
    assert first.result.events == same[:2] and first.result.limit_reached
    resumed = first.next_cursor()
    assert resumed.offset == 2 and resumed.reread_offset == 0
    second = scan_pages(resumed, [same], page_size=500)
    assert second.result.events == same[2:]
    assert second.result.known_skipped == 2


def test_record_appearing_behind_the_resume_point_is_delivered() -> None:
    """
    Given: three delivered records, then a new one that sorts before the last of them
    When: the next run re-reads the tail
    Then: the newcomer is delivered, the shifted old record is skipped, nothing else is sent
    """
    a, b, c = (
        record(f"2024-05-01 10:00:0{second}.0", objectName=name) for second, name in [(1, "a"), (2, "b"), (3, "c")]
    )
    first = scan_pages(Cursor(date(2024, 5, 1), 0, datetime(2024, 5, 1, 10, tzinfo=UTC)), [[a, b, c]], page_size=500)
    resumed = first.next_cursor()
    late = record("2024-05-01 10:00:02.0", objectName="late")
    second = scan_pages(resumed, [[a, b, late, c]], page_size=500)
    assert second.result.events == [late]
    assert second.result.appeared_behind == 0
    assert second.next_cursor().offset == 4


def test_giant_burst_split_by_the_limit_resumes_exactly() -> None:
    """
    Given: 250 records in one second (more than the state remembers) and a limit of 120
    When: runs follow each other
    Then: every record is delivered once: past the last remembered record, the position decides, not the time
    """
    burst = [record("2024-05-01 10:00:05.0", objectName=f"bulk{index % 7}") for index in range(250)]
    cursor = Cursor(date(2024, 5, 1), 0, datetime(2024, 5, 1, 10, tzinfo=UTC))
    delivered: list[dict[str, Any]] = []
    for _ in range(3):
        scan = scan_pages(cursor, [burst[cursor.reread_offset :]], limit=120, page_size=500)
        delivered += scan.result.events
        cursor = scan.next_cursor()
        assert scan.result.appeared_behind == 0
    assert len(delivered) == 250 and cursor.offset == 250
    assert sorted(item["objectName"] for item in delivered) == sorted(item["objectName"] for item in burst)


def test_record_older_than_the_remembered_tail_is_reported(mocker: MockerFixture) -> None:
    """
    Given: a remembered tail whose oldest record is at 10:00:03, and a record at 10:00:01 that appears inside it
    When: the run re-reads the tail
    Then: the record cannot be told apart from a delivered one: it is counted and logged as an error, not sent
    """
    old = record("2024-05-01 10:00:01.0", objectName="old")
    kept = record("2024-05-01 10:00:03.0", objectName="kept")
    cursor = cursor_from_last_run(state_at("2024-05-01", 5, "2024-05-01T10:00:03.000000Z", [kept]), NOW)
    scan = scan_pages(cursor, [[old, kept]], page_size=500)
    assert scan.result.events == [] and scan.result.appeared_behind == 1
    error = mocker.patch.object(demisto, "error")
    LivePerson.log_scan(scan.next_cursor(), scan.result)
    assert "1 record(s) older than the last 100 delivered appeared behind the resume point" in error.call_args.args[0]


def test_first_run_skips_older_records_silently() -> None:
    """
    Given: a first-run cursor one minute before now, on a day with older records
    When: the day is scanned
    Then: only records from one minute ago on are delivered, and nothing is reported as anomalous
    """
    older = [record("2024-05-01 09:00:00.0"), record("2024-05-01 09:59:59.0")]
    recent = [record("2024-05-01 10:00:00.0"), record("2024-05-01 10:00:30.0")]
    scan = scan_pages(LivePerson.first_run_cursor(NOW), [older + recent], page_size=500)
    assert scan.result.events == recent
    assert scan.result.older_skipped == 2 and scan.result.appeared_behind == 0


def test_tail_is_bounded_and_cut_at_a_change_of_time() -> None:
    """
    Given: 150 records over 3 seconds (50 each), read in one run
    When: the tail is planned
    Then: at most 100 are remembered, cut where the time changes, so the floor is complete
    """
    base = datetime(2024, 5, 1, 10, tzinfo=UTC)
    seen = [(base + timedelta(seconds=index // 50), f"fp{index}") for index in range(150)]
    tail, floor, complete, bound_hit = plan_tail(seen, base - timedelta(seconds=1), True)
    assert sum(tail.values()) == 100 and floor == base + timedelta(seconds=1)
    assert complete and not bound_hit


def test_tail_bound_hit_inside_one_second(mocker: MockerFixture) -> None:
    """
    Given: 5,000 records in one second
    When: they are delivered and the state planned
    Then: the state remembers the last 100, marks the floor incomplete, stays a few KB, and says so in the log
    """
    same = [record("2024-05-01 10:00:05.0", objectName=f"user{index}") for index in range(5000)]
    scan = scan_pages(Cursor(date(2024, 5, 1), 0, datetime(2024, 5, 1, 10, tzinfo=UTC)), [same], page_size=10_000)
    after = scan.next_cursor()
    assert len(scan.result.events) == 5000 and after.offset == 5000
    assert after.tail_size == 100 and not after.floor_complete and scan.result.bound_hit
    assert len(json.dumps(after.to_last_run())) < 3000
    info = mocker.patch.object(demisto, "info")
    LivePerson.log_scan(after, scan.result)
    assert "more than 100 records share the timestamp" in info.call_args.args[0]


def test_next_day_record_ends_the_day() -> None:
    """
    Given: a page (toDate inclusive) holding the end of one day and the start of the next
    When: it is scanned for the first day
    Then: the day is exhausted at the first record of the next day, which is not consumed
    """
    page = [record("2024-05-01 23:59:59.0"), record("2024-05-02 00:00:00.0")]
    scan = scan_pages(Cursor(date(2024, 5, 1), 0, datetime(2024, 5, 1, tzinfo=UTC)), [page], page_size=500)
    assert scan.result.day_exhausted and scan.result.consumed == 1 and len(scan.result.events) == 1


def test_state_round_trip_and_foreign_last_run() -> None:
    """
    Given: our own state, the real mock's fixed lastRun, an empty one and a corrupt one
    When: each is read
    Then: ours round-trips; the others start one minute before now
    """
    cursor = Cursor(
        date(2024, 5, 1),
        7,
        datetime(2024, 5, 1, 10, tzinfo=UTC),
        False,
        {"abc": 2},
        datetime(2024, 5, 1, 10, 0, 5, tzinfo=UTC),
    )
    assert cursor_from_last_run(cursor.to_last_run(), NOW) == cursor
    for foreign in [{"lastRun": "2018-10-24T14:13:20+00:00"}, {}, None, {"version": 1, "day": "bad"}]:
        fresh = cursor_from_last_run(foreign, NOW)
        assert fresh.floor == NOW - timedelta(minutes=1) and fresh.offset == 0 and fresh.seeking


# ============================================================================ 5b. exactly-once over HTTP, run after run


def test_resume_after_max_fetch_does_not_re_read_the_day(mocker: MockerFixture, api: FakeAuditTrail) -> None:
    """
    Given: 1,200 records today and max_fetch 1,000
    When: two runs follow each other
    Then: the first asks to run again at once, the second starts near offset 1,000 (not 0),
          and every record is sent once
    """
    api.add(*[record(f"2024-05-01 10:00:{index // 40:02d}.0", objectName=f"o{index}") for index in range(1200)])
    pushed_1, state_1 = run_fetch(
        mocker,
        make_client(max_fetch=1000),
        {
            "version": 1,
            **LivePerson.first_run_cursor(NOW.replace(minute=0, second=0) + timedelta(minutes=1)).to_last_run(),
        },
    )
    assert len(pushed_1) == 1000 and state_1["nextTrigger"] == "0"
    api.queries.clear()
    pushed_2, state_2 = run_fetch(mocker, make_client(max_fetch=1000), state_1)
    assert api.queries[0]["offset"] >= 1000 - LivePerson.TAIL_MAX_RECORDS
    assert len(pushed_2) == 200 and "nextTrigger" not in state_2
    names = [event["objectName"] for event in pushed_1 + pushed_2]
    assert sorted(names) == sorted(f"o{index}" for index in range(1200))


def test_fifty_runs_with_live_arrivals_exactly_once(mocker: MockerFixture, api: FakeAuditTrail) -> None:
    """
    Given: records arriving between runs, many sharing a second, some identical twins, across midnight
    When: fifty one-minute runs follow each other with max_fetch 7
    Then: every record is pushed exactly once
    """
    start = datetime(2024, 5, 1, 23, 40, tzinfo=UTC)
    clock = FakeClock()
    last_run = LivePerson.first_run_cursor(start).to_last_run()
    expected: list[str] = []
    pushed: list[str] = []
    for minute in range(50):
        now = start + timedelta(minutes=minute)
        second = now.strftime("%Y-%m-%d %H:%M:%S.0")
        batch = [record(second, objectName=f"m{minute}-{index}") for index in range(minute % 4)]
        if minute % 5 == 0:
            twin = record(second, objectName=f"twin{minute}")
            batch += [twin, copy.deepcopy(twin)]
        api.add(*batch)
        expected += [item["objectName"] for item in batch]
        clock.now += 60
        events, last_run = run_fetch(
            mocker, make_client(max_fetch=7, clock=clock), last_run, now + timedelta(seconds=30)
        )
        pushed += [event["objectName"] for event in events]
    for _ in range(10):  # drain what max_fetch held back
        clock.now += 60
        events, last_run = run_fetch(
            mocker, make_client(max_fetch=7, clock=clock), last_run, start + timedelta(minutes=51)
        )
        pushed += [event["objectName"] for event in events]
    assert sorted(pushed) == sorted(expected)
    assert last_run["day"] == "2024-05-02"


def test_day_rollover_inside_one_run(mocker: MockerFixture, api: FakeAuditTrail) -> None:
    """
    Given: a state on May 1st and records on both sides of midnight UTC
    When: one run happens after midnight
    Then: it finishes May 1st and continues into May 2nd, sending each record once, in order
    """
    api.add(record("2024-05-01 23:59:58.0", objectName="before"), record("2024-05-02 00:00:01.0", objectName="after"))
    last_run = LivePerson.first_run_cursor(datetime(2024, 5, 1, 23, 59, tzinfo=UTC)).to_last_run()
    pushed, state = run_fetch(mocker, make_client(), last_run, datetime(2024, 5, 2, 0, 1, tzinfo=UTC))
    assert [event["objectName"] for event in pushed] == ["before", "after"]
    assert state["day"] == "2024-05-02" and state["offset"] == 1
    assert [query["day"] for query in api.queries] == [date(2024, 5, 1), date(2024, 5, 2)]


def test_exclusive_to_date_is_handled_too(mocker: MockerFixture, requests_mock: requests_mock_module.Mocker) -> None:
    """
    Given: a server whose toDate is exclusive (a query for [D, D+1) holds day D only)
    When: runs cross midnight
    Then: the same records arrive once each
    """
    trail = FakeAuditTrail(
        [record("2024-05-01 23:59:58.0", objectName="before"), record("2024-05-02 00:00:01.0", objectName="after")]
    )
    original = trail.callback

    def exclusive(request: Any, context: Any) -> dict[str, Any]:
        body = original(request, context)
        day = trail.queries[-1]["day"]
        body["data"]["auditData"] = [
            item for item in body["data"]["auditData"] if parse_change_date(item["changeDate"]).date() == day
        ]
        return body

    requests_mock.get(DOMAIN_URL, json=util_load_json("domain_response.json"))
    requests_mock.post(TOKEN_URL, json=util_load_json("token_response.json"))
    requests_mock.post(AUDIT_URL, json=exclusive)
    last_run = LivePerson.first_run_cursor(datetime(2024, 5, 1, 23, 59, tzinfo=UTC)).to_last_run()
    pushed, _ = run_fetch(mocker, make_client(), last_run, datetime(2024, 5, 2, 0, 1, tzinfo=UTC))
    assert [event["objectName"] for event in pushed] == ["before", "after"]


# ============================================================================ 6. push, then save


def test_first_run_starts_one_minute_ago(mocker: MockerFixture, api: FakeAuditTrail) -> None:
    """
    Given: an empty lastRun and records from two minutes and thirty seconds ago
    When: the first fetch runs
    Then: only the recent record is sent, with _time and source_log_type
    """
    api.add(record("2024-05-01 09:59:00.0", objectName="old"), record("2024-05-01 10:00:30.0", objectName="new"))
    pushed, state = run_fetch(mocker, make_client(), {})
    assert [event["objectName"] for event in pushed] == ["new"]
    assert pushed[0]["_time"] == "2024-05-01T10:00:30.000Z" and pushed[0]["source_log_type"] == "audit"
    assert state["checkpoint"] == "2024-05-01T10:00:30.000000Z"


def test_push_comes_before_save_even_with_no_events(mocker: MockerFixture, api: FakeAuditTrail) -> None:
    """
    Given: no new records
    When: a fetch runs through main()
    Then: send_events_to_xsiam is called (with an empty list, for the health counter) before setLastRun
    """
    order: list[str] = []
    mocker.patch.object(demisto, "params", return_value=make_params())
    mocker.patch.object(demisto, "command", return_value="fetch-events")
    mocker.patch.object(demisto, "getLastRun", return_value={})
    mocker.patch.object(
        LivePerson, "send_events_to_xsiam", side_effect=lambda events, **kwargs: order.append(f"send {len(events)}")
    )
    mocker.patch.object(demisto, "setLastRun", side_effect=lambda state: order.append("save"))
    LivePerson.main()
    assert order == ["send 0", "save"]


def test_failed_push_saves_nothing(mocker: MockerFixture, api: FakeAuditTrail) -> None:
    """
    Given: records to send and an XSIAM push that fails
    When: a fetch runs through main()
    Then: setLastRun is never called and the error entry explains the failure
    """
    api.add(record("2024-05-01 10:00:30.0"))
    mocker.patch.object(demisto, "params", return_value=make_params())
    mocker.patch.object(demisto, "command", return_value="fetch-events")
    mocker.patch.object(demisto, "getLastRun", return_value={})
    mocker.patch.object(
        LivePerson, "send_events_to_xsiam", side_effect=DemistoException("Error sending new events into XSIAM.")
    )
    save = mocker.patch.object(demisto, "setLastRun")
    results = mocker.patch.object(demisto, "results")
    with pytest.raises(SystemExit):
        LivePerson.main()
    save.assert_not_called()
    assert "Error sending new events into XSIAM." in results.call_args.args[0]["Contents"]


def test_failure_mid_run_saves_only_what_was_pushed(
    mocker: MockerFixture, requests_mock: requests_mock_module.Mocker
) -> None:
    """
    Given: a first page that answers and a second that keeps failing with 500
    When: a fetch runs through main()
    Then: the first page's events are pushed, the state resumes right after them, and the run reports the error
    """
    first_page = [record(f"2024-05-01 10:00:{index % 60:02d}.0", objectName=f"p{index}") for index in range(500)]
    requests_mock.get(DOMAIN_URL, json=util_load_json("domain_response.json"))
    requests_mock.post(TOKEN_URL, json=util_load_json("token_response.json"))
    requests_mock.post(
        AUDIT_URL, [{"json": {"data": {"auditData": first_page}}}] + [{"status_code": 500, "text": "down"}] * 4
    )
    mocker.patch.object(LivePerson.time, "sleep")
    mocker.patch.object(demisto, "params", return_value=make_params())
    mocker.patch.object(demisto, "command", return_value="fetch-events")
    mocker.patch.object(
        demisto,
        "getLastRun",
        return_value=LivePerson.first_run_cursor(datetime(2024, 5, 1, 10, 1, tzinfo=UTC)).to_last_run(),
    )
    send = mocker.patch.object(LivePerson, "send_events_to_xsiam")
    save = mocker.patch.object(demisto, "setLastRun")
    results = mocker.patch.object(demisto, "results")
    with pytest.raises(SystemExit):
        LivePerson.main()
    assert len(send.call_args.args[0]) == 500
    assert save.call_args.args[0]["offset"] == 500
    assert "HTTP 500" in results.call_args.args[0]["Contents"]


def test_send_uses_the_dataset_vendor_and_product(mocker: MockerFixture) -> None:
    """
    Given: events to push
    When: they are pushed
    Then: vendor LivePerson and product LiveEngage (dataset liveperson_liveengage_raw)
    """
    send = mocker.patch.object(LivePerson, "send_events_to_xsiam")
    mocker.patch.object(demisto, "setLastRun")
    LivePerson.push_then_save([{"a": 1}], {"offset": 1})
    assert send.call_args.kwargs["vendor"] == "LivePerson" and send.call_args.kwargs["product"] == "LiveEngage"
    assert (
        f"{send.call_args.kwargs['vendor']}_{send.call_args.kwargs['product']}_raw".lower()
        == "liveperson_liveengage_raw"
    )


# ============================================================================ 7. retries


def test_retry_pause_policy() -> None:
    """
    Given: LivePerson's retry policy
    When: pauses are planned
    Then: 5xx waits 5, 10, 15 s then gives up; 429 waits at least 1 s, honours Retry-After up to 30 s
    """
    assert [retry_pause(503, attempt, None) for attempt in range(4)] == [5.0, 10.0, 15.0, None]
    assert [retry_pause(429, attempt, None) for attempt in range(4)] == [1.0, 2.0, 4.0, None]
    assert retry_pause(429, 0, 0.2) == 1.0 and retry_pause(429, 0, 7) == 7 and retry_pause(429, 0, 600) == 30.0
    assert retry_pause(None, 0, None) == 5.0


def test_429_then_success(requests_mock: requests_mock_module.Mocker) -> None:
    """
    Given: an Audit Trail answering 429 (Retry-After 2) then 200
    When: a page is fetched
    Then: the client waits 2 s and succeeds
    """
    clock = FakeClock()
    requests_mock.get(DOMAIN_URL, json=util_load_json("domain_response.json"))
    requests_mock.post(TOKEN_URL, json=util_load_json("token_response.json"))
    requests_mock.post(
        AUDIT_URL, [{"status_code": 429, "headers": {"Retry-After": "2"}}, {"json": {"data": {"auditData": []}}}]
    )
    assert make_client(clock=clock).fetch_audit_page(build_audit_query(date(2024, 5, 1), 500, 0)) == []
    assert clock.pauses == [2.0]


def test_5xx_exhausted_leaves_the_state_unchanged(
    mocker: MockerFixture, requests_mock: requests_mock_module.Mocker
) -> None:
    """
    Given: an Audit Trail that answers 502 every time
    When: a fetch runs
    Then: four attempts with 5, 10, 15 s pauses, the state saved is the one it started from, and the error is clear
    """
    clock = FakeClock()
    requests_mock.get(DOMAIN_URL, json=util_load_json("domain_response.json"))
    requests_mock.post(TOKEN_URL, json=util_load_json("token_response.json"))
    requests_mock.post(AUDIT_URL, status_code=502, text="bad gateway")
    start = state_at("2024-05-01", 3, "2024-05-01T10:00:00.000000Z", [record("2024-05-01 10:00:00.0")])
    events, outcome = LivePerson.fetch_events_command(make_client(clock=clock), start, NOW)
    assert events == [] and outcome.cursor.to_last_run() == cursor_from_last_run(start, NOW).to_last_run()
    assert clock.pauses == [5.0, 10.0, 15.0]
    assert (
        str(outcome.error)
        == "audit trail query: LivePerson answered HTTP 502: bad gateway. Gave up after 4 attempt(s)."
    )


def test_retries_never_pass_the_deadline(requests_mock: requests_mock_module.Mocker) -> None:
    """
    Given: a client with 12 s left before its deadline and a server answering 500
    When: a call is made
    Then: it waits 5 s once, then gives up instead of waiting 10 s past the deadline
    """
    clock = FakeClock()
    requests_mock.post(TOKEN_URL, status_code=500, text="down")
    client = make_client(clock=clock)
    client.deadline = clock() + 12
    with pytest.raises(LivePersonError, match="Gave up after 2 attempt"):
        client.get_token()
    assert clock.pauses == [5.0]


@pytest.mark.parametrize("status", [400, 404, 409])
def test_other_4xx_are_not_retried(requests_mock: requests_mock_module.Mocker, status: int) -> None:
    """
    Given: a 4xx other than 401/429 from the Audit Trail
    When: a page is fetched
    Then: one call, no pause, and the status in the message
    """
    clock = FakeClock()
    requests_mock.get(DOMAIN_URL, json=util_load_json("domain_response.json"))
    requests_mock.post(TOKEN_URL, json=util_load_json("token_response.json"))
    requests_mock.post(AUDIT_URL, status_code=status, text="bad request")
    with pytest.raises(LivePersonError, match=f"HTTP {status}"):
        make_client(clock=clock).fetch_audit_page(build_audit_query(date(2024, 5, 1), 500, 0))
    assert calls_to(requests_mock, AUDIT_URL) == 1 and clock.pauses == []


def test_403_names_the_missing_permission(requests_mock: requests_mock_module.Mocker) -> None:
    """
    Given: an Audit Trail answering 403
    When: a page is fetched
    Then: the message says which access the app installation lacks
    """
    requests_mock.get(DOMAIN_URL, json=util_load_json("domain_response.json"))
    requests_mock.post(TOKEN_URL, json=util_load_json("token_response.json"))
    requests_mock.post(AUDIT_URL, status_code=403, json={"error": "forbidden"})
    with pytest.raises(
        LivePersonError, match=r"needs read access to the Audit Trail \(Account Configuration, read-only\)"
    ):
        make_client().fetch_audit_page(build_audit_query(date(2024, 5, 1), 500, 0))


def test_dropped_connection_is_retried(requests_mock: requests_mock_module.Mocker) -> None:
    """
    Given: a token endpoint that drops the connection once
    When: a token is requested
    Then: it is retried after 5 s and succeeds
    """
    clock = FakeClock()
    requests_mock.post(
        TOKEN_URL,
        [
            {"exc": requests.exceptions.ConnectionError("reset by peer")},
            {"json": util_load_json("token_response.json")},
        ],
    )
    assert make_client(clock=clock).get_token() == CANARY_TOKEN
    assert clock.pauses == [5.0]


def test_read_timeout_is_retried_then_reported(requests_mock: requests_mock_module.Mocker) -> None:
    """
    Given: a Domain API that never answers in time
    When: the domain is resolved
    Then: the policy's retries run and the error names the timeout
    """
    clock = FakeClock()
    requests_mock.get(DOMAIN_URL, exc=requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(LivePersonError) as caught:
        make_client(clock=clock).get_domain()
    assert str(caught.value) == "domain discovery: LivePerson did not answer within 15 s. Gave up after 4 attempt(s)."
    assert clock.pauses == [5.0, 10.0, 15.0]


# ============================================================================ 8. get-events


def test_get_events_table_context_and_no_last_run(mocker: MockerFixture, api: FakeAuditTrail) -> None:
    """
    Given: records in the last three days and should_push_events false
    When: liveperson-get-events runs with a limit of 2
    Then: two events, oldest first, in a table and in LivePerson.Event with the legacy keys;
          nothing pushed, lastRun untouched
    """
    api.add(
        record("2024-04-28 09:00:00.0", objectName="too-old"),
        record("2024-04-29 12:00:00.0", objectName="first", actionType="Add new", oldValue="", newValue="x"),
        record("2024-04-30 12:00:00.0", objectName="second"),
        record("2024-05-01 09:00:00.0", objectName="third"),
    )
    send = mocker.patch.object(LivePerson, "send_events_to_xsiam")
    set_last_run = mocker.patch.object(demisto, "setLastRun")
    get_last_run = mocker.patch.object(demisto, "getLastRun")
    result = LivePerson.get_events_command(make_client(), {"limit": "2"}, NOW)
    assert [item["objectName"] for item in result.outputs] == ["first", "second"]
    first = result.outputs[0]
    assert (first["changeType"], first["userId"], first["changedBy"]) == ("Add new", "1000001", "Ada Admin")
    assert first["actionType"] == "Add new" and first["originatorLoginName"] == "ada.admin"
    assert result.outputs_prefix == "LivePerson.Event"
    assert result.readable_output is not None
    assert "|Time (UTC)|Object Type|Object Name|Action|Element|Old → New|Originator|" in result.readable_output
    assert (
        "| 2024-04-29T12:00:00.000Z | Users | first | Add new | Max number of live chats |  → x | Ada Admin |"
        in result.readable_output
    )
    send.assert_not_called()
    set_last_run.assert_not_called()
    get_last_run.assert_not_called()


def test_get_events_pushes_with_time_when_asked(mocker: MockerFixture, api: FakeAuditTrail) -> None:
    """
    Given: should_push_events true and a time window
    When: liveperson-get-events runs
    Then: the events in the window are pushed with _time and source_log_type
    """
    api.add(record("2024-05-01 08:00:00.0", objectName="in"), record("2024-05-01 09:30:00.0", objectName="after"))
    send = mocker.patch.object(LivePerson, "send_events_to_xsiam")
    LivePerson.get_events_command(
        make_client(),
        {"start_time": "2024-05-01T07:00:00Z", "end_time": "2024-05-01T09:00:00Z", "should_push_events": "true"},
        NOW,
    )
    (events,) = send.call_args.args
    assert [event["objectName"] for event in events] == ["in"]
    assert events[0]["_time"] == "2024-05-01T08:00:00.000Z" and events[0]["source_log_type"] == "audit"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"limit": "0"}, "Argument 'limit' must be a whole number from 1 to 10000; got '0'"),
        ({"limit": "-1"}, "Argument 'limit' must be a whole number from 1 to 10000; got '-1'"),
        ({"limit": "ten"}, "Argument 'limit' must be a whole number from 1 to 10000; got 'ten'"),
        ({"limit": "10001"}, "Argument 'limit' must be a whole number from 1 to 10000; got '10001'"),
        ({"start_time": "the other day"}, "Argument 'start_time' must be a time such as '3 days'"),
        ({"end_time": "whenever"}, "Argument 'end_time' must be a time such as '3 days'"),
        (
            {"start_time": "2024-05-01T09:00:00Z", "end_time": "2024-05-01T08:00:00Z"},
            "'end_time' (2024-05-01T08:00:00.000000Z) must not be before 'start_time'",
        ),
        ({"should_push_events": "maybe"}, "Argument 'should_push_events' must be true or false; got 'maybe'"),
    ],
)
def test_get_events_bad_arguments(args: dict[str, Any], message: str) -> None:
    """
    Given: each malformed argument
    When: liveperson-get-events runs
    Then: an InputError names the argument and what is accepted, before any call is made
    """
    with pytest.raises(InputError) as caught:
        LivePerson.get_events_command(make_client(), args, NOW)
    assert message in str(caught.value)


def test_bad_argument_through_main_is_an_error_entry(mocker: MockerFixture) -> None:
    """
    Given: a bad limit in the War Room
    When: main() runs the command
    Then: an error entry names the argument, with no traceback, and the process exits
    """
    mocker.patch.object(demisto, "params", return_value=make_params())
    mocker.patch.object(demisto, "command", return_value="liveperson-get-events")
    mocker.patch.object(demisto, "args", return_value={"limit": "lots"})
    results = mocker.patch.object(demisto, "results")
    with pytest.raises(SystemExit):
        LivePerson.main()
    contents = results.call_args.args[0]["Contents"]
    assert contents == (
        "Failed to execute liveperson-get-events command.\nError:\n"
        "Argument 'limit' must be a whole number from 1 to 10000; got 'lots'."
    )


# ============================================================================ 9. test-module


def test_module_ok(api: FakeAuditTrail, requests_mock: requests_mock_module.Mocker) -> None:
    """
    Given: all three stages answering
    When: test-module runs
    Then: ok, after discovery, a fresh token and a one-record query, without touching the integration context
    """
    assert LivePerson.test_module(make_client(use_cache=False), NOW) == "ok"
    assert api.queries[0]["first"] == 1
    assert demisto.getIntegrationContext() == {}


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (
            {DOMAIN_URL: {"status_code": 404, "text": "account not found"}},
            "Test failed at the domain discovery stage. The Domain API does not know this account (HTTP 404",
        ),
        (
            {DOMAIN_URL: {"exc": requests.exceptions.ConnectionError("Name or service not known")}},
            "Test failed at the domain discovery stage. Domain API unreachable (api.liveperson.net)",
        ),
        (
            {TOKEN_URL: {"status_code": 401, "json": {"error": "invalid_client"}}},
            "Test failed at the token request stage. The authorization server refused the client credentials",
        ),
        (
            {AUDIT_URL: {"status_code": 403, "text": "Not Authorized"}},
            "Test failed at the audit trail query stage. LivePerson refused the Audit Trail query (HTTP 403",
        ),
        (
            {TOKEN_URL: {"exc": requests.exceptions.SSLError("certificate verify failed")}},
            "Test failed at the token request stage. TLS failure reaching the authorization server va.sentinel",
        ),
        (
            {TOKEN_URL: {"exc": requests.exceptions.ProxyError("proxy refused")}},
            "Test failed at the token request stage. Proxy failure reaching the authorization server",
        ),
        (
            {AUDIT_URL: {"exc": requests.exceptions.ConnectTimeout("timed out")}},
            "Test failed at the audit trail query stage. Timeout reaching the account's Audit Trail domain",
        ),
        (
            {AUDIT_URL: {"json": util_load_json("audit_graphql_errors.json")}},
            "Test failed at the audit trail query stage. The Audit Trail rejected the query: Validation error",
        ),
    ],
)
def test_module_says_which_stage_failed(
    requests_mock: requests_mock_module.Mocker, setup: dict[str, dict[str, Any]], expected: str
) -> None:
    """
    Given: one stage failing in a particular way
    When: test-module runs
    Then: the message names the stage and the reason, and is not ok
    """
    answers: dict[str, dict[str, Any]] = {
        DOMAIN_URL: {"json": util_load_json("domain_response.json")},
        TOKEN_URL: {"json": util_load_json("token_response.json")},
        AUDIT_URL: {"json": {"data": {"auditData": []}}},
    }
    answers.update(setup)
    requests_mock.get(DOMAIN_URL, **answers[DOMAIN_URL])
    requests_mock.post(TOKEN_URL, **answers[TOKEN_URL])
    requests_mock.post(AUDIT_URL, **answers[AUDIT_URL])
    message = LivePerson.test_module(make_client(use_cache=False, clock=FakeClock()), NOW)
    assert message.startswith(expected)


# ============================================================================ 10/11. secrets never leak


def test_canary_secret_and_token_never_leak(
    mocker: MockerFixture, api: FakeAuditTrail, requests_mock: requests_mock_module.Mocker
) -> None:
    """
    Given: a canary client secret and token, and runs that succeed and fail
    When: fetch-events, get-events and test-module run through main()
    Then: neither canary is in any log call, result, error or saved lastRun
          (the token lives only in the integration context)
    """
    api.add(record("2024-05-01 10:00:30.0"))
    logged: list[str] = []
    for name in ("debug", "info", "error"):
        mocker.patch.object(demisto, name, side_effect=lambda message, *args: logged.append(str(message)))
    results = mocker.patch.object(demisto, "results")
    save = mocker.patch.object(demisto, "setLastRun")
    mocker.patch.object(LivePerson, "send_events_to_xsiam")
    mocker.patch.object(demisto, "params", return_value=make_params())
    mocker.patch.object(demisto, "getLastRun", return_value={})
    mocker.patch.object(demisto, "args", return_value={"limit": "5"})
    for command in ("test-module", "fetch-events", "liveperson-get-events"):
        mocker.patch.object(demisto, "command", return_value=command)
        LivePerson.main()
    requests_mock.post(AUDIT_URL, status_code=500, text=f"echo {CANARY_SECRET} {CANARY_TOKEN}")
    mocker.patch.object(LivePerson.time, "sleep")
    mocker.patch.object(demisto, "command", return_value="test-module")
    LivePerson.main()
    assert results.call_args.args[0].startswith("Test failed at the audit trail query stage")
    assert "echo <redacted> <redacted>" in results.call_args.args[0]
    mocker.patch.object(demisto, "command", return_value="fetch-events")
    with pytest.raises(SystemExit):
        LivePerson.main()
    shown = json.dumps([call.args for call in results.call_args_list], default=str) + json.dumps(
        [call.args for call in save.call_args_list]
    )
    everything = "\n".join(logged) + shown
    assert results.call_count >= 4 and save.call_count >= 1
    assert CANARY_SECRET not in everything
    assert CANARY_TOKEN not in everything
