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
import itertools
import json
import math
import random
import re
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any

import LivePerson
import pytest
import requests
import requests_mock as requests_mock_module
from LivePerson import (
    NO_DEADLINE,
    ORDER_FORMS,
    PAGE_REQUEST,
    AccountKnowledge,
    Client,
    Cursor,
    Deadline,
    GetEventsArgs,
    InputError,
    LivePersonError,
    PastCeiling,
    QueryDialect,
    QueryRejected,
    ReadOutcome,
    ReadRules,
    RecordFilter,
    RetryPolicy,
    Settings,
    Stage,
    TimeBudgets,
    Window,
    build_audit_query,
    fingerprint,
    next_dialect,
    normalize_host,
    parse_change_date,
    plan_window,
    read_audit_trail,
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


# ============================================================================ records, and the Audit Trail in memory


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


@dataclass(order=True)
class StoredRecord:
    """One record the model holds: served by `time`, ties in `seq` order unless shuffled; visible from `committed`."""

    time: datetime
    seq: int
    fields: dict[str, Any] = field(compare=False)
    committed: datetime = field(compare=False, default=datetime.min.replace(tzinfo=UTC))


@dataclass
class AuditTrail:
    """LivePerson's Audit Trail in memory: the one model the unit tests and tests/reading answer queries with.

    It holds records and answers a window's query as LivePerson may, one knob per thing LivePerson
    does not document: `filter_zone` (the zone the day filters are read in), `to_date_inclusive`,
    `cap` or `page_length` (records per answer, fixed or per call), `shuffle_ties` (records of one
    changeDate in a new order on every answer), `total_count` (what X-Total-Count counts, or None:
    not sent) and late commits (a record is visible from `committed`, compared with `clock()`).
    `fail` makes chosen calls fail; `after_answer` runs after each answer (records committed
    between two reads). `source` is the integration's PageSource; `answer` serves requests_mock.

    Over requests_mock it also reads the query's syntax as a server may (fact sheet §8 question 3),
    answering refusals worded as graphql-java words them: `ordering` is the one form of
    orderBy/orderDirection it accepts (ORDER_FORMS' names), or "ignored" (the string forms are
    accepted and answered newest first; any other name refuses every form); `max_first` with
    `first_refusal` refuses a larger page; an argument in `unknown_arguments` is refused; `ceiling`
    refuses `offset + first` past it.
    """

    filter_zone: tzinfo = UTC
    to_date_inclusive: bool = False
    cap: int | None = None
    page_length: Callable[[int], int] | None = None
    shuffle_ties: bool = False
    total_count: str | None = "total"
    seed: int = 0
    clock: Callable[[], datetime] | None = None
    fail: Callable[[int], bool] | None = None
    fail_from_offset: int | None = None
    after_answer: Callable[[AuditTrail], None] | None = None
    ordering: str = "lists of strings"
    max_first: int | None = None
    first_refusal: str = "graphql"  # "graphql" names the maximum, "graphql-bare" does not, "http" is a 400 naming it
    unknown_arguments: tuple[str, ...] = ()
    ceiling: int | None = None
    newest_first: bool = False
    refused: list[str] = field(default_factory=list)
    stored: list[StoredRecord] = field(default_factory=list)
    queries: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)

    def add(self, *records: dict[str, Any], committed: datetime | None = None) -> None:
        """Stores records (LivePerson's fields, changeDate in UTC), visible from `committed` (default: at once)."""
        for item in records:
            moment = parse_change_date(item["changeDate"])
            stored = StoredRecord(moment, len(self.stored), dict(item), committed or moment)
            bisect.insort(self.stored, stored)

    def visible(self) -> list[StoredRecord]:
        """What a query sees now: everything committed by `clock()`, in serving order (ties by arrival)."""
        if self.clock is None:
            return self.stored
        now = self.clock()
        return [item for item in self.stored if item.committed <= now]

    def window_answer(self, window: Window) -> list[StoredRecord]:
        """The records `window`'s day filters select, read in `filter_zone`, toDate inclusive or not."""
        start = datetime.combine(window.from_day, datetime.min.time(), self.filter_zone).astimezone(UTC)
        last = window.to_day + timedelta(days=1 if self.to_date_inclusive else 0)
        end = datetime.combine(last, datetime.min.time(), self.filter_zone).astimezone(UTC)
        visible = self.visible()
        low = bisect.bisect_left(visible, start, key=lambda item: item.time)
        high = bisect.bisect_left(visible, end, key=lambda item: item.time)
        return visible[low : max(low, high)]

    def source(
        self, window: Window, offset: int, first: int, descending: bool = False
    ) -> tuple[list[dict[str, Any]], int | None]:
        """The PageSource the reader sees when the client already knows `ceiling`.

        It stands for the client and the server together, so it sizes pages as the client promises to
        (at most half the ceiling, fact sheet §8 question 11) and raises what the client raises rather
        than asking past the ceiling; without a ceiling it is `serve`.
        """
        if self.ceiling is not None:
            first = min(first, max(1, self.ceiling // 2))
            if offset + first > self.ceiling:
                raise PastCeiling(self.ceiling, self.ceiling - first)
        return self.serve(window, offset, first, descending)

    def serve(
        self, window: Window, offset: int, first: int, descending: bool = False
    ) -> tuple[list[dict[str, Any]], int | None]:
        """One answer: `first` records from `offset` (fewer under a cap), oldest first unless `descending`.

        Newest first is the oldest-first answer read from its other end (ties shuffled the same way).
        """
        call = len(self.queries)
        self.queries.append({"window": window, "offset": offset, "first": first, "descending": descending})
        if (self.fail is not None and self.fail(call)) or (
            self.fail_from_offset is not None and offset >= self.fail_from_offset
        ):
            raise LivePersonError("audit trail query: LivePerson answered HTTP 500.", Stage.AUDIT, 500)
        answer = self.window_answer(window)
        size = first if self.cap is None else min(first, self.cap)
        if self.page_length is not None:
            size = min(size, max(1, self.page_length(call)))
        backwards = descending or self.newest_first
        low, high = min(offset, len(answer)), min(offset + size, len(answer))
        if backwards:
            low, high = len(answer) - high, len(answer) - low
        if self.shuffle_ties and low < high:
            first_time, last_time = answer[low].time, answer[high - 1].time
            start = bisect.bisect_left(answer, first_time, key=lambda item: item.time)
            end = bisect.bisect_right(answer, last_time, key=lambda item: item.time)
            around = answer[start:end]
            shuffled: list[StoredRecord] = []
            for _moment, ties in itertools.groupby(around, key=lambda item: item.time):
                group = list(ties)
                self.random.shuffle(group)
                shuffled += group
            page = shuffled[low - start : high - start]
        else:
            page = answer[low:high]
        records = [dict(item.fields) for item in (page[::-1] if backwards else page)]
        total = {"total": len(answer), "page": len(records)}.get(self.total_count or "")
        if self.after_answer is not None:
            self.after_answer(self)
        return records, total

    def answer(self, request: Any, context: Any) -> dict[str, Any]:
        """The same answer over requests_mock: the query's window and paging read from its text."""
        query = request.json()["query"]
        arguments = dict(QUERY_ARGUMENT.findall(query))
        refusal = self.refusal(query, int(arguments["first"]), int(arguments["offset"]))
        if refusal is not None:
            self.refused.append(refusal)
            if refusal.startswith("HTTP 400 "):
                context.status_code = 400
                return {"error": refusal.removeprefix("HTTP 400 ")}
            return {"errors": [{"message": refusal}], "data": None}
        self.newest_first = self.ordering == "ignored"
        window = Window(date.fromisoformat(arguments["fromDate"]), date.fromisoformat(arguments["toDate"]))
        try:
            records, total = self.serve(
                window, int(arguments["offset"]), int(arguments["first"]), descending="DESC" in query
            )
        except LivePersonError:
            context.status_code = 500
            return {"error": "down"}
        if total is not None:
            context.headers["X-Total-Count"] = str(total)
        return {"data": {"auditData": records}}

    def refusal(self, query: str, first: int, offset: int) -> str | None:
        """What this server refuses in `query`, worded as graphql-java words it; None when it answers."""
        for name in self.unknown_arguments:
            if f"{name}:" in query:
                return f"Validation error (UnknownArgument@[auditData]) : Unknown field argument '{name}'"
        accepted = ("lists of strings", "single strings") if self.ordering == "ignored" else (self.ordering,)
        forms = [ORDER_FORMS[form] for form in accepted if form in ORDER_FORMS]
        if not any(form.format(direction=way) in query for form in forms for way in ("ASC", "DESC")):
            return (
                "Validation error (WrongType@[auditData]) : argument 'orderDirection' with value "
                "'StringValue{value='ASC'}' is not a valid 'AuditOrderDirection'"
            )
        if self.max_first is not None and first > self.max_first:
            return {
                "graphql": f"Validation error : argument 'first' must be between 0 and {self.max_first}",
                "graphql-bare": "Validation error (WrongType@[auditData]) : argument 'first' has an invalid value",
                "http": f"HTTP 400 Bad Request: first must not be greater than {self.max_first}",
            }[self.first_refusal]
        if self.ceiling is not None and offset + first > self.ceiling:
            return f"Result window is too large, offset + first must be less than or equal to: [{self.ceiling}]"
        return None

    @property
    def records(self) -> list[dict[str, Any]]:
        """Every stored record, in serving order."""
        return [item.fields for item in self.stored]

    def delivered_exactly(self, delivered: list[dict[str, Any]], since: datetime) -> tuple[int, int]:
        """(missing, duplicated) of `delivered` against every stored record at or after `since`, as multisets."""
        expected = Counter(canonical(item.fields) for item in self.stored if item.time >= since)
        got = Counter(canonical({key: value for key, value in event.items() if key in TEMPLATE}) for event in delivered)
        return sum((expected - got).values()), sum((got - expected).values())


def canonical(fields: dict[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True)


@dataclass
class LivePersonApi:
    """The LivePerson endpoints on requests_mock, and what they were asked."""

    mock: requests_mock_module.Mocker
    trail: AuditTrail

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
    trail = AuditTrail()
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
    return Settings.from_params(make_params(**overrides), NOW)


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


class TestLateCommitParameter:
    """'Records committed late, up to (minutes)': L, the span every fetch re-reads (A5)."""

    @pytest.mark.parametrize(
        ("raw", "minutes"),
        [
            pytest.param(None, 5, id="default"),
            pytest.param("", 5, id="empty"),
            pytest.param(" 0 ", 0, id="zero"),
            pytest.param("720", 720, id="twelve-hours"),
        ],
    )
    def test_accepted_values(self, raw: Any, minutes: int) -> None:
        """
        Given: the parameter left out, empty, zero or twelve hours
        When: the instance parameters are read
        Then: L is that many minutes (five by default)
        """
        assert make_settings(late_commit_minutes=raw).late_commit == timedelta(minutes=minutes)

    @pytest.mark.parametrize("raw", ["721", "1440", "-1", "2.5", "five"])
    def test_refused_values_name_the_parameter(self, raw: str) -> None:
        """
        Given: more than twelve hours, a negative number, a decimal or a word
        When: the instance parameters are read
        Then: the error names the parameter, says what is accepted and quotes the value
        """
        with pytest.raises(InputError) as caught:
            make_settings(late_commit_minutes=raw)
        assert str(caught.value) == (
            "Parameter 'Records committed late, up to (minutes)' (late_commit_minutes) must be a whole number of "
            f"minutes from 0 to 720; got '{raw}'."
        )


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
        records, _total = make_client(clock=clock).fetch_audit_page(build_audit_query(WINDOW, PAGE_REQUEST, 0))
        assert records == [record_at(5)]
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
        records, _total = client.fetch_audit_page(build_audit_query(WINDOW, PAGE_REQUEST, 0))
        assert records == [record_at(5)]
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

    @pytest.mark.parametrize(
        ("header", "total"),
        [
            pytest.param({"X-Total-Count": "17"}, 17, id="a-number"),
            pytest.param({"X-Total-Count": "many"}, None, id="not-a-number"),
            pytest.param({}, None, id="absent"),
        ],
    )
    def test_total_count_header_is_kept_when_it_is_a_number(
        self, api: LivePersonApi, header: dict[str, str], total: int | None
    ) -> None:
        """
        Given: an answer with an X-Total-Count header that is a number, or is not, or none
        When: a page is fetched
        Then: the number comes back with the records (the search may use it as a hint), else None
        """
        api.mock.post(AUDIT_URL, json={"data": {"auditData": [record_at(1)]}}, headers=header)
        assert make_client().fetch_audit_page(build_audit_query(WINDOW, PAGE_REQUEST, 0)) == ([record_at(1)], total)

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


# ============================================================================ the query's dialect, negotiated

FORMS = list(ORDER_FORMS)
GRAPHQL_CORE_ENUM = (
    "Enum 'AuditOrderDirection' cannot represent non-enum value: \"ASC\". Did you mean the enum value 'ASC'?"
)


def refused(reasons: str, status: int | None = None) -> QueryRejected:
    return QueryRejected(f"The Audit Trail rejected the query: {reasons}", reasons, status)


def learned_dialect() -> QueryDialect:
    return AccountKnowledge.load(make_settings()).dialect


class TestNextDialect:
    @pytest.mark.parametrize(
        ("reasons", "status", "piece", "expected"),
        [
            (GRAPHQL_CORE_ENUM, None, "orderBy", QueryDialect(order_form=FORMS[1])),
            ('String cannot represent a non string value: ["ASC"]', None, "orderBy", QueryDialect(order_form=FORMS[1])),
            (
                "Validation error (WrongType@[auditData]) : argument 'orderBy'",
                None,
                "orderBy",
                QueryDialect(order_form=FORMS[1]),
            ),
            ("Bad Request", 400, "orderBy", QueryDialect(order_form=FORMS[1])),
            ("Unknown argument 'lpa' on field 'Query.auditData'.", None, "'lpa'", QueryDialect(dropped=("lpa",))),
            (
                "Validation error (UnknownArgument@[auditData]) : Unknown field argument 'fromDate'",
                None,
                "'fromDate'",
                None,
            ),
            ("Argument 'first' must be between 0 and 100", None, "'first'", QueryDialect(first=100)),
            ("Bad Request: first must not be greater than 200", 400, "'first'", QueryDialect(first=200)),
            ("Argument 'first' has an invalid value", None, "'first'", QueryDialect(first=250)),
            (
                "Result window is too large, offset + first must be <= [10000]",
                None,
                "result window",
                QueryDialect(ceiling=10000),
            ),
            (  # the ceiling is the smaller number: the larger one is what was asked for
                "Result window is too large, from + size must be less than or equal to: [10000] but was [10500]",
                None,
                "result window",
                QueryDialect(ceiling=10000),
            ),
        ],
    )
    def test_a_refusal_changes_only_what_it_names(
        self, reasons: str, status: int | None, piece: str, expected: QueryDialect | None
    ) -> None:
        """
        Given: a refusal as graphql-core, graphql-java or a plain HTTP 400 may word it
        When: the next dialect is chosen from the default one
        Then: the piece it names is the one changed (an argument the query cannot do without: nothing to try)
        """
        found = next_dialect(QueryDialect(), refused(reasons, status), [FORMS[0]])
        assert found is not None
        assert piece in found[0]
        assert found[1] == expected

    @pytest.mark.parametrize("reasons", ["Internal error while reading audit data", "Exception while fetching data"])
    def test_a_data_fetching_error_is_not_about_syntax(self, reasons: str) -> None:
        """
        Given: a GraphQL error in a 200 that names no argument and no type
        When: the next dialect is chosen
        Then: there is none: the error is raised as it came
        """
        assert next_dialect(QueryDialect(), refused(reasons), [FORMS[0]]) is None

    def test_ordering_forms_are_each_tried_once(self) -> None:
        """
        Given: an ordering refusal after every form was tried
        When: the next dialect is chosen
        Then: the ordering is named and nothing is left to try
        """
        assert next_dialect(QueryDialect(), refused(GRAPHQL_CORE_ENUM), FORMS) == (
            "the arguments 'orderBy' and 'orderDirection'",
            None,
        )

    @pytest.mark.parametrize(
        "entry",
        [
            {},
            {"order": "sideways", "first": "many", "dropped": "lpa", "ceiling": -1},
            {"first": 10**6, "dropped": ["x"]},
        ],
    )
    def test_a_damaged_stored_dialect_falls_back_piece_by_piece(self, entry: dict[str, Any]) -> None:
        """
        Given: a stored dialect with missing, unknown or out-of-range pieces
        When: it is read back
        Then: each such piece is the default, so the negotiation can start again from a sane query
        """
        assert QueryDialect.from_entry(entry) == QueryDialect()

    def test_the_query_is_written_in_the_dialect(self) -> None:
        """
        Given: a dialect with single enum values, a smaller page and lpa left out
        When: a query is built
        Then: the ordering is written that way, first is the number given, lpa is absent and the rest is kept
        """
        dialect = QueryDialect(order_form="single enum values", first=100, dropped=("lpa",))
        query = build_audit_query(WINDOW, 100, 0, dialect)
        assert "orderBy: changeTimestamp, orderDirection: ASC" in query
        assert "first: 100" in query
        assert "lpa" not in query
        assert "automaticUpdates: true" in query


class TestQueryNegotiation:
    @pytest.mark.parametrize("form", FORMS)
    def test_each_ordering_form_is_found_and_remembered(
        self, mocker: MockerFixture, api: LivePersonApi, form: str
    ) -> None:
        """
        Given: an Audit Trail that accepts the ordering arguments only in `form`
        When: two fetches run
        Then: the first finds it after one refusal per form before it and delivers every record; the second
              sends it at once (no refusal) and delivers only what is new
        """
        api.trail.ordering = form
        api.trail.add(*series(3, start=10))
        first = run_fetch(mocker, make_client(), {})
        assert names(first.pushed) == ["r0", "r1", "r2"]
        assert len(api.trail.refused) == FORMS.index(form)
        assert learned_dialect().order_form == form
        api.trail.add(record_at(20, "new"))
        second = run_fetch(mocker, make_client(), first.saved, now=NOW + timedelta(seconds=30))
        assert names(second.pushed) == ["new"]
        assert len(api.trail.refused) == FORMS.index(form)

    @pytest.mark.parametrize(
        ("refusal", "accepted", "refusals"), [("graphql", 100, 1), ("http", 100, 1), ("graphql-bare", 62, 3)]
    )
    def test_a_refused_page_size_is_shrunk_and_remembered(
        self, mocker: MockerFixture, api: LivePersonApi, refusal: str, accepted: int, refusals: int
    ) -> None:
        """
        Given: an Audit Trail that refuses `first` above 100, naming the maximum or not
        When: a fetch reads 250 records, then another runs
        Then: the first asks for the named maximum (or halves until accepted), delivers all 250 once and keeps
              the size with the largest page; the second asks for that size at once
        """
        api.trail.max_first, api.trail.first_refusal = 100, refusal
        api.trail.add(*series(250, start=-3000, step=10))
        first = run_fetch(mocker, make_client(), {}, now=NOW)
        assert len(first.pushed or []) == 0  # a new instance starts one minute back
        api.trail.add(*series(250, start=10, step=0.1, prefix="n"))
        second = run_fetch(mocker, make_client(), first.saved, now=NOW + timedelta(minutes=1))
        assert sorted(names(second.pushed)) == sorted(f"n{index}" for index in range(250))
        assert len(api.trail.refused) == refusals
        known = AccountKnowledge.load(make_settings())
        assert (known.dialect.first, known.largest) == (accepted, accepted)
        assert all(query["first"] <= 100 for query in api.trail.queries)

    def test_an_answer_newest_first_stops_with_nothing_pushed_and_the_state_unchanged(
        self, mocker: MockerFixture, api: LivePersonApi
    ) -> None:
        """
        Given: an Audit Trail that ignores the ordering arguments and answers newest first
        When: a fetch runs from a saved state
        Then: every form is tried; the error says the ordering is not applied and names the forms; nothing is
              pushed, lastRun is not written and the integration context keeps no dialect
        """
        api.trail.ordering = "ignored"
        api.trail.add(*series(5, start=10))
        run = run_fetch(mocker, make_client(), {"version": 3, "since": "2024-05-01T10:00:00.000000Z"})
        assert run.error is not None
        message = str(run.error)
        assert "newest first" in message
        assert all(form in message for form in FORMS)
        assert run.pushed is None
        assert run.saved is None
        assert "pages" not in demisto.getIntegrationContext()

    def test_an_unknown_argument_is_dropped_with_one_warning_a_run(
        self, mocker: MockerFixture, api: LivePersonApi
    ) -> None:
        """
        Given: an Audit Trail that does not know `lpa`
        When: two fetches run
        Then: both deliver; each logs once what is no longer collected (changes by LivePerson staff); the
              second sends the query without lpa at once
        """
        info = mocker.patch.object(demisto, "info")
        api.trail.unknown_arguments = ("lpa",)
        api.trail.add(*series(2, start=10))
        first = run_fetch(mocker, make_client(), {})
        run_fetch(mocker, make_client(), first.saved, now=NOW + timedelta(seconds=30))
        warnings = [call.args[0] for call in info.call_args_list if "warning" in call.args[0]]
        assert len(warnings) == 2
        assert "'lpa'" in warnings[0] and "LivePerson staff" in warnings[0]
        assert names(first.pushed) == ["r0", "r1"]
        assert len(api.trail.refused) == 1

    def test_an_argument_the_query_needs_is_never_dropped(self, mocker: MockerFixture, api: LivePersonApi) -> None:
        """
        Given: an Audit Trail that says it does not know `fromDate`
        When: a fetch runs
        Then: it fails naming fromDate, after that one call
        """
        api.trail.unknown_arguments = ("fromDate",)
        run = run_fetch(mocker, make_client(), {})
        assert "'fromDate'" in str(run.error)
        assert len(api.trail.queries) == 0 and len(api.trail.refused) == 1

    @pytest.mark.parametrize(
        "answer",
        [
            {"status_code": 403, "json": {"error": "Not Authorized"}},
            {"status_code": 500, "json": {"error": "boom"}},
            {"json": {"errors": [{"message": "Internal error while reading audit data"}], "data": None}},
        ],
    )
    def test_an_error_that_is_not_about_syntax_never_negotiates(
        self, mocker: MockerFixture, api: LivePersonApi, answer: dict[str, Any]
    ) -> None:
        """
        Given: a 403, a 5xx or a data-fetching error from the Audit Trail
        When: a fetch runs
        Then: it fails with that error, and every query was sent in the default dialect
        """
        api.mock.post(AUDIT_URL, **answer)
        run = run_fetch(mocker, make_client(retry_policy=RetryPolicy(server_error_pauses=())), {})
        assert run.error is not None
        assert "refused the arguments" not in str(run.error)
        bodies = [item.json()["query"] for item in api.requests_to(AUDIT_URL)]
        assert bodies and all(ORDER_FORMS[FORMS[0]].format(direction="ASC") in body for body in bodies)

    def test_a_later_refusal_starts_the_negotiation_again(self, mocker: MockerFixture, api: LivePersonApi) -> None:
        """
        Given: a stored dialect of enum lists, and an account that now accepts only single strings
        When: a fetch runs
        Then: it tries the forms it has not tried, keeps single strings, and delivers
        """
        demisto.setIntegrationContext(
            {"pages": {"owner": make_settings().reader_key, "largest": 0, "dialect": {"order": FORMS[1]}}}
        )
        api.trail.ordering = "single strings"
        api.trail.add(*series(2, start=10))
        run = run_fetch(mocker, make_client(), {})
        assert names(run.pushed) == ["r0", "r1"]
        assert len(api.trail.refused) == 2
        assert learned_dialect().order_form == "single strings"

    def test_get_events_negotiates_too(self, api: LivePersonApi) -> None:
        """
        Given: an Audit Trail that accepts only single enum values
        When: liveperson-get-events runs
        Then: it returns the records
        """
        api.trail.ordering = "single enum values"
        api.trail.add(*series(3, start=-600))
        result = get_events(make_client(), {"start_time": "1 hour"})
        assert names(result.outputs) == ["r0", "r1", "r2"]


class TestTestModuleNegotiation:
    def test_ok_when_a_form_is_accepted_and_the_debug_log_names_it(
        self, mocker: MockerFixture, api: LivePersonApi
    ) -> None:
        """
        Given: an Audit Trail that accepts enum lists and `first` up to 100
        When: test-module runs
        Then: ok; the debug log names the accepted dialect and the extra calls; the context is untouched
        """
        debug = mocker.patch.object(demisto, "debug")
        api.trail.ordering, api.trail.max_first = "lists of enum values", 100
        api.trail.add(*series(3, start=-600))
        assert LivePerson.test_module(make_client(use_cache=False), NOW, TimeBudgets()) == "ok"
        logged = [call.args[0] for call in debug.call_args_list if call.args[0].startswith("[Query] accepted")]
        assert logged == ["[Query] accepted: ordering as lists of enum values, first: 100 (2 extra call(s) to find it)"]
        assert demisto.getIntegrationContext() == {}

    @pytest.mark.parametrize(
        ("ordering", "named"), [("none", "'orderBy' and 'orderDirection'"), ("ignored", "newest first")]
    )
    def test_failure_names_the_argument(self, api: LivePersonApi, ordering: str, named: str) -> None:
        """
        Given: an Audit Trail that refuses every ordering form, or answers newest first in every accepted one
        When: test-module runs
        Then: it fails at the audit stage naming the ordering arguments (or the order) and the forms tried
        """
        api.trail.ordering = ordering
        api.trail.add(*series(3, start=-600))
        message = LivePerson.test_module(make_client(use_cache=False), NOW, TimeBudgets())
        assert message.startswith("Test failed at the audit trail query stage.")
        assert named in message
        assert all(form in message for form in FORMS)


class TestFirstFetchTime:
    def test_a_new_instance_starts_at_the_first_fetch_time_within_max_fetch(
        self, mocker: MockerFixture, api: LivePersonApi
    ) -> None:
        """
        Given: records from four days back to now, First fetch time '3 days' and max_fetch 40
        When: fetches run until none is waiting, then one more after a new record
        Then: every record from three days back is delivered once, each run at most 40 with nextTrigger 0
              while more wait; the older ones are not
        """
        start = NOW - timedelta(days=3)
        api.trail.add(*series(100, start=-4 * 86400, step=3600))
        client = make_client(first_fetch="3 days", max_fetch="40")
        delivered: list[dict[str, Any]] = []
        state: dict[str, Any] = {}
        for _ in range(10):
            run = run_fetch(mocker, client, state)
            delivered += run.pushed or []
            assert len(run.pushed or []) <= 40
            state = run.saved or {}
            if "nextTrigger" not in state:
                break
        assert api.trail.delivered_exactly(delivered, start) == (0, 0)
        assert min(changed(item) for item in delivered) >= start

    @pytest.mark.parametrize(
        ("value", "accepted"),
        [("tomorrow", "in the future"), ("400 days", "365 days"), ("2020-01-01T00:00:00Z", "365 days")],
    )
    def test_a_first_fetch_time_out_of_reach_is_refused_by_name(
        self, mocker: MockerFixture, api: LivePersonApi, value: str, accepted: str
    ) -> None:
        """
        Given: a First fetch time in the future or more than a year back
        When: a new instance fetches, and when test-module runs
        Then: both fail naming the parameter and what is accepted, before any query
        """
        with pytest.raises(InputError, match=rf"First fetch time.*{accepted}"):
            run_fetch(mocker, make_client(first_fetch=value), {})
        with pytest.raises(InputError, match="first_fetch"):
            LivePerson.test_module(make_client(first_fetch=value), NOW, TimeBudgets())
        assert api.trail.queries == []

    def test_an_unreadable_first_fetch_time_is_refused_when_the_settings_are_read(self) -> None:
        """
        Given: a First fetch time that is not a time
        When: the settings are read
        Then: InputError names the parameter and the formats accepted
        """
        with pytest.raises(InputError, match=r"'First fetch time' \(first_fetch\) must be a time such as"):
            make_settings(first_fetch="whenever")

    def test_a_start_before_every_record_says_so(self, mocker: MockerFixture, api: LivePersonApi) -> None:
        """
        Given: First fetch time '30 days' and records only from yesterday
        When: the first fetch runs
        Then: it logs that the oldest record is later than asked for, and that retention is not documented
        """
        info = mocker.patch.object(demisto, "info")
        api.trail.add(*series(3, start=-86400, step=60))
        run_fetch(mocker, make_client(first_fetch="30 days"), {})
        logged = " ".join(call.args[0] for call in info.call_args_list)
        assert "oldest record it returned is from 2024-04-30" in logged
        assert "does not document how long it keeps" in logged


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
        ],
    )
    def test_time_is_utc_whatever_the_rendering(self, change_date: str, expected: str) -> None:
        """
        Given: changeDate in LivePerson's UTC rendering, and with an offset or a Z
        When: the event's _time is set
        Then: it is the UTC instant with milliseconds
        """
        (event,) = xsiam_events([record(change_date)], [parse_change_date(change_date)])
        assert event["_time"] == expected

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
        (event,) = xsiam_events([raw], [parse_change_date(raw["changeDate"])])
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
        assert make_client(clock=clock).fetch_audit_page(build_audit_query(WINDOW, PAGE_REQUEST, 0)) == ([], None)
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


# ============================================================================ the state


def read(trail: AuditTrail, cursor: Cursor, now: datetime = NOW, largest: int = 0, **rules: Any) -> ReadOutcome:
    """One run of the reading core against `trail`, as fetch-events makes it."""
    deadline = rules.pop("deadline", NO_DEADLINE)
    return read_audit_trail(
        trail.source, cursor, ReadRules(**{"limit": 10_000, "now": now, **rules}), deadline, largest
    )


def stored(outcome: ReadOutcome) -> Cursor:
    """The outcome's cursor as the next run reads it back from lastRun (JSON, as the platform keeps it)."""
    cursor = Cursor.from_last_run(json.loads(json.dumps(outcome.cursor.to_last_run())))
    assert cursor is not None
    return cursor


def placed(since: datetime = BASE, offset: int = 0, window: Window = WINDOW, **fields: Any) -> Cursor:
    """A cursor already placed in `window` (no search needed)."""
    return Cursor(since=since, window=window, offset=offset, **fields)


def offsets(trail: AuditTrail) -> list[int]:
    return [query["offset"] for query in trail.queries]


class TestCursorState:
    """The cursor and its lastRun: round-tripping, bounded, upgrading older states, refusing what is not ours."""

    def test_starting_at(self) -> None:
        """
        Given: a moment in UTC+2
        When: a cursor starts there
        Then: `since` is that instant in UTC, nothing is marked and it is not placed in any window
        """
        moment = datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
        cursor = Cursor.starting_at(moment)
        assert cursor.since == moment
        assert cursor.since.tzinfo is UTC
        assert cursor.to_last_run() == {"version": 3, "since": "2024-05-01T10:00:00.000000Z"}

    @pytest.mark.parametrize(
        "cursor",
        [
            pytest.param(
                placed(
                    since=BASE + timedelta(seconds=5),
                    offset=17,
                    marks={
                        BASE + timedelta(seconds=5): Counter({"AAAAAAAA": 2, "BBBBBBBB": 1}),
                        BASE + timedelta(seconds=5, microseconds=1): Counter({"CCCCCCCC": 1}),
                        BASE + timedelta(hours=3): 4000,
                    },
                    checkpoint=BASE + timedelta(hours=3),
                ),
                id="placed-with-twins-and-a-count",
            ),
            pytest.param(Cursor(since=BASE, window=WINDOW, legacy={"DDDDDDDD": 2}), id="unplaced-with-legacy"),
            pytest.param(Cursor.starting_at(BASE), id="fresh"),
        ],
    )
    def test_last_run_round_trip(self, cursor: Cursor) -> None:
        """
        Given: a cursor with a window, an offset, marks (twins, a changeDate held as a count), or fewer of these
        When: it is saved as lastRun, kept as JSON by the platform, and read back
        Then: the same cursor comes back
        """
        assert Cursor.from_last_run(json.loads(json.dumps(cursor.to_last_run()))) == cursor

    @pytest.mark.parametrize(
        "last_run",
        [
            pytest.param({}, id="empty"),
            pytest.param(None, id="none"),
            pytest.param("2024-05-01", id="text"),
            pytest.param([1, 2], id="list"),
            pytest.param({"lastRun": "2018-10-24T14:13:20+00:00"}, id="mock-default"),
            pytest.param({"since": "2024-05-01T10:00:00.000000Z"}, id="version-less"),
            pytest.param({"version": 99, "since": "2024-05-01T10:00:00.000000Z"}, id="unknown-version"),
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
            pytest.param({"version": 3}, id="no-since"),
            pytest.param({"version": 3, "since": "yesterday"}, id="since-unreadable"),
            pytest.param({"version": 3, "since": "2024-05-01T10:00:00.000000Z", "marks": "!:AAAAAAAA"}, id="delta"),
            pytest.param({"version": 3, "since": "2024-05-01T10:00:00.000000Z", "marks": "0:AAAA"}, id="marks"),
            pytest.param({"version": 3, "since": "2024-05-01T10:00:00.000000Z", "marks": "0:#x"}, id="count"),
            pytest.param({"version": 3, "since": "2024-05-01T10:00:00.000000Z", "window": ["x", "y"]}, id="window"),
            pytest.param({"version": 3, "since": "2024-05-01T10:00:00.000000Z", "window": ["2024-05-01"]}, id="half"),
            pytest.param(
                {
                    "version": 3,
                    "since": "2024-05-01T10:00:00.000000Z",
                    "window": ["2024-05-01", "2024-05-03"],
                    "offset": "x",
                },
                id="offset",
            ),
            pytest.param({"version": 3, "since": "2024-05-01T10:00:00.000000Z", "checkpoint": "soon"}, id="checkpoint"),
            pytest.param({"version": 2, "floor": "2024-05-01T10:00:00.000000Z", "tail": {"xyz": 1}}, id="v2-tail"),
            pytest.param({"version": 2}, id="v2-no-floor"),
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

    @pytest.mark.parametrize(
        ("fields", "since"),
        [
            pytest.param({"version": 2, "behind": 0}, BASE, id="v2"),
            pytest.param({"version": 2, "behind": 3}, BASE + timedelta(microseconds=1), id="v2-records-behind"),
            pytest.param({"version": 1, "floor_complete": True}, BASE, id="v1"),
            pytest.param({"version": 1, "floor_complete": False}, BASE + timedelta(microseconds=1), id="v1-incomplete"),
        ],
    )
    def test_older_states_are_upgraded(self, fields: dict[str, Any], since: datetime) -> None:
        """
        Given: the state of an earlier release: a floor, the hex fingerprints of the last records delivered,
               and (version 2) a window and an offset
        When: it is read
        Then: the floor is `since` (just after it when known records there were only counted), the
              fingerprints are kept to match on sight as today's marks, and the resume point is searched again
        """
        delivered = record_at(0, "seen")
        old_mark = hashlib_hex(delivered)
        last_run = {
            **fields,
            "floor": "2024-05-01T10:00:00.000000Z",
            "tail": {old_mark: 2},
            "window": ["2024-04-30", "2024-05-03"],
            "offset": 7,
        }
        cursor = Cursor.from_last_run(last_run)
        assert cursor == Cursor(since=since, legacy={fingerprint(delivered): 2})

    def test_marks_of_1700_records_fit_the_bound(self) -> None:
        """
        Given: 1,700 distinct records, each at its own changeDate a tenth of a second apart, all marked
        When: the cursor is saved as lastRun, and its marks are bounded
        Then: the marks take at most 32 KB and the rest of the state a few hundred bytes; the bound keeps them all
        """
        marks: LivePerson.Marks = {
            BASE + timedelta(seconds=index / 10): Counter({fingerprint(record_at(index / 10)): 1})
            for index in range(1700)
        }
        state = placed(offset=10**9, marks=marks, checkpoint=BASE).to_last_run()
        assert len(state["marks"]) <= LivePerson.MARKS_BUDGET_BYTES
        assert LivePerson.bound_marks(BASE, marks, LivePerson.END_OF_TIME) == (BASE, marks)
        assert len(json.dumps({key: value for key, value in state.items() if key != "marks"})) <= 300


def hashlib_hex(item: dict[str, Any]) -> str:
    """The fingerprint state version 2 kept: twelve hex characters of a hash of the record (worked out here anew)."""
    import hashlib

    canonical = json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


class TestMarksBound:
    """I4's bound: the marks fit MARKS_BUDGET_BYTES, letting go of the oldest changeDates first."""

    @staticmethod
    def marks_for(count: int, start: datetime = BASE) -> LivePerson.Marks:
        return {start + timedelta(seconds=index): Counter({f"{index:08d}": 1}) for index in range(count)}

    def test_marks_within_the_bound_are_kept(self) -> None:
        """
        Given: marks for 100 changeDates
        When: they are bounded
        Then: nothing changes
        """
        marks = self.marks_for(100)
        assert LivePerson.bound_marks(BASE, marks, LivePerson.END_OF_TIME) == (BASE, marks)

    def test_oldest_changedates_are_let_go_first(self) -> None:
        """
        Given: marks for 5,000 changeDates, one second apart, more than the bound holds
        When: they are bounded with everything seen whole
        Then: `since` moves to the oldest changeDate that still fits, and the newest ones are all kept
        """
        marks = self.marks_for(5000)
        since, kept = LivePerson.bound_marks(BASE, marks, LivePerson.END_OF_TIME)
        assert since == min(kept)
        assert max(kept) == BASE + timedelta(seconds=4999)
        assert len(LivePerson.encode_marks(since, kept)) <= LivePerson.MARKS_KEEP_BYTES
        assert len(kept) == len([moment for moment in marks if moment >= since])

    def test_since_never_passes_a_changedate_not_seen_whole(self) -> None:
        """
        Given: marks over the bound, and a changeDate in the middle that the run did not see whole
        When: they are bounded
        Then: `since` stops at that changeDate
        """
        marks = self.marks_for(5000)
        resume = BASE + timedelta(seconds=100)
        since, kept = LivePerson.bound_marks(BASE, marks, resume)
        assert since == resume
        assert min(kept) == resume

    def test_a_changedate_larger_than_the_bound_is_kept_as_a_count(self) -> None:
        """
        Given: one changeDate with 5,000 distinct marks that the run did not see whole
        When: the marks are bounded
        Then: that changeDate is kept as the count of its deliveries (I2's exception)
        """
        marks: LivePerson.Marks = {BASE: Counter({f"{index:08d}": 1 for index in range(5000)})}
        assert LivePerson.bound_marks(BASE, marks, BASE) == (BASE, {BASE: 5000})


# ============================================================================ windows


class TestWindowPlanning:
    """The fromDate/toDate window: reused, widened for free, moved, capped, and what it surely holds."""

    def test_trusted_bounds(self) -> None:
        """
        Given: a window from 2024-05-01 to 2024-05-03
        When: its trusted bounds are asked for
        Then: 12 h after its first UTC midnight (a day read in UTC-12 starts then) and 14 h before its last
              (a day read in UTC+14, toDate exclusive, ends then)
        """
        window = Window(date(2024, 5, 1), date(2024, 5, 3))
        assert window.trusted_start == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
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
        Then: it runs from the day of start - 12 h to the day after horizon + 14 h
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
        assert plan_window(current, BASE, NOW + timedelta(hours=1)) == Window(date(2024, 4, 30), date(2024, 5, 3))

    def test_from_date_moves_when_the_window_would_grow_too_wide(self) -> None:
        """
        Given: a current window starting four days before the start, too early to widen within the cap
        When: a window is planned
        Then: a new window starts at the day of start - 12 h (offsets must be searched for again)
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
        Then: it starts at the day of start - 12 h and spans exactly MAX_WINDOW_DAYS
        """
        start = NOW - timedelta(days=10)
        window = plan_window(None, start, NOW + timedelta(hours=1))
        assert window.from_day == (start - timedelta(hours=12)).date()
        assert (window.to_day - window.from_day).days == LivePerson.MAX_WINDOW_DAYS


# ============================================================================ finding the resume point


class TestSearch:
    """Where a first run (or a moved window) starts: whole pages read, aimed by time, bounded in calls."""

    @staticmethod
    def steady_trail(count: int, cap: int | None, total_count: str | None, step: float = 2.0) -> AuditTrail:
        """`count` records `step` seconds apart, ending at BASE + 30 s."""
        trail = AuditTrail(cap=cap, total_count=total_count)
        trail.add(*series(count, start=30 - step * (count - 1), step=step))
        return trail

    @pytest.mark.parametrize(
        "total_count", [pytest.param("total", id="total-count"), pytest.param(None, id="no-header")]
    )
    @pytest.mark.parametrize("cap", [pytest.param(None, id="pages-of-500"), pytest.param(100, id="cap-100")])
    def test_a_first_run_finds_where_collection_starts_in_few_reads(
        self, cap: int | None, total_count: str | None
    ) -> None:
        """
        Given: 20,000 records at an even pace in the window, the newest 16 at or after where collection starts
        When: a first run reads from one minute ago
        Then: exactly those 16 are delivered, in at most ceil(log2(N/K)) + 2 calls in all
        """
        trail = self.steady_trail(20_000, cap, total_count)
        outcome = read(trail, Cursor.starting_at(BASE))
        assert names(outcome.events) == [f"r{index}" for index in range(19_984, 20_000)]
        bound = math.ceil(math.log2(20_000 / (cap or PAGE_REQUEST))) + 2
        assert outcome.calls <= bound
        assert outcome.cursor.offset == 19_984

    def test_a_misleading_burst_costs_at_most_twice_a_plain_search(self) -> None:
        """
        Given: a window whose first 500 records share one second, then 20,000 at an even pace, no X-Total-Count
        When: a first run reads from one minute ago
        Then: the aim by time is wrong at first, yet the calls stay within 2·ceil(log2(N/K)) + 3, exactly once
        """
        trail = AuditTrail(total_count=None)
        trail.add(*[record_at(-40_000, f"burst{index}") for index in range(500)])
        trail.add(*series(20_000, start=30 - 2.0 * 19_999, step=2.0))
        outcome = read(trail, Cursor.starting_at(BASE))
        assert names(outcome.events) == [f"r{index}" for index in range(19_984, 20_000)]
        assert outcome.calls <= 2 * math.ceil(math.log2(20_500 / PAGE_REQUEST)) + 3

    @pytest.mark.parametrize("cap", [pytest.param(1, id="cap-1"), pytest.param(7, id="cap-7")])
    def test_tiny_pages(self, cap: int) -> None:
        """
        Given: a server answering one or seven records a call, 300 records two seconds apart
        When: a first run reads from one minute ago
        Then: the 16 records from the start on, exactly once
        """
        trail = self.steady_trail(300, cap, None)
        outcome = read(trail, Cursor.starting_at(BASE))
        assert names(outcome.events) == [f"r{index}" for index in range(284, 300)]

    def test_an_empty_window_costs_one_call(self) -> None:
        """
        Given: an account with no records at all
        When: a first run reads
        Then: one call, nothing delivered, and the cursor placed at offset 0
        """
        trail = AuditTrail()
        outcome = read(trail, Cursor.starting_at(BASE))
        assert (outcome.events, outcome.calls, outcome.cursor.offset) == ([], 1, 0)

    def test_a_moved_window_starts_its_search_at_the_old_offset(self) -> None:
        """
        Given: a cursor at offset 6,000 of a window that must move a day on
        When: the run reads
        Then: its first read is at 6,000 (the new answer is part of the old one), and nothing is lost or repeated
        """
        trail = AuditTrail(total_count=None)
        trail.add(*series(9000, start=-(9000 - 1) * 20, step=20))
        old = Window(date(2024, 4, 28), date(2024, 5, 1))
        cursor = Cursor(since=BASE - timedelta(seconds=20 * 10), window=old, offset=6000)
        outcome = read(trail, cursor)
        assert trail.queries[0]["offset"] == 6000
        assert trail.queries[0]["window"] != old
        assert names(outcome.events) == [f"r{index}" for index in range(8989, 9000)]


# ============================================================================ the reading core


def at(seconds: float, name: str, **overrides: Any) -> dict[str, Any]:
    """A record `seconds` after BASE; `record_at` with the name first, for tables of records."""
    return record_at(seconds, name, **overrides)


FINAL = NOW + timedelta(minutes=30)  # a run long after every record of these tests: all of them are final (A5)


class TestReadingCore:
    """read_audit_trail against the in-memory model: what each rule of the scan delivers, reads and saves."""

    def test_steady_runs_deliver_new_records_in_one_call(self) -> None:
        """
        Given: a collector that read five records, then two more arriving before each of three runs
        When: the runs follow one another a minute apart
        Then: each run delivers exactly the new records with one Audit Trail call
        """
        trail = AuditTrail()
        trail.add(*series(5, start=10))
        outcome = read(trail, Cursor.starting_at(BASE))
        assert names(outcome.events) == ["r0", "r1", "r2", "r3", "r4"]
        cursor, largest = stored(outcome), outcome.largest
        for minute in range(1, 4):
            trail.add(at(60 * minute, f"a{minute}"), at(60 * minute + 1, f"b{minute}"))
            trail.queries.clear()
            outcome = read(trail, cursor, now=NOW + timedelta(minutes=minute), largest=max(largest, PAGE_REQUEST))
            assert names(outcome.events) == [f"a{minute}", f"b{minute}"]
            assert len(trail.queries) == 1
            cursor = stored(outcome)

    def test_a_final_changedate_split_by_the_page_boundary_is_not_read_twice(self) -> None:
        """
        Given: pages of five; four records at one second, then three distinct ones sharing the next second,
               so the boundary splits that second; every record older than L
        When: a run reads from the start
        Then: all seven arrive once, and no page starts inside that second again (its two parts share nothing)
        """
        trail = AuditTrail(cap=5)
        trail.add(*[at(1, f"a{index}") for index in range(4)], *[at(2, f"b{index}") for index in range(3)])
        outcome = read(trail, placed(), now=FINAL)
        assert sorted(names(outcome.events)) == ["a0", "a1", "a2", "a3", "b0", "b1", "b2"]
        assert offsets(trail) == [0, 5, 7]

    def test_twins_split_by_the_page_boundary_are_read_again_whole(self) -> None:
        """
        Given: pages of five; four records, then identical twins sharing the next second, split by the boundary
        When: a run reads from the start
        Then: the second is read again from its first record, and both twins arrive, once each
        """
        trail = AuditTrail(cap=5)
        trail.add(*[at(1, f"a{index}") for index in range(4)], at(2, "twin"), at(2, "twin"))
        outcome = read(trail, placed(), now=FINAL)
        assert names(outcome.events) == ["a0", "a1", "a2", "a3", "twin", "twin"]
        assert offsets(trail)[:3] == [0, 5, 4]

    def test_a_recent_last_changedate_is_read_again_from_its_first_record(self) -> None:
        """
        Given: pages of five; recent records, the fifth and sixth sharing one second
        When: a run reads from the start
        Then: the second page starts at the fifth record, and the six arrive once each
        """
        trail = AuditTrail(cap=5)
        trail.add(*series(4, start=10), at(20, "x"), at(20, "y"))
        outcome = read(trail, placed())
        assert names(outcome.events) == ["r0", "r1", "r2", "r3", "x", "y"]
        assert offsets(trail)[:2] == [0, 4]

    @pytest.mark.parametrize("seed", range(5))
    def test_ties_in_a_new_order_on_every_answer_arrive_once(self, seed: int) -> None:
        """
        Given: pages of seven, and bursts of up to six records sharing a second that LivePerson returns in a
               new order on every answer, recent and final, twins among them
        When: runs follow every minute as records arrive
        Then: every record arrives exactly once
        """
        rng = random.Random(seed)
        trail = AuditTrail(cap=7, shuffle_ties=True, seed=seed)
        cursor, largest, delivered = Cursor.starting_at(BASE), 0, []
        for minute in range(20):
            for burst in range(rng.randint(0, 5)):
                second = 60 * minute - 1 - 9 * burst
                batch = [at(second, f"m{minute}b{burst}n{index}") for index in range(rng.randint(1, 5))]
                trail.add(*batch, *([dict(batch[0])] if rng.random() < 0.3 else []))
            outcome = read(trail, cursor, now=BASE + timedelta(minutes=minute, seconds=5), largest=largest)
            delivered += outcome.events
            cursor, largest = stored(outcome), outcome.largest
        assert trail.delivered_exactly(delivered, BASE) == (0, 0)

    def test_a_second_larger_than_a_page_is_read_as_consecutive_pages(self, mocker: MockerFixture) -> None:
        """
        Given: pages of five and one final second holding twelve records, twins among them, between others
        When: a run reads from the start
        Then: every record arrives once, and the run logs that this second relied on a stable order of ties
        """
        info = mocker.patch.object(demisto, "info")
        trail = AuditTrail(cap=5)
        big = [at(5, f"big{index // 2 if index < 4 else index}") for index in range(12)]
        trail.add(at(1, "before"), *big, at(9, "after"))
        outcome = read(trail, placed(), now=FINAL)
        assert trail.delivered_exactly(outcome.events, BASE) == (0, 0)
        assert any(
            "more records share one changeDate than one page holds" in call.args[0] for call in info.call_args_list
        )

    def test_a_record_committed_behind_the_read_between_two_pages(self) -> None:
        """
        Given: pages of five, recent records, and a record committed just after the first answer, stamped
               between records that answer already held
        When: a run reads, then the next one
        Then: every record arrives once, the late one included
        """
        trail = AuditTrail(cap=5)
        trail.add(*series(12, start=10))
        late = at(11.5, "late")

        def commit_once(model: AuditTrail) -> None:
            model.add(late)
            model.after_answer = None

        trail.after_answer = commit_once
        first = read(trail, placed())
        second = read(trail, stored(first), now=NOW + timedelta(minutes=1), largest=first.largest)
        assert trail.delivered_exactly(first.events + second.events, BASE) == (0, 0)

    def test_a_record_committed_late_between_runs_is_found_within_l(self) -> None:
        """
        Given: a run that delivered records up to 10:00:40, then a record stamped 10:00:20 committed
               four minutes later (within L of five)
        When: the next run reads
        Then: it delivers that record only, once
        """
        trail = AuditTrail()
        trail.add(*series(5, start=0, step=10))
        first = read(trail, placed())
        trail.add(at(20, "late"))
        second = read(trail, stored(first), now=NOW + timedelta(minutes=4), largest=first.largest)
        assert names(second.events) == ["late"]

    def test_l_says_how_far_back_late_commits_are_looked_for(self) -> None:
        """
        Given: L of one minute, and a record committed late after a run that saw its neighbours
        When: the next run comes two minutes later
        Then: `since` has moved past it (it was final by then), so it is not sent, as A5 says
        """
        trail = AuditTrail()
        trail.add(*series(5, start=0, step=10))
        first = read(trail, placed(), late_commit=timedelta(minutes=1))
        assert stored(first).since == NOW - timedelta(minutes=1)
        trail.add(at(-5, "too-late"))
        second = read(trail, stored(first), now=NOW + timedelta(minutes=2), late_commit=timedelta(minutes=1))
        assert names(second.events) == []

    def test_a_cap_below_the_largest_page_is_learned_from_delivered_records(self) -> None:
        """
        Given: a collector that saw pages of 500 and holds marks for 300 recent records, and a server now
               answering 100 a call, with 50 new records after those
        When: the next run reads
        Then: a short page ending before delivered records proves the cap: the run reads on and delivers the 50
        """
        trail = AuditTrail()
        trail.add(*series(300, start=-100, step=0.3))
        first = read(trail, placed(since=BASE - timedelta(minutes=3)), largest=PAGE_REQUEST)
        trail.cap = 100
        trail.add(*series(50, start=5, step=0.1, prefix="new"))
        second = read(trail, stored(first), now=NOW + timedelta(seconds=20), largest=first.largest)
        assert names(second.events) == [f"new{index}" for index in range(50)]
        assert second.largest == 100

    def test_a_short_page_of_old_records_does_not_end_the_newest_window(self) -> None:
        """
        Given: a collector that saw pages of 500, a server now answering 100 a call, and 250 final records
        When: a run reads from before them
        Then: the short pages are read on (their records are older than L), and all 250 arrive
        """
        trail = AuditTrail(cap=100)
        trail.add(*series(250, start=-3000, step=1))
        outcome = read(trail, placed(since=BASE - timedelta(hours=1)), largest=PAGE_REQUEST)
        assert len(outcome.events) == 250

    def test_only_an_empty_page_ends_a_window_the_run_moves_on_from(self) -> None:
        """
        Given: records across five days, and pages whose length changes on every call (a cap by bytes)
        When: a run catches up from the first day, window after window
        Then: every record arrives once
        """
        trail = AuditTrail(page_length=lambda call: 40 + (call * 37) % 60, total_count=None)
        trail.add(*series(600, start=-5 * 86_400, step=720))
        outcome = read(trail, Cursor.starting_at(BASE - timedelta(days=5, minutes=1)), largest=PAGE_REQUEST)
        assert trail.delivered_exactly(outcome.events, BASE - timedelta(days=5, minutes=1)) == (0, 0)
        assert len({query["window"] for query in trail.queries}) >= 2

    def test_the_limit_is_never_exceeded_and_the_rest_follows(self) -> None:
        """
        Given: max_fetch 3 and five new records sharing one second, then two more
        When: runs follow until nothing more is waiting
        Then: three, three, one; each run asks for the next at once until the last, and all arrive once
        """
        trail = AuditTrail()
        trail.add(*[at(10, f"s{index}") for index in range(5)], at(11, "x"), at(12, "y"))
        cursor, delivered, counts, waiting = placed(), [], [], []
        for _ in range(5):
            outcome = read(trail, cursor, limit=3)
            delivered += outcome.events
            counts.append(len(outcome.events))
            waiting.append(outcome.more_waiting)
            cursor = stored(outcome)
            if not outcome.more_waiting:
                break
        assert counts == [3, 3, 1]
        assert waiting == [True, True, False]
        assert trail.delivered_exactly(delivered, BASE) == (0, 0)

    def test_the_limit_holds_after_a_quiet_spell(self) -> None:
        """
        Given: a cursor saved three days ago, then 300 records arriving today, and max_fetch 10
        When: the next run reads
        Then: it delivers ten, the oldest, and asks for more
        """
        trail = AuditTrail()
        trail.add(*series(300, start=-200))
        cursor = placed(since=BASE - timedelta(days=3), window=Window(date(2024, 4, 27), date(2024, 4, 30)))
        outcome = read(trail, cursor, limit=10)
        assert names(outcome.events) == [f"r{index}" for index in range(10)]
        assert outcome.more_waiting

    def test_out_of_time_keeps_what_was_read(self) -> None:
        """
        Given: pages of five, twelve recent records, and a deadline that passes after the second call
        When: a run reads, then the next one without a deadline
        Then: the first delivers what two pages held and asks for more; the second the rest; all once
        """
        trail = AuditTrail(cap=5)
        trail.add(*series(12, start=10))
        clock = itertools.chain([0, 0], itertools.repeat(10))
        deadline = Deadline(5, lambda: next(clock))
        first = read(trail, placed(), deadline=deadline)
        assert first.more_waiting
        assert 0 < len(first.events) < 12
        second = read(trail, stored(first), largest=first.largest)
        assert trail.delivered_exactly(first.events + second.events, BASE) == (0, 0)

    def test_a_failure_mid_run_keeps_what_was_read(self) -> None:
        """
        Given: pages of five and twelve recent records; the third call fails
        When: a run reads, then the next one with the server healthy
        Then: the first returns the error with the records read and a cursor matching them; the second the rest
        """
        trail = AuditTrail(cap=5, fail=lambda call: call == 2)
        trail.add(*series(12, start=10))
        first = read(trail, placed())
        assert isinstance(first.error, LivePersonError)
        trail.fail = None
        second = read(trail, stored(first), largest=first.largest)
        assert 0 < len(first.events) < 12
        assert trail.delivered_exactly(first.events + second.events, BASE) == (0, 0)

    def test_an_answer_newest_first_is_refused_with_nothing_sent(self) -> None:
        """
        Given: an Audit Trail that ignores orderDirection and answers newest first
        When: a run reads
        Then: the error says so, nothing is delivered and the cursor is where it was
        """
        trail = AuditTrail()
        trail.add(*series(5, start=10))
        source = trail.source

        def trail_source(
            window: Window, offset: int, first: int, descending: bool = False
        ) -> tuple[list[dict[str, Any]], None]:
            return list(reversed(source(window, offset, first, descending)[0])), None

        cursor = placed()
        outcome = read_audit_trail(trail_source, cursor, ReadRules(limit=100, now=NOW), NO_DEADLINE)
        assert "out of time order" in str(outcome.error)
        assert outcome.events == []
        assert outcome.cursor == cursor

    def test_the_state_bound_shrinks_late_commit_cover_and_says_so(self, mocker: MockerFixture) -> None:
        """
        Given: 5,000 recent records a twentieth of a second apart, more than the marks may hold
        When: a run reads them
        Then: all arrive, lastRun stays within 32 KB of marks plus a few hundred bytes, and the run logs how far
              back late commits are still looked for
        """
        info = mocker.patch.object(demisto, "info")
        trail = AuditTrail()
        trail.add(*series(5000, start=-250 + 0.05, step=0.05))
        outcome = read(trail, placed(since=BASE - timedelta(minutes=5)))
        assert len(outcome.events) == 5000
        state = outcome.cursor.to_last_run()
        assert len(json.dumps(state)) <= LivePerson.MARKS_BUDGET_BYTES + 300
        assert outcome.cursor.since > NOW - timedelta(minutes=5)
        assert any("looked for back to" in call.args[0] for call in info.call_args_list)

    def test_a_recent_second_larger_than_the_state_with_twins_arrives_whole(self) -> None:
        """
        Given: 5,000 records stamped in one second two minutes ago, one in ten after the first page an identical
               twin of a record a page earlier, pages of 500, and max_fetch 5,000
        When: a run reads them, then the next one with five more records
        Then: every record arrives once (the pages of that second are added up, twins across pages included),
              and the state stays within its bound
        """
        trail = AuditTrail()
        second = [at(-120, f"s{index - 497 if index >= 500 and index % 10 == 3 else index}") for index in range(5000)]
        trail.add(*second)
        first = read(trail, placed(since=BASE - timedelta(minutes=2, seconds=1)), limit=5000)
        trail.add(*series(5, start=50, prefix="after"))
        after = read(trail, stored(first), now=NOW + timedelta(seconds=5), limit=5000, largest=first.largest)
        assert trail.delivered_exactly(first.events + after.events, BASE - timedelta(minutes=3)) == (0, 0)
        assert len(json.dumps(stored(first).to_last_run())) <= LivePerson.MARKS_BUDGET_BYTES + 300

    def test_an_upgraded_state_sends_nothing_twice(self) -> None:
        """
        Given: version 2's state after it delivered r0..r2 (its tail), with r3 and r4 arriving since
        When: the first run of this version reads it
        Then: only r3 and r4 arrive, and the old fingerprints are gone from the state after a full read
        """
        trail = AuditTrail()
        trail.add(*series(5, start=10))
        tail = Counter(hashlib_hex(item) for item in trail.records[:3])
        old = {"version": 2, "floor": "2024-05-01T10:00:10.000000Z", "behind": 0, "tail": dict(tail)}
        cursor = Cursor.from_last_run(old)
        assert cursor is not None
        outcome = read(trail, cursor)
        assert names(outcome.events) == ["r3", "r4"]
        assert "legacy" not in outcome.cursor.to_last_run()


def from_end(since: datetime = BASE, **fields: Any) -> Cursor:
    """A cursor that reads WINDOW from its newest end (a result window keeps its resume point out of reach)."""
    return Cursor(since=since, window=WINDOW, from_end=True, **fields)


class TestResultWindow:
    """A result window (offset + first refused past N): the start found, the rest read from the newest end."""

    def test_a_new_instance_on_a_busy_day_starts_and_collects_exactly_once(
        self, mocker: MockerFixture, api: LivePersonApi
    ) -> None:
        """
        Given: an Audit Trail refusing offset + first above 100, and 400 records earlier in the day
        When: a new instance fetches, then three more runs follow with records arriving between them
        Then: no run fails; every record from one minute before the first run arrives once; the one refused
              call is the first contact that taught the ceiling, and no later query reaches past it
        """
        api.trail.ceiling = 100
        api.trail.add(*series(400, start=-6000, step=10, prefix="old"))
        saved: Any = {}
        delivered: list[dict[str, Any]] = []
        for run in range(4):
            api.trail.add(*series(30, start=60 * run + 1, step=1.5, prefix=f"run{run}-"))
            result = run_fetch(mocker, make_client(), saved, now=NOW + timedelta(minutes=run))
            assert result.error is None
            delivered += result.pushed or []
            saved = result.saved
        assert api.trail.delivered_exactly(delivered, BASE) == (0, 0)
        assert len(delivered) == 120
        assert len(api.trail.refused) == 1
        assert all(query["offset"] + query["first"] <= 100 for query in api.trail.queries)
        assert saved["from_end"] is True

    def test_the_newest_end_is_read_exactly_once_under_ties_twins_late_commits_and_a_limit(self) -> None:
        """
        Given: a result window of 400, pages capped at 7, ties in a new order on every answer, bursts of one
               changeDate with twins, records committed late (within L), and max_fetch 25
        When: forty runs read from the newest end, records arriving between them
        Then: every record at or after the start arrives exactly once, no run delivers more than 25, and the
              state keeps reading from the newest end
        """
        clock = {"now": NOW}
        trail = AuditTrail(ceiling=400, cap=7, shuffle_ties=True, seed=3, clock=lambda: clock["now"])
        rng = random.Random(11)
        trail.add(*series(200, start=-3000, step=10, prefix="old"))
        cursor, largest, delivered = from_end(), 0, []
        for run in range(40):
            now = NOW + timedelta(seconds=20 * run)
            for index in range(rng.randint(0, 6)):
                moment = (now - timedelta(seconds=rng.uniform(0, 19))).timestamp() - BASE.timestamp()
                trail.add(record_at(moment, f"a{run}-{index}"))
            if rng.random() < 0.3:
                burst = record_at((now - BASE).total_seconds() - 3, f"burst{run}")
                trail.add(*(dict(burst, objectName=f"burst{run}-{n % 3}") for n in range(5)))
            if rng.random() < 0.3:
                late = record_at((now - BASE).total_seconds() - 90, f"late{run}")
                trail.add(late, committed=now - timedelta(seconds=1))
            clock["now"] = now
            outcome = read(trail, cursor, now=now, largest=largest, limit=25)
            assert outcome.error is None and outcome.skipped == []
            assert len(outcome.events) <= 25
            delivered += outcome.events
            cursor, largest = stored(outcome), outcome.largest
            assert cursor.from_end
        clock["now"] = now = NOW + timedelta(hours=1)
        for _ in range(10):
            outcome = read(trail, cursor, now=now, largest=largest, limit=25)
            delivered += outcome.events
            cursor = stored(outcome)
        assert trail.delivered_exactly(delivered, BASE) == (0, 0)

    def test_a_stretch_hidden_from_both_ends_is_warned_once_and_everything_else_arrives_once(
        self, mocker: MockerFixture
    ) -> None:
        """
        Given: 400 records in the day's answer, a result window of 100 (pages of 50), and collection
               starting before the first of them
        When: a run reads, then another with ten more records
        Then: the first 100 are read oldest first, the newest 98 from the other end; the 202 between are given
              up in one warning naming the ceiling, the day and their number, and listed in the outcome; the
              second run sends the ten new ones and warns no more
        """
        info = mocker.patch.object(demisto, "info")
        trail = AuditTrail(ceiling=100)
        trail.add(*series(400, start=-5000, step=10))
        first = read(trail, placed(since=BASE - timedelta(seconds=5000)))
        hidden = [f"r{index}" for index in range(100, 302)]
        assert sorted(names(first.events)) == sorted({f"r{index}" for index in range(400)} - set(hidden))
        [skipped] = first.skipped
        assert (skipped.ceiling, skipped.count) == (100, 202)
        assert (skipped.start, skipped.end) == (changed(trail.records[99]), changed(trail.records[302]))
        warnings = [call.args[0] for call in info.call_args_list if "result window" in call.args[0]]
        assert len(warnings) == 1
        assert "past record 100" in warnings[0] and "2024-05-01" in warnings[0]
        assert "about 202 record(s) not collected" in warnings[0]
        trail.add(*series(10, start=10, prefix="new"))
        second = read(trail, stored(first), now=NOW + timedelta(seconds=30), largest=first.largest)
        assert sorted(names(second.events)) == [f"new{index}" for index in range(10)]
        assert second.skipped == []
        assert len([call for call in info.call_args_list if "result window" in call.args[0]]) == 1

    def test_changedates_that_end_at_a_page_boundary_are_seen_whole_and_an_old_window_is_left(self) -> None:
        """
        Given: a result window of 10, pages capped at one record, a cursor reading a window three days old from
               its newest end, and three records after `since`, each its own changeDate
        When: a run reads
        Then: the three arrive once, each seen whole across its page boundary, so `since` passes them and the
              run moves on to the present instead of reading the old window again
        """
        trail = AuditTrail(ceiling=10, cap=1)
        trail.add(record_at(-10, "older"), *series(3, start=1))
        outcome = read(trail, from_end(), now=NOW + timedelta(days=3))
        assert sorted(names(outcome.events)) == ["r0", "r1", "r2"]
        assert not outcome.more_waiting and outcome.error is None
        assert outcome.cursor.since > WINDOW.trusted_end

    def test_a_changedate_larger_than_the_result_window_is_given_up_not_read_again_and_again(
        self, mocker: MockerFixture
    ) -> None:
        """
        Given: a result window of 10 (pages of 5), and a cursor reading a window three days old from its newest
               end, whose newest changeDate holds 30 records (a bulk change) after a record already delivered
        When: a run reads
        Then: that changeDate can never be read whole, so it is given up with the warning and `since` passes it;
              the run moves on to the present instead of reading the same pages until it gives out
        """
        info = mocker.patch.object(demisto, "info")
        trail = AuditTrail(ceiling=10)
        trail.add(record_at(0, "delivered"), *(record_at(5, f"bulk{index}") for index in range(30)))
        outcome = read(trail, from_end(marks={changed(trail.records[0]): 1}), now=NOW + timedelta(days=3))
        assert not outcome.more_waiting and outcome.error is None
        [skipped] = outcome.skipped
        assert skipped.start == BASE and skipped.end > changed(trail.records[1])
        assert outcome.cursor.since > WINDOW.trusted_end
        assert len([call for call in info.call_args_list if "result window" in call.args[0]]) == 1

    def test_twins_split_across_two_pages_from_the_end_both_arrive_and_only_when_nothing_moved(self) -> None:
        """
        Given: pages capped at one record read from the newest end, and one changeDate holding two identical
               records (twins) after `since`
        When: a run reads with nothing arriving between its reads; and another where a record arrives
              after the first read (so the second part may repeat the first)
        Then: the quiet run delivers both twins; the busy one cannot add its parts up, so it keeps `since` at
              that changeDate, and with the quiet run after it the twins arrive exactly twice: never more than
              exist, and none lost
        """
        twin = record_at(5, "twin")
        quiet = AuditTrail(ceiling=10, cap=1)
        quiet.add(record_at(0, "older"), twin, dict(twin))
        assert names(read(quiet, from_end(since=BASE + timedelta(seconds=1))).events) == ["twin", "twin"]
        arrive = lambda trail: trail.add(record_at(50, "arrival")) if len(trail.queries) == 1 else None  # noqa: E731
        busy = AuditTrail(ceiling=10, cap=1, after_answer=arrive)
        busy.add(record_at(0, "older"), twin, dict(twin))
        first = read(busy, from_end(since=BASE + timedelta(seconds=1)), now=NOW + timedelta(minutes=5))
        assert first.cursor.since == changed(twin)
        busy.after_answer = None
        second = read(busy, stored(first), now=NOW + timedelta(minutes=6), largest=first.largest)
        assert names(first.events + second.events).count("twin") == 2
        assert second.cursor.since > changed(twin)

    def test_a_final_changedate_larger_than_a_page_is_read_in_parts_from_the_end(self) -> None:
        """
        Given: a result window of 1,000 read from the newest end, pages capped at 40, and 130 records of one
               changeDate (ten minutes old) between others
        When: a run reads, then another
        Then: all arrive once (its parts merged), `since` moves past that changeDate, and the second run
              sends nothing
        """
        trail = AuditTrail(ceiling=1000, cap=40)
        trail.add(*series(20, start=-900, step=5, prefix="before"))
        trail.add(*(record_at(-600, f"big{index}") for index in range(130)))
        trail.add(*series(20, start=-500, step=20, prefix="after"))
        first = read(trail, from_end(since=BASE - timedelta(seconds=900)))
        assert trail.delivered_exactly(first.events, BASE - timedelta(seconds=900)) == (0, 0)
        assert first.cursor.since > changed(trail.records[30])
        second = read(trail, stored(first), now=NOW + timedelta(seconds=10), largest=first.largest)
        assert second.events == []

    def test_out_of_time_part_way_delivers_nothing_and_the_next_run_reads_it_all(self) -> None:
        """
        Given: a cursor reading from the newest end, 90 records to read in pages of 20, and a deadline after
               two reads
        When: a run runs out of time, then the next run has time
        Then: the first delivers nothing and keeps its cursor; the second delivers all 90 once
        """
        trail = AuditTrail(ceiling=1000, cap=20)
        trail.add(*series(90, start=-30, step=0.5))
        clock = itertools.chain([0, 0], itertools.repeat(10))
        deadline = Deadline(5, lambda: next(clock))
        first = read(trail, from_end(since=BASE - timedelta(minutes=1)), deadline=deadline)
        assert first.events == [] and first.more_waiting
        assert stored(first) == from_end(since=BASE - timedelta(minutes=1))
        second = read(trail, stored(first))
        assert trail.delivered_exactly(second.events, BASE - timedelta(minutes=1)) == (0, 0)

    def test_a_new_window_is_read_oldest_first_again(self) -> None:
        """
        Given: a cursor reading a window from its newest end, and a run two days later
        When: the window moves to a later day
        Then: its resume point is searched for oldest first (a new day's answer starts small) and the
              records arrive once
        """
        trail = AuditTrail(ceiling=1000)
        later = NOW + timedelta(days=2)
        trail.add(*series(5, start=2 * 86_400 - 30, prefix="later"))
        outcome = read(trail, from_end(since=BASE), now=later)
        assert names(outcome.events) == [f"later{index}" for index in range(5)]
        assert not outcome.cursor.from_end
        later_reads = [query for query in trail.queries if query["window"].from_day > WINDOW.from_day]
        assert later_reads and not any(query["descending"] for query in later_reads)

    def test_the_search_stays_within_the_result_window_when_the_start_is_within_it(self) -> None:
        """
        Given: a result window of 400 (pages of 200), 700 records in the answer with X-Total-Count aiming the
               search past the window, and collection resuming at the 250th, beyond the newest end's reach
        When: a run reads
        Then: the search moves back within the window and finds the start: records from the 250th are read
              oldest first up to the window, the rest from the newest end, all once and none given up
        """
        trail = AuditTrail(ceiling=400)
        trail.add(*series(700, start=-8000, step=10))
        since = changed(trail.records[250])
        outcome = read(trail, Cursor(since=since))
        assert outcome.error is None and outcome.skipped == []
        assert trail.delivered_exactly(outcome.events, since) == (0, 0)
        assert names(outcome.events)[:3] == ["r250", "r251", "r252"]

    def test_reading_from_the_end_survives_lastrun(self) -> None:
        """
        Given: cursors reading from the newest end, and a lastRun whose from_end is not a boolean
        When: they are saved and read back
        Then: the flag round-trips; a foreign value, or one without a window, reads as oldest first
        """
        cursor = from_end(offset=None)
        assert stored(ReadOutcome(cursor, 0, [], [])) == cursor
        state = {**cursor.to_last_run(), "from_end": "yes"}
        assert Cursor.from_last_run(state) == replace(cursor, from_end=False)
        assert Cursor.from_last_run({"version": 3, "since": cursor.to_last_run()["since"], "from_end": True}) == (
            Cursor(since=BASE)
        )


# ============================================================================ fetch-events


class TestFetchEvents:
    """fetch-events: where it starts, what it pushes, and that it saves only what was pushed."""

    def test_first_run_starts_one_minute_ago(self, mocker: MockerFixture, api: LivePersonApi) -> None:
        """
        Given: an empty lastRun and records from two minutes and thirty seconds ago
        When: the first fetch runs
        Then: only the recent record is pushed; the state keeps `since` where collection started (within L of
              now) with the record's mark, and nothing more is waiting
        """
        api.trail.add(
            record("2024-05-01 09:59:00.0", objectName="old"), record("2024-05-01 10:00:30.0", objectName="new")
        )
        run = run_fetch(mocker, make_client(), {})
        assert names(run.pushed) == ["new"]
        assert run.saved is not None
        assert run.saved["version"] == 3
        assert run.saved["since"] == "2024-05-01T10:00:00.000000Z"
        # 30 s after `since`, in microseconds written in base 36, then the record's fingerprint
        assert run.saved["marks"] == f"hv05c:{fingerprint(record('2024-05-01 10:00:30.0', objectName='new'))}"
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
        Given: our lastRun with an unreadable `since`, and a record from thirty seconds ago
        When: a fetch runs
        Then: the damage is logged as an error and collection starts again from one minute ago
        """
        api.trail.add(record_at(30, "a"))
        error = mocker.patch.object(demisto, "error")
        run = run_fetch(mocker, make_client(), {"version": 3, "since": "garbage"})
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

    def test_the_largest_page_is_remembered_per_account(self, mocker: MockerFixture, api: LivePersonApi) -> None:
        """
        Given: a server returning five records a call, and twelve records; a first run sees its pages
        When: a run of the same account and one of another account start afresh
        Then: the same account knows pages hold five (a page of three ends a run at once); the other knows nothing
        """
        api.trail.add(*series(12, start=10))
        api.trail.cap = 5
        run_fetch(mocker, make_client(), {})
        assert LivePerson.AccountKnowledge.load(make_settings()).largest == 5
        api.add_account(OTHER_ACCOUNT)
        assert LivePerson.AccountKnowledge.load(make_settings(account_id=OTHER_ACCOUNT)).largest == 0

    def test_largest_page_is_stored_only_when_it_changed(self, mocker: MockerFixture) -> None:
        """
        Given: a largest page already stored next to a cached token
        When: the same number is saved, then another
        Then: the first save writes nothing; the second replaces only the page entry
        """
        settings = make_settings()
        demisto.setIntegrationContext({"token": {"owner": "x"}})
        LivePerson.AccountKnowledge(largest=5).save(settings)
        write = mocker.spy(demisto, "setIntegrationContext")
        LivePerson.AccountKnowledge(largest=5).save(settings)
        write.assert_not_called()
        LivePerson.AccountKnowledge(largest=7).save(settings)
        write.assert_called_once()
        assert LivePerson.AccountKnowledge.load(settings).largest == 7
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

    def test_what_a_result_window_hides_is_said_under_the_table(self, api: LivePersonApi) -> None:
        """
        Given: an Audit Trail refusing offset + first above 100, and 400 records in the range asked for
        When: liveperson-get-events reads them
        Then: it does not fail; the table holds what both ends could be read, and a line under it names the
              stretch between and about how many records it held
        """
        api.trail.ceiling = 100
        api.trail.add(*series(400, start=-5000, step=10))
        result = get_events(make_client(), {"start_time": "2 hours", "limit": "1000"})
        assert 0 < len(result.outputs) < 400
        hidden = 400 - len(result.outputs)
        assert result.readable_output.endswith(
            f"**Not shown:** about {hidden} record(s) from {LivePerson.format_time(changed(api.trail.records[99]))} "
            f"to {LivePerson.format_time(changed(api.trail.records[100 + hidden]))}: the Audit Trail refuses to page "
            "past record 100 of an answer (its result window), and they lie deeper from both ends."
        )

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
        Then: ok, after discovery, a fresh token and one full page, without touching the integration context
        """
        assert LivePerson.test_module(make_client(use_cache=False), NOW, TimeBudgets()) == "ok"
        assert api.calls_to(DOMAIN_URL) == 1
        assert api.calls_to(TOKEN_URL) == 1
        assert [query["first"] for query in api.trail.queries] == [PAGE_REQUEST]
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
