import demistomock as demisto  # noqa: F401
from CommonServerPython import *  # noqa: F401
from CommonServerUserPython import *  # noqa: F401

import base64
import bisect
import hashlib
import json
import operator
import re
import time
import traceback
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from itertools import islice, repeat
from typing import Any, Protocol

import requests

# ==================================================================================== constants

VENDOR = "LivePerson"
PRODUCT = "LiveEngage"
SOURCE_LOG_TYPE = "audit"
INTEGRATION_PREFIX = "LivePerson"

DOMAIN_SERVICE = "accountConfigReadOnly"
DEFAULT_DOMAIN_API_HOST = "api.liveperson.net"
DOMAIN_LOOKUP_PATH = "/api/account/{account_id}/service/{service}/baseURI.json"
TOKEN_PATH = "/sentinel/api/v2/account/{account_id}/app/token"
AUDIT_PATH = "/api/account/{account_id}/configuration/metadata/audit"

# Every record field the Audit Trail documents; the query selects all of them.
AUDIT_RECORD_FIELDS = (
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
)
# The context keys users of the previous public collector rely on, and where they come from.
LEGACY_CONTEXT_KEYS = {"changeType": "actionType", "userId": "originatorUserId", "changedBy": "originator"}
# The fields the get-events `originator` argument is compared with.
ORIGINATOR_FIELDS = ("originatorUserId", "originatorLoginName", "originator")

ACCOUNT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_]{1,20}$")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOST_PATTERN = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*(?::(?P<port>\d{{1,5}}))?$")

# What users may type, and how every validation message names it.
LABELS = {
    "account_id": "Parameter 'Account ID' (account_id)",
    "auth_server_url": "Parameter 'Authorization Server URL' (auth_server_url)",
    "domain_api_host": "Parameter 'Domain API host' (domain_api_host)",
    "client_id": "Parameter 'Client ID' (credentials)",
    "client_secret": "Parameter 'Client Secret' (credentials)",
    "max_fetch": "Parameter 'Maximum number of events per fetch' (max_fetch)",
    "late_commit_minutes": "Parameter 'Records committed late, up to (minutes)' (late_commit_minutes)",
    "first_fetch": "Parameter 'First fetch time' (first_fetch)",
    "limit": "Argument 'limit'",
    "start_time": "Argument 'start_time'",
    "end_time": "Argument 'end_time'",
    "should_push_events": "Argument 'should_push_events'",
    "originator": "Argument 'originator'",
    "object_types": "Argument 'object_types'",
    "action_types": "Argument 'action_types'",
}
HOST_EXAMPLES = "e.g. va.sentinel.liveperson.net, va.sentinel.liveperson.net:443 or https://va.sentinel.liveperson.net/"

DEFAULT_MAX_FETCH = 5000
MAX_FETCH_CAP = 100_000
DEFAULT_GET_EVENTS_LIMIT = 50
GET_EVENTS_LIMIT_CAP = 10_000
MAX_FILTER_VALUE_LENGTH = 200
FIRST_FETCH_LOOKBACK = timedelta(minutes=1)
DEFAULT_FIRST_FETCH = "1 minute"  # where a new instance starts collecting unless 'First fetch time' says otherwise
MAX_FIRST_FETCH_DAYS = 365  # cost: LivePerson documents no retention, and each empty window costs a call

# Reading. Each constant serves one of the assumptions A1-A7 stated in Cursor's docstring, or says it is a cost.
FILTER_ZONE_WEST = timedelta(hours=12)  # A1: a day read in UTC-12 starts 12 h after UTC midnight
FILTER_ZONE_EAST = timedelta(hours=14)  # A1, A2: a day read in UTC+14 with toDate exclusive ends 14 h before it
CLOCK_SKEW = timedelta(hours=1)  # A6: LivePerson may stamp records this far ahead of our clock
DEFAULT_LATE_COMMIT = timedelta(minutes=5)  # A5: L, unless the instance sets 'Records committed late'
# A5, A1: L up to 12 hours. A window of MAX_WINDOW_DAYS placed from `since` less FILTER_ZONE_WEST trusts records
# up to 22 hours after `since`, so `since`, L behind, leaves 10 hours of slack (each run re-reads L: it costs calls).
MAX_LATE_COMMIT_MINUTES = 720
PAGE_REQUEST = 500  # the `first` of every read; LivePerson may answer fewer, a different number each call (A7)
MARK_BYTES = 6  # I2: 48 bits of hash tell apart the records of one changeDate (a collision about 1 in 10^9)
MARK_CHARS = 8  # MARK_BYTES in base64
OVERLAP_MOST = 16  # A4, I2: how far back a page may start to re-read a record with no twin among its changeDate's parts
MARKS_BUDGET_BYTES = 32 * 1024  # I4: the most the marks may take in lastRun
MARKS_KEEP_BYTES = MARKS_BUDGET_BYTES - PAGE_REQUEST * MARK_CHARS  # I4: room left for the changeDate a run stops in
MAX_WINDOW_DAYS = 3  # cost: offsets stay within three days of records, and the search within log2 of them
MAX_WINDOWS_PER_RUN = 64  # cost: after a long outage a run reads this many windows at most, then asks for more
STATE_VERSION = 3

# The query's syntax. LivePerson documents the arguments but not their GraphQL types (fact sheet §1.2,
# §8 question 3): the client negotiates the form an account accepts and remembers it (QueryDialect).
ORDER_FORMS = {  # the plausible forms of the ordering arguments, tried in this order; {direction} is ASC or DESC
    "lists of strings": 'orderBy: ["changeTimestamp"], orderDirection: ["{direction}"]',
    "lists of enum values": "orderBy: [changeTimestamp], orderDirection: [{direction}]",
    "single strings": 'orderBy: "changeTimestamp", orderDirection: "{direction}"',
    "single enum values": "orderBy: changeTimestamp, orderDirection: {direction}",
}
OPTIONAL_ARGUMENTS = {  # what the query asks for that an account may not know: its text, and what it adds
    "language": ('language: "en-US"', "nothing: records come in the account's default language"),
    "lpa": ("lpa: true", "changes made by LivePerson staff (LPA users)"),
    "automaticUpdates": ("automaticUpdates: true", "changes made by automatic updates"),
}
NEGOTIATION_MOST = 12  # cost: refusals one read follows (3 other forms, 3 arguments, page-size halvings)

DOMAIN_CACHE_TTL_SECONDS = 6 * 3600
TOKEN_FALLBACK_LIFETIME_SECONDS = 3600
TOKEN_MAX_RENEW_MARGIN_SECONDS = 300

STATE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
TABLE_HEADERS = ["Time (UTC)", "Object Type", "Object Name", "Action", "Element", "Old → New", "Originator"]


class Stage(Enum):
    """The three LivePerson endpoints a command talks to; failures are reported by stage."""

    DISCOVERY = ("domain discovery", "the Domain API host {domain_api_host}")
    TOKEN = ("token request", "the authorization server {auth_host}")
    AUDIT = ("audit trail query", "the account's Audit Trail domain")

    def __init__(self, label: str, host_phrase: str) -> None:
        self.label = label
        self.host_phrase = host_phrase

    def host(self, settings: "Settings") -> str:
        """The host of this stage, in words, for messages: e.g. 'the authorization server va.sentinel...'."""
        return self.host_phrase.format(domain_api_host=settings.domain_api_host, auth_host=settings.auth_host)


@dataclass(frozen=True)
class RetryPolicy:
    """LivePerson's published retry policy: 5xx three times after 5, 10 and 15 s; 429 after at least 1 s."""

    server_error_pauses: tuple[float, ...] = (5.0, 10.0, 15.0)
    throttle_pauses: tuple[float, ...] = (1.0, 2.0, 4.0)
    max_retry_after: float = 30.0

    def pause(self, status: int | None, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before retry number `attempt + 1`, or None when the policy is exhausted.

        Args:
            status: the HTTP status that failed (None for a dropped connection or a read timeout).
            attempt: how many retries were already made.
            retry_after: the server's Retry-After in seconds, when it sent one.
        """
        pauses = self.throttle_pauses if status == 429 else self.server_error_pauses
        if attempt >= len(pauses):
            return None
        if status == 429 and retry_after is not None:
            return min(max(retry_after, pauses[0]), self.max_retry_after)
        return pauses[attempt]


@dataclass(frozen=True)
class TimeBudgets:
    """Seconds each command may take, and each request; XSIAM stops a fetch that runs too long."""

    request: float = 15.0
    fetch: float = 45.0
    get_events: float = 150.0
    test_module: float = 60.0


DEFAULT_RETRY_POLICY = RetryPolicy()
DEFAULT_BUDGETS = TimeBudgets()

# ==================================================================================== errors


class InputError(DemistoException):
    """A parameter or argument the user can fix; shown without a traceback."""


class LivePersonError(DemistoException):
    """A failure talking to LivePerson, tagged with the stage it happened in (for test-module)."""

    def __init__(self, message: str, stage: Stage, status: int | None = None, cause: Exception | None = None) -> None:
        super().__init__(message, cause)
        self.stage = stage
        self.status = status


class QueryRejected(LivePersonError):
    """The Audit Trail refused a query: an HTTP 400, or a GraphQL `errors` answer (`reasons` holds their text)."""

    def __init__(self, message: str, reasons: str, status: int | None = None) -> None:
        super().__init__(message, Stage.AUDIT, status)
        self.reasons = reasons


class OutOfOrder(LivePersonError):
    """An answer whose records go back in time: the ordering arguments were not applied (A3)."""


class NotOrdered(OutOfOrder):
    """No form of the ordering arguments the account accepts gives oldest first: nothing can be read in order."""


class PastCeiling(LivePersonError):
    """A read that would reach past the account's result window (`offset + first` above it is refused, A8).

    `reach` is the largest offset a page of the size asked for may start at.
    """

    def __init__(self, ceiling: int, reach: int) -> None:
        super().__init__(f"The Audit Trail refuses to page past record {ceiling} of an answer.", Stage.AUDIT)
        self.ceiling = ceiling
        self.reach = reach


class RetryableError(LivePersonError):
    """A throttle, server error, dropped connection or read timeout: LivePerson's retry policy covers it."""

    def __init__(
        self,
        message: str,
        stage: Stage,
        status: int | None = None,
        retry_after: float | None = None,
        cause: Exception | None = None,
    ) -> None:
        super().__init__(message, stage, status, cause)
        self.retry_after = retry_after

    @property
    def kind(self) -> str:
        """'HTTP 503', or the exception's class name for a failure without a status."""
        return f"HTTP {self.status}" if self.status else type(self.exception).__name__


# ==================================================================================== settings and arguments


@dataclass(frozen=True)
class Settings:
    """The instance parameters, validated once before anything talks to LivePerson."""

    account_id: str
    auth_host: str
    domain_api_host: str
    client_id: str
    client_secret: str = field(repr=False)
    verify: bool = True
    proxy: bool = False
    max_fetch: int = DEFAULT_MAX_FETCH
    late_commit: timedelta = DEFAULT_LATE_COMMIT
    first_fetch: str = DEFAULT_FIRST_FETCH

    @classmethod
    def from_params(cls, params: Mapping[str, Any], now: datetime | None = None) -> "Settings":
        """Validates `demisto.params()` (relative times against `now`); raises InputError naming the parameter."""
        credentials = params.get("credentials") or {}
        if not isinstance(credentials, Mapping):
            credentials = {}
        client_id = str(credentials.get("identifier") or "").strip()
        client_secret = str(credentials.get("password") or "")
        if not client_id:
            raise InputError(f"{LABELS['client_id']} is required: the OAuth 2.0 client ID of your app.")
        if not client_secret:
            raise InputError(f"{LABELS['client_secret']} is required: the OAuth 2.0 client secret.")
        return cls(
            account_id=validate_account_id(params.get("account_id")),
            auth_host=normalize_host(params.get("auth_server_url"), "auth_server_url"),
            domain_api_host=normalize_host(params.get("domain_api_host") or DEFAULT_DOMAIN_API_HOST, "domain_api_host"),
            client_id=client_id,
            client_secret=client_secret,
            verify=not argToBoolean(params.get("insecure") or False),
            proxy=argToBoolean(params.get("proxy") or False),
            max_fetch=parse_count(params.get("max_fetch"), "max_fetch", DEFAULT_MAX_FETCH, MAX_FETCH_CAP),
            late_commit=timedelta(minutes=parse_minutes(params.get("late_commit_minutes"))),
            first_fetch=readable_first_fetch(params.get("first_fetch"), now or datetime.now(UTC)),
        )

    def first_fetch_at(self, now: datetime) -> datetime:
        """Where a new instance starts collecting: 'First fetch time' read against `now`, a past time within reach.

        Checked when it is used (a new instance, test-module), not on every command: an ISO date that
        was fine when the instance was set up must not stop it a year later.
        """
        start = parse_time_argument(self.first_fetch, "first_fetch", DEFAULT_FIRST_FETCH, now)
        if start > now:
            raise InputError(f"{LABELS['first_fetch']} ({format_time(start)}) is in the future; give a past time.")
        if now - start > timedelta(days=MAX_FIRST_FETCH_DAYS):
            raise InputError(
                f"{LABELS['first_fetch']} ({format_time(start)}) is more than {MAX_FIRST_FETCH_DAYS} days ago. "
                "LivePerson documents no retention for audit records; the collector reaches back "
                f"{MAX_FIRST_FETCH_DAYS} days at most."
            )
        return start

    @property
    def reader_key(self) -> str:
        """Whose LivePerson account the learned page size belongs to (a hash, never a secret)."""
        return cache_owner(self.domain_api_host, self.account_id)


@dataclass(frozen=True)
class RecordFilter:
    """get-events' optional filters; a record is kept when it passes every filter given."""

    originator: str | None = None
    object_types: frozenset[str] = frozenset()
    action_types: frozenset[str] = frozenset()

    @property
    def active(self) -> bool:
        """Whether any filter was given."""
        return bool(self.originator or self.object_types or self.action_types)

    def keeps(self, record: Mapping[str, Any]) -> bool:
        """True when the record matches; values are compared case-insensitively."""
        if self.originator and not any(
            str(record.get(name) or "").lower() == self.originator for name in ORIGINATOR_FIELDS
        ):
            return False
        if self.object_types and str(record.get("objectType") or "").lower() not in self.object_types:
            return False
        return not self.action_types or str(record.get("actionType") or "").lower() in self.action_types


@dataclass(frozen=True)
class GetEventsArgs:
    """The arguments of liveperson-get-events, validated against `now`."""

    limit: int
    start: datetime
    end: datetime
    should_push: bool
    record_filter: RecordFilter

    @classmethod
    def from_args(cls, args: Mapping[str, Any], now: datetime) -> "GetEventsArgs":
        """Validates `demisto.args()`; raises InputError naming the argument on bad input."""
        start = parse_time_argument(args.get("start_time"), "start_time", "3 days", now)
        if start > now:
            raise InputError(f"{LABELS['start_time']} ({format_time(start)}) is in the future; give a past time.")
        end = min(parse_time_argument(args.get("end_time"), "end_time", "now", now), now)
        if end < start:
            raise InputError(
                f"{LABELS['end_time']} ({format_time(end)}) must not be before 'start_time' ({format_time(start)})."
            )
        originator = parse_filter_values(args.get("originator"), "originator", single=True)
        return cls(
            limit=parse_count(args.get("limit"), "limit", DEFAULT_GET_EVENTS_LIMIT, GET_EVENTS_LIMIT_CAP),
            start=start,
            end=end,
            should_push=parse_boolean_argument(args.get("should_push_events"), "should_push_events", False),
            record_filter=RecordFilter(
                originator=next(iter(originator), None),
                object_types=parse_filter_values(args.get("object_types"), "object_types"),
                action_types=parse_filter_values(args.get("action_types"), "action_types"),
            ),
        )


# ==================================================================================== client


@dataclass(frozen=True)
class Deadline:
    """The moment a command must stop starting new calls (epoch seconds on `clock`); None: no limit."""

    at: float | None = None
    clock: Callable[[], float] = time.time

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.time) -> "Deadline":
        """The deadline `seconds` from now on `clock`."""
        return cls(clock() + seconds, clock)

    def passed(self) -> bool:
        """Whether the deadline is reached."""
        return self.at is not None and self.clock() >= self.at

    def allows(self, pause: float) -> bool:
        """Whether waiting `pause` seconds still ends before the deadline."""
        return self.at is None or self.clock() + pause <= self.at


NO_DEADLINE = Deadline()


class Client(BaseClient):
    """HTTP only: one method per LivePerson endpoint, plus the token and domain caches.

    The token and the discovered domain live in the integration context, keyed by a hash of the
    settings they belong to, so a changed account or client ID never reuses a stale entry.
    """

    def __init__(
        self,
        settings: Settings,
        use_cache: bool = True,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
        request_timeout: float = DEFAULT_BUDGETS.request,
    ) -> None:
        super().__init__(base_url=f"https://{settings.domain_api_host}", verify=settings.verify, proxy=settings.proxy)
        self.settings = settings
        self.use_cache = use_cache
        self.clock = clock
        self.sleep = sleep
        self.retry_policy = retry_policy
        self.request_timeout = request_timeout
        self.calls: dict[Stage, int] = dict.fromkeys(Stage, 0)
        self._token: str | None = None
        self._domain: str | None = None
        add_sensitive_log_strs(settings.client_secret)

    # -------------------------------------------------------------------- endpoints

    def lookup_service_domain(self, service: str, deadline: Deadline = NO_DEADLINE) -> str:
        """Domain API (CSDS): the host serving `service` for this account. Unauthenticated."""
        path = DOMAIN_LOOKUP_PATH.format(account_id=self.settings.account_id, service=service)
        url = f"https://{self.settings.domain_api_host}{path}"
        response = self._send(Stage.DISCOVERY, deadline, "GET", url, params={"version": "1.0"})
        return validate_discovered_host(json_body(response, Stage.DISCOVERY).get("baseURI"))

    def request_token(self, deadline: Deadline = NO_DEADLINE) -> dict[str, Any]:
        """Sentinel OAuth 2.0 client-credentials grant (v2 endpoint, form body); returns the token answer."""
        path = TOKEN_PATH.format(account_id=self.settings.account_id)
        form = {
            "grant_type": "client_credentials",
            "client_id": self.settings.client_id,
            "client_secret": self.settings.client_secret,
        }
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        url = f"https://{self.settings.auth_host}{path}"
        body = json_body(self._send(Stage.TOKEN, deadline, "POST", url, data=form, headers=headers), Stage.TOKEN)
        if not isinstance(body.get("access_token"), str) or not body["access_token"]:
            raise LivePersonError("The authorization server answered without an access_token.", Stage.TOKEN)
        return body

    def query_audit_trail(
        self, domain: str, token: str, query: str, deadline: Deadline = NO_DEADLINE
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Audit Trail: one GraphQL-in-JSON query; its `auditData` records, and X-Total-Count when it is a number."""
        path = AUDIT_PATH.format(account_id=self.settings.account_id)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": "application/json"}
        url = f"https://{domain}{path}"
        response = self._send(Stage.AUDIT, deadline, "POST", url, json_data={"query": query}, headers=headers)
        records = audit_records_from_body(json_body(response, Stage.AUDIT))
        total = response.headers.get("X-Total-Count", "")
        return records, int(total) if total.isdigit() else None

    # -------------------------------------------------------------------- token and domain handling

    def get_domain(self, refresh: bool = False, deadline: Deadline = NO_DEADLINE) -> str:
        """The account's Audit Trail host: from memory, the integration context (6 h) or the Domain API."""
        if self._domain and not refresh:
            return self._domain
        owner = cache_owner(self.settings.domain_api_host, self.settings.account_id)
        cached = self._cache_entry("domain", owner)
        now = self.clock()
        if cached and not refresh and now - float(cached.get("resolved_at", 0)) < DOMAIN_CACHE_TTL_SECONDS:
            demisto.debug("[Domain] cache hit")
            self._domain = str(cached["host"])
            return self._domain
        self._domain = self.lookup_service_domain(DOMAIN_SERVICE, deadline)
        demisto.debug(f"[Domain] resolved {DOMAIN_SERVICE} (refresh={refresh})")
        self._store_cache_entry("domain", {"owner": owner, "host": self._domain, "resolved_at": now})
        return self._domain

    def get_token(self, refresh: bool = False, deadline: Deadline = NO_DEADLINE) -> str:
        """A bearer token: from memory, the integration context (until shortly before expiry) or Sentinel."""
        if self._token and not refresh:
            return self._token
        owner = cache_owner(self.settings.auth_host, self.settings.account_id, self.settings.client_id)
        cached = self._cache_entry("token", owner)
        now = self.clock()
        if cached and not refresh and now < float(cached.get("renew_at", 0)):
            demisto.debug("[Token] cache hit")
            self._token = str(cached["access_token"])
            add_sensitive_log_strs(self._token)
            return self._token
        body = self.request_token(deadline)
        token = body["access_token"]
        add_sensitive_log_strs(token)
        lifetime = token_lifetime_seconds(body, now)
        renew_at = now + lifetime - min(TOKEN_MAX_RENEW_MARGIN_SECONDS, lifetime / 10)
        demisto.debug(f"[Token] new token, valid for {int(lifetime)} s (refresh={refresh})")
        self._store_cache_entry("token", {"owner": owner, "access_token": token, "renew_at": renew_at})
        self._token = token
        return token

    def fetch_audit_page(self, query: str, deadline: Deadline = NO_DEADLINE) -> tuple[list[dict[str, Any]], int | None]:
        """Runs one audit query with the cached domain and token, renewing each once if it fails."""
        domain = self.get_domain(deadline=deadline)
        token = self.get_token(deadline=deadline)
        try:
            return self.query_audit_trail(domain, token, query, deadline)
        except LivePersonError as error:
            if error.status == 401:
                demisto.debug("[Token] 401 from the Audit Trail, renewing the token once")
                renewed = self.get_token(refresh=True, deadline=deadline)
                return self._retry_audit(domain, renewed, query, deadline, "a renewed token")
            if is_connection_failure(error):
                fresh_domain = self.get_domain(refresh=True, deadline=deadline)
                if fresh_domain != domain:
                    demisto.debug("[Domain] connection failed, the account moved to another domain; retrying once")
                    return self._retry_audit(fresh_domain, token, query, deadline, "the re-resolved domain")
            raise

    def _retry_audit(
        self, domain: str, token: str, query: str, deadline: Deadline, what_changed: str
    ) -> tuple[list[dict[str, Any]], int | None]:
        try:
            return self.query_audit_trail(domain, token, query, deadline)
        except LivePersonError as error:
            if error.status == 401:
                raise LivePersonError(
                    "The Audit Trail rejected a freshly issued token (HTTP 401). The app installation behind the "
                    "Client ID may not be allowed to call the Audit Trail API.",
                    Stage.AUDIT,
                    401,
                ) from None
            error.message = f"{error.message} (also after retrying with {what_changed})"
            raise

    def redact(self, text: str) -> str:
        """Removes the client secret and the token from text a server sent back (it may echo them)."""
        for secret in (self.settings.client_secret, self._token):
            if secret:
                text = text.replace(secret, "<redacted>")
        return text

    def _cache_entry(self, key: str, owner: str) -> dict[str, Any] | None:
        if not self.use_cache:
            return None
        return context_entry(key, owner)

    def _store_cache_entry(self, key: str, entry: dict[str, Any]) -> None:
        if self.use_cache:
            store_context_entry(key, entry)

    # -------------------------------------------------------------------- transport

    def _send(self, stage: Stage, deadline: Deadline, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One HTTP call with LivePerson's retry policy, never waiting past the deadline."""
        attempt = 0
        while True:
            self.calls[stage] += 1
            try:
                return self._http_request(
                    method,
                    full_url=url,
                    resp_type="response",
                    timeout=self.request_timeout,
                    error_handler=lambda res: raise_for_status(res, stage, self.redact),
                    **kwargs,
                )
            except (DemistoException, requests.exceptions.RequestException) as raised:
                failure = as_liveperson_error(raised, stage, self.request_timeout)
            if not isinstance(failure, RetryableError):
                raise failure
            pause = self.retry_policy.pause(failure.status, attempt, failure.retry_after)
            if pause is None or not deadline.allows(pause):
                message = f"{failure.message} Gave up after {attempt + 1} attempt(s)."
                raise LivePersonError(message, stage, failure.status, failure.exception)
            demisto.debug(f"[HTTP] {stage.label}: {failure.kind}, retry {attempt + 1} in {pause:g} s")
            self.sleep(pause)
            attempt += 1


def cache_owner(*parts: str) -> str:
    """A short hash of the settings a cached value belongs to (never given the secret)."""
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:16]


def context_entry(key: str, owner: str) -> dict[str, Any] | None:
    """The integration-context entry `key` when it belongs to `owner`, else None."""
    entry = (get_integration_context() or {}).get(key)
    return entry if isinstance(entry, dict) and entry.get("owner") == owner else None


def store_context_entry(key: str, entry: dict[str, Any]) -> None:
    """Replaces one entry of the integration context, keeping the others."""
    context = dict(get_integration_context() or {})
    context[key] = entry
    set_integration_context(context)


def json_body(response: requests.Response, stage: Stage) -> dict[str, Any]:
    """The response's JSON object; a LivePersonError when it is not JSON or not an object."""
    try:
        body = response.json()
    except ValueError:
        raise LivePersonError(f"{stage.label}: LivePerson answered with a body that is not JSON.", stage) from None
    if not isinstance(body, dict):
        raise LivePersonError(f"{stage.label}: LivePerson answered with an unexpected JSON shape.", stage)
    return body


def is_connection_failure(error: LivePersonError) -> bool:
    """A dropped or refused connection (no HTTP status): the account may have moved to another domain."""
    return error.status is None and isinstance(error.exception, requests.exceptions.ConnectionError)


# ==================================================================================== pure helpers: input


def normalize_host(value: Any, param_name: str) -> str:
    """A host parameter as `host` or `host:port`, lower-cased.

    Accepts `https://` and one trailing slash around it; refuses paths, queries and other schemes,
    so the client secret and the token only ever go to a plain host.
    """
    label = LABELS[param_name]
    text = str(value or "").strip()
    if not text:
        raise InputError(f"{label} is required: give a host name, {HOST_EXAMPLES}.")
    host = text[len("https://") :] if text.lower().startswith("https://") else text
    host = host[:-1] if host.endswith("/") else host
    match = HOST_PATTERN.match(host)
    port = match.group("port") if match else None
    if not match or (port is not None and not 1 <= int(port) <= 65535):
        raise InputError(
            f"{label} must be a host name with an optional port and nothing else "
            f"(no path, query, spaces or other scheme), {HOST_EXAMPLES}; got '{clip(text)}'."
        )
    return host.lower()


def validate_discovered_host(base_uri: Any) -> str:
    """The Domain API's baseURI, lower-cased; refused unless it is a plain host (the token goes there)."""
    if not isinstance(base_uri, str) or not HOST_PATTERN.match(base_uri):
        raise LivePersonError(
            f"The Domain API answered with a baseURI that is not a plain host name: '{clip(str(base_uri))}'. "
            "Refusing to send the token there.",
            Stage.DISCOVERY,
        )
    return base_uri.lower()


def validate_account_id(value: Any) -> str:
    """The account (site) ID: 1 to 20 letters, digits or underscores, as LivePerson documents."""
    text = str(value or "").strip()
    if not text:
        raise InputError(f"{LABELS['account_id']} is required: your LivePerson site ID, e.g. 12345678.")
    if not ACCOUNT_ID_PATTERN.match(text):
        raise InputError(
            f"{LABELS['account_id']} must be 1 to 20 letters, digits or underscores "
            f"(your LivePerson site ID, e.g. 12345678); got '{clip(text)}'."
        )
    return text


def parse_count(value: Any, name: str, default: int, cap: int) -> int:
    """A whole number from 1 to `cap`; empty means `default`. Decimals are refused, not truncated."""
    text = str(value).strip() if value is not None else ""
    if not text:
        return default
    if not re.fullmatch(r"\d+", text) or not 1 <= int(text) <= cap:
        raise InputError(f"{LABELS[name]} must be a whole number from 1 to {cap}; got '{clip(text)}'.")
    return int(text)


def parse_minutes(value: Any) -> int:
    """'Records committed late': a whole number of minutes from 0 to a day; empty means the default (A5)."""
    text = str(value).strip() if value is not None else ""
    if not text:
        return int(DEFAULT_LATE_COMMIT / timedelta(minutes=1))
    if not re.fullmatch(r"\d+", text) or int(text) > MAX_LATE_COMMIT_MINUTES:
        raise InputError(
            f"{LABELS['late_commit_minutes']} must be a whole number of minutes from 0 to "
            f"{MAX_LATE_COMMIT_MINUTES}; got '{clip(text)}'."
        )
    return int(text)


def parse_time_argument(value: Any, name: str, default: str, now: datetime) -> datetime:
    """Relative to `now` ('3 days'), ISO 8601 or epoch seconds, as an aware UTC datetime.

    A time without a zone is taken as UTC.
    """
    text = str(value).strip() if value is not None and str(value).strip() else default
    relative_base = now.astimezone(UTC).replace(tzinfo=None)
    try:
        parsed = arg_to_datetime(text, arg_name=name, settings={"TIMEZONE": "UTC", "RELATIVE_BASE": relative_base})
    except ValueError:
        parsed = None
    if parsed is None:
        raise InputError(
            f"{LABELS[name]} must be a time such as '3 days', '2024-05-01T10:00:00Z' or epoch seconds; "
            f"got '{clip(text)}'."
        )
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def readable_first_fetch(value: Any, now: datetime) -> str:
    """'First fetch time' as given (empty: one minute), once it reads as a time (first_fetch_at checks the rest)."""
    text = str(value).strip() if value is not None and str(value).strip() else DEFAULT_FIRST_FETCH
    parse_time_argument(text, "first_fetch", DEFAULT_FIRST_FETCH, now)
    return text


def parse_boolean_argument(value: Any, name: str, default: bool) -> bool:
    """'true'/'false' (and the other spellings argToBoolean accepts); empty means `default`."""
    if value is None or value == "":
        return default
    try:
        return argToBoolean(value)
    except ValueError:
        raise InputError(f"{LABELS[name]} must be true or false; got '{clip(str(value))}'.") from None


def parse_filter_values(value: Any, name: str, single: bool = False) -> frozenset[str]:
    """A filter argument as lower-cased values: a comma-separated list, or one value when `single`.

    Empty means no filter. An empty item, an over-long value or a control character is refused.
    """
    if value is None or value == "" or value == []:
        return frozenset()
    items = [str(value)] if single else argToList(value)
    values = [str(item).strip() for item in items]
    what = "a value of" if single else "a comma-separated list of values, each of"
    for text in values:
        if not text or len(text) > MAX_FILTER_VALUE_LENGTH or any(ord(char) < 32 for char in text):
            raise InputError(
                f"{LABELS[name]} must be {what} 1 to {MAX_FILTER_VALUE_LENGTH} printable characters, "
                f"e.g. {FILTER_EXAMPLES[name]}; got '{clip(str(value))}'."
            )
    return frozenset(text.lower() for text in values)


FILTER_EXAMPLES = {
    "originator": "'ada.admin' or a user ID",
    "object_types": "'Users,Profiles'",
    "action_types": "'Add new,Edit,Delete'",
}


def clip(text: str, limit: int = 80) -> str:
    """`text` cut to `limit` characters for a message, marked with '...' when cut."""
    return text if len(text) <= limit else text[:limit] + "..."


# ==================================================================================== pure helpers: HTTP answers


def raise_for_status(response: requests.Response, stage: Stage, redact: Callable[[str], str]) -> None:
    """Error handler for every call: a readable message per status, with the answer's text redacted."""
    status = response.status_code
    detail = redact(error_detail(response))
    if status == 429:
        raise RetryableError(
            f"{stage.label}: LivePerson throttled the request (HTTP 429).", stage, 429, parse_retry_after(response)
        )
    if status >= 500:
        raise RetryableError(f"{stage.label}: LivePerson answered HTTP {status}{detail}.", stage, status)
    if stage is Stage.DISCOVERY:
        message = (
            f"The Domain API does not know this account (HTTP {status}{detail}). Check the Account ID "
            "and the Domain API host."
        )
    elif stage is Stage.TOKEN:
        message = (
            f"The authorization server refused the client credentials (HTTP {status}{detail}). Check the "
            "Client ID and Client Secret, and that the Authorization Server URL is your account's region."
        )
    elif status == 403:
        message = (
            f"LivePerson refused the Audit Trail query (HTTP 403 Not Authorized{detail}). The app installation "
            "behind the Client ID needs read access to the Audit Trail (Account Configuration, read-only)."
        )
    elif status == 401:
        message = f"The Audit Trail did not accept the token (HTTP 401{detail})."
    else:
        raise QueryRejected(f"The Audit Trail rejected the query (HTTP {status}{detail}).", detail[2:], status)
    raise LivePersonError(message, stage, status)


def as_liveperson_error(raised: Exception, stage: Stage, request_timeout: float) -> LivePersonError:
    """Maps what a call raised to our error, marking what the retry policy covers.

    BaseClient wraps TLS, proxy, connect-timeout and connection failures in a DemistoException
    (the original in `.exception`); a read timeout and, with verification off, a TLS failure
    arrive as the raw requests exception.
    """
    if isinstance(raised, LivePersonError):
        return raised
    cause = raised.exception if isinstance(raised, DemistoException) else raised
    text = raised.message if isinstance(raised, DemistoException) else f"{type(raised).__name__}: {raised}"
    if isinstance(cause, requests.exceptions.ReadTimeout):
        message = f"{stage.label}: LivePerson did not answer within {request_timeout:g} s."
        return RetryableError(message, stage, cause=cause)
    configuration_failures = (
        requests.exceptions.SSLError,
        requests.exceptions.ProxyError,
        requests.exceptions.ConnectTimeout,
    )
    if isinstance(cause, requests.exceptions.ConnectionError) and not isinstance(cause, configuration_failures):
        return RetryableError(f"{stage.label}: {text}", stage, cause=cause)
    return LivePersonError(f"{stage.label}: {text}", stage, cause=cause if isinstance(cause, Exception) else None)


def error_detail(response: requests.Response) -> str:
    """': <the answer's text>', clipped to 200 characters, or '' for an empty answer."""
    text = (response.text or "").strip().replace("\n", " ")
    return f": {clip(text, 200)}" if text else ""


def parse_retry_after(response: requests.Response) -> float | None:
    """Retry-After in seconds when given as a number; None otherwise."""
    value = response.headers.get("Retry-After", "")
    try:
        return float(value) if value else None
    except ValueError:
        return None


def token_lifetime_seconds(token_body: Mapping[str, Any], now: float) -> float:
    """`expires_in` when given, else the JWT's `exp` claim, else one hour."""
    expires_in = token_body.get("expires_in")
    try:
        if expires_in is not None and float(expires_in) > 0:
            return float(expires_in)
    except (TypeError, ValueError):
        pass
    expiry = jwt_expiry(str(token_body.get("access_token", "")))
    if expiry is not None and expiry > now:
        return expiry - now
    return float(TOKEN_FALLBACK_LIFETIME_SECONDS)


def jwt_expiry(token: str) -> float | None:
    """The `exp` claim of a JWT (epoch seconds), without verifying it; None when unreadable."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        return float(claims["exp"])
    except (ValueError, KeyError, TypeError):
        return None


def audit_records_from_body(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """`data.auditData` of an Audit Trail answer; a GraphQL `errors` array is a failure even in a 200."""
    errors = body.get("errors")
    if errors:
        messages = [str(item.get("message", item)) if isinstance(item, dict) else str(item) for item in errors]
        reasons = clip("; ".join(messages), 400)
        raise QueryRejected(f"The Audit Trail rejected the query: {reasons}", reasons)
    data = body.get("data")
    records = data.get("auditData") if isinstance(data, dict) else None
    if not isinstance(records, list) or not all(map(isinstance, records, repeat(dict))):
        raise LivePersonError("The Audit Trail answered without a data.auditData list.", Stage.AUDIT)
    return records


# ==================================================================================== reading: windows and queries


def utc_midnight(day: date) -> datetime:
    """The start of `day` in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass(frozen=True)
class Window:
    """The `fromDate`/`toDate` pair of the queries, and the stretch of time its answer surely holds (A1, A2).

    Whichever zone from UTC-12 to UTC+14 LivePerson reads the day filters in, and either way for
    `toDate`, the answer holds every record from `trusted_start` to `trusted_end`:

        fromDate 00:00 UTC          +12 h                                  -14 h          toDate 00:00 UTC
        |--------------------------|-- trusted_start ..... trusted_end --|---------------|
              (maybe in the answer)     (surely in the answer)             (maybe in it)

    Widening `toDate` appends only records newer than every record there is, so offsets stay
    valid (A3, A4); moving `fromDate` shifts them all, so the resume point is searched for again.
    """

    from_day: date
    to_day: date

    @property
    def trusted_start(self) -> datetime:
        """From here on, every reading of the day filters includes the records."""
        return utc_midnight(self.from_day) + FILTER_ZONE_WEST

    @property
    def trusted_end(self) -> datetime:
        """Up to here, every reading of the day filters includes the records."""
        return utc_midnight(self.to_day) - FILTER_ZONE_EAST

    def __str__(self) -> str:
        return f"{self.from_day.isoformat()}..{self.to_day.isoformat()}"


def plan_window(current: Window | None, start: datetime, horizon: datetime) -> Window:
    """The window for reading from `start` to `horizon`: `current` when it serves, widened if it can be.

    Returns `current` unchanged; `current` with a later `toDate` (offsets stay valid); or a new
    window whose trusted stretch begins at or before `start` (offsets must be searched for). A
    window spans at most MAX_WINDOW_DAYS, so a long catch-up is read window after window.
    """
    latest_from = (start - FILTER_ZONE_WEST).date()
    needed_to = (horizon + FILTER_ZONE_EAST).date() + timedelta(days=1)
    if current is not None and current.from_day <= latest_from:
        if current.to_day >= needed_to:
            return current
        if (needed_to - current.from_day).days <= MAX_WINDOW_DAYS:
            return Window(current.from_day, needed_to)
    return Window(latest_from, min(needed_to, latest_from + timedelta(days=MAX_WINDOW_DAYS)))


@dataclass(frozen=True)
class QueryDialect:
    """The form of the query this account accepts: how the ordering is written, the page size, what is left out.

    The defaults are our first guess; the client changes one piece at a time when a refusal names it
    (see next_dialect) and keeps what was accepted in the integration context, per account and host.
    `ceiling` is the result window, when the account refused to page past one.
    """

    order_form: str = next(iter(ORDER_FORMS))
    first: int = PAGE_REQUEST
    dropped: tuple[str, ...] = ()
    ceiling: int | None = None

    def describe(self) -> str:
        """The dialect in words, for logs and the probe: 'ordering as lists of strings, first: 500'."""
        words = f"ordering as {self.order_form}, first: {self.first}"
        words += f", without {' and '.join(self.dropped)}" if self.dropped else ""
        return words + (f", result window {self.ceiling}" if self.ceiling else "")

    def to_entry(self) -> dict[str, Any]:
        """The dialect as the integration context keeps it."""
        return {"order": self.order_form, "first": self.first, "dropped": list(self.dropped), "ceiling": self.ceiling}

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> "QueryDialect":
        """Reads to_entry's dict; anything unreadable or unknown falls back to the default for that piece."""
        order = entry.get("order")
        first, ceiling = entry.get("first"), entry.get("ceiling")
        dropped = entry.get("dropped")
        dropped = dropped if isinstance(dropped, list) else []
        return cls(
            order_form=order if order in ORDER_FORMS else cls.order_form,
            first=first if type(first) is int and 1 <= first <= PAGE_REQUEST else PAGE_REQUEST,
            dropped=tuple(name for name in OPTIONAL_ARGUMENTS if name in dropped),
            ceiling=ceiling if type(ceiling) is int and ceiling >= 1 else None,
        )

    def page_size(self, wanted: int) -> int:
        """How many records to ask for: `wanted`, within the accepted size and the result window.

        Pages are never clipped to end at the ceiling: a page shorter than asked would read as the
        server's cap (AuditReader), so a read that would reach past the ceiling is not made (A8). A
        page is at most half the result window, so that reads can still move through it.
        """
        return min(wanted, self.first, max(1, self.ceiling // 2) if self.ceiling else wanted)


DEFAULT_DIALECT = QueryDialect()
UNKNOWN_ARGUMENT = re.compile(
    r"unknown (?:field )?argument\W+(?P<name>\w+)|(?P<other>\w+)'? is not a (?:known|valid) argument", re.I
)
RESULT_WINDOW = re.compile(r"result window", re.I)
ORDERING_TROUBLE = re.compile(
    r"orderBy|orderDirection|AuditOrder|enum|cannot represent|WrongType|not a valid|expected type", re.I
)


def next_dialect(
    dialect: QueryDialect, refusal: QueryRejected, forms_tried: Sequence[str]
) -> tuple[str, QueryDialect | None] | None:
    """What `refusal` is about, and the dialect to try next (None: nothing left); None when it is not the syntax.

    An unknown optional argument is dropped; a result window is kept as the ceiling; a refused `first`
    becomes the maximum the refusal names, or half; anything else about types (or a bare HTTP 400)
    moves the ordering to the next form not tried yet. A data-fetching error names none of these.
    """
    text, status = refusal.reasons, refusal.status
    unknown = UNKNOWN_ARGUMENT.search(text)
    name = unknown and (unknown["name"] or unknown["other"])
    if name:
        known = name in OPTIONAL_ARGUMENTS and name not in dialect.dropped
        return f"the argument '{name}'", replace(dialect, dropped=(*dialect.dropped, name)) if known else None
    numbers = [int(number) for number in re.findall(r"\d+", text)]
    if RESULT_WINDOW.search(text):
        ceiling = min(numbers, default=0)  # "must be less than or equal to: [10000] but was [10500]"
        learned = ceiling and ceiling != dialect.ceiling
        return "the result window (offset + first)", replace(dialect, ceiling=ceiling) if learned else None
    if re.search(r"\bfirst\b", text):
        named = [number for number in numbers if 0 < number < dialect.first]
        smaller = max(named, default=dialect.first // 2)
        return "the argument 'first'", replace(dialect, first=smaller) if smaller >= 1 else None
    if ORDERING_TROUBLE.search(text) or status == 400:
        untried = [form for form in ORDER_FORMS if form not in forms_tried]
        following = replace(dialect, order_form=untried[0]) if untried else None
        return "the arguments 'orderBy' and 'orderDirection'", following
    return None


def build_audit_query(
    window: Window, first: int, offset: int, dialect: QueryDialect = DEFAULT_DIALECT, descending: bool = False
) -> str:
    """The documented GraphQL query in `dialect`: one window, oldest first (or newest), results in UTC, every field.

    LPA changes and automatic updates are asked for explicitly: LivePerson leaves both out by default.
    """
    arguments = [
        f'fromDate: "{window.from_day.isoformat()}"',
        f'toDate: "{window.to_day.isoformat()}"',
        f"first: {first}",
        f"offset: {offset}",
        ORDER_FORMS[dialect.order_form].format(direction="DESC" if descending else "ASC"),
        'timezone: "UTC"',
        *(text for name, (text, _adds) in OPTIONAL_ARGUMENTS.items() if name not in dialect.dropped),
    ]
    return f"{{auditData({', '.join(arguments)}) {{{' '.join(AUDIT_RECORD_FIELDS)}}}}}"


def parse_change_date(value: Any) -> datetime:
    """`changeDate` as rendered with timezone UTC ('2019-11-12 06:10:46.0'), as an aware datetime.

    Any number of fractional digits, or none, is read. `fromisoformat` also reads the export's 'T'
    form; a value carrying an offset is converted.
    """
    try:  # the usual case, a UTC time without an offset; the fastest way to an aware datetime
        return datetime.fromisoformat(value + "+00:00")
    except (TypeError, ValueError):
        pass
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        text = str(value)
        raise LivePersonError(f"An audit record has an unreadable changeDate: '{clip(text)}'.", Stage.AUDIT) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


UTC_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def change_times(records: Sequence[Mapping[str, Any]]) -> list[datetime]:
    """The changeDate of every record of a page, checked oldest first (A3).

    A page that goes back in time means the ordering arguments were not applied: offsets would
    mean something else, so the page is refused before anything in it is delivered.
    """
    from_iso = datetime.fromisoformat
    times: list[datetime] = []
    text, moment = None, UTC_EPOCH
    for record in records:  # the hot loop: every record a run reads passes here once
        value: Any = record.get("changeDate")
        if value != text:  # records of one changeDate share its text: parsed once
            try:  # parse_change_date's usual case, inlined
                moment = from_iso(value + "+00:00")
            except (TypeError, ValueError):
                moment = parse_change_date(value)
            text = value
        times.append(moment)
    if any(map(operator.gt, times, islice(times, 1, None))):
        raise OutOfOrder(
            "The Audit Trail answered records out of time order: the ordering was not applied.", Stage.AUDIT
        )
    return times


def format_time(moment: datetime) -> str:
    """The state's time format: ISO UTC with microseconds and a Z."""
    return moment.astimezone(UTC).strftime(STATE_TIME_FORMAT)


def parse_state_time(text: str) -> datetime:
    """Reads a time written by format_time."""
    return datetime.strptime(text, STATE_TIME_FORMAT).replace(tzinfo=UTC)


def event_time(moment: datetime) -> str:
    """`_time` for XSIAM: ISO 8601 UTC with milliseconds and a Z ('2024-05-01T10:00:05.100Z')."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:23] + "Z"


# ==================================================================================== reading: the state

Held = Counter[str] | int  # one changeDate's marks: the fingerprints delivered, or (I2's exception) how many
Marks = dict[datetime, Held]


def fingerprint(record: Mapping[str, Any]) -> str:
    """Eight characters from a hash of everything LivePerson returned; twins share it, and count twice (I2).

    It is the hash state version 2 kept as twelve hex characters, so an upgraded cursor's marks match.
    """
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    digest = hashlib.sha256(canonical.encode("utf-8")).digest()[:MARK_BYTES]
    return base64.urlsafe_b64encode(digest).decode("ascii")


def encode_marks(since: datetime, marks: Mapping[datetime, Held]) -> str:
    """`marks` as text: 'delta:marks' per changeDate, joined by ';' (the delta from the last, base 36 microseconds).

    A changeDate held as a count is written 'delta:#count'. A record costs about 8 bytes, a changeDate 6 more.
    """
    return ";".join(f"{delta}:{body}" for delta, body in encoded_parts(since, marks))


def encoded_parts(since: datetime, marks: Mapping[datetime, Held]) -> list[tuple[str, str]]:
    """Each changeDate's delta and marks as encode_marks writes them, oldest first."""
    parts, previous = [], since
    for moment in sorted(marks):
        held = marks[moment]
        body = f"#{held}" if isinstance(held, int) else "".join(mark * count for mark, count in sorted(held.items()))
        parts.append((base36((moment - previous) // timedelta(microseconds=1)), body))
        previous = moment
    return parts


def base36(number: int) -> str:
    """A whole number of 0 or more in base 36 (read back with int(text, 36))."""
    digits = ""
    while True:
        number, digit = divmod(number, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
        if not number:
            return digits


def decode_marks(since: datetime, text: str) -> Marks:
    """Reads encode_marks' text; ValueError when it is damaged."""
    marks: Marks = {}
    moment = since
    for part in filter(None, text.split(";")):
        delta, _, body = part.partition(":")
        moment += timedelta(microseconds=int(delta, 36))
        if body.startswith("#"):
            marks[moment] = int(body[1:])
        elif body and len(body) % MARK_CHARS == 0:
            marks[moment] = Counter(split_marks(body))
        else:
            raise ValueError("a changeDate's marks are damaged")
    return marks


def split_marks(text: str) -> list[str]:
    """Fingerprints written one after the other."""
    return [text[index : index + MARK_CHARS] for index in range(0, len(text), MARK_CHARS)]


@dataclass(frozen=True)
class Cursor:
    """Where reading resumes, and what was delivered around that point; saved as `lastRun` after each push.

    Assumptions. The design rests on these; each constant names the one it serves. The one place that
    needs more is a changeDate that fills a page (it may hold more than a page): its parts are read
    one after the other, which relies on LivePerson keeping the order of those ties (logged).
      A1  LivePerson reads `fromDate`/`toDate` as whole days in one zone between UTC-12 and UTC+14.
      A2  `toDate` is inclusive or exclusive (either).
      A3  An answer lists its records by changeDate, oldest first. Records that share a changeDate
          come in any order, possibly a new one on every request.
      A4  Records are only inserted: none changes or disappears, so a record's offset never decreases.
      A5  A record is visible to queries at most L after its changeDate, on our clock. L is the
          "Records committed late" parameter (default 5 minutes); it also covers LivePerson's clock
          running behind ours.
      A6  LivePerson's clock runs at most CLOCK_SKEW ahead of ours.
      A7  A page is a slice of the answer as it stood at one instant: each record in it once.
      A8  An account may refuse `offset + first` past some N (a result window). Asked newest first,
          the answer is the same records in reverse (A3, with ties in any order); a record's offset
          from the newest end never decreases either, since records are only inserted (A4).
      Not assumed: how many records a page holds (fewer than `first`, a different number on every
      call), what X-Total-Count counts, which zone A1 means, which reading of A2 holds.

    Invariant of a saved cursor, for the answer of `window`:
      I1  Every record with a changeDate before `since`, from where collection started, was delivered
          exactly once, and none will be again: a run delivers nothing before `since`. The exception is
          a stretch a result window hid from both ends (A8), which may end with a changeDate holding
          more records than the window lets a read see: the run that gave it up warned once with its
          bounds and how many records it held, and ReadOutcome.skipped lists it.
      I2  `marks` holds, per changeDate at or after `since`, the fingerprints of the records delivered
          with it, as a multiset (twins count twice): together, every delivery at or after `since`.
          The one exception: a changeDate with more records than the state can hold is kept as a
          count of the first records LivePerson serves for it (this relies on a stable order of ties,
          and is logged; while it is recent, a run reads on past it only when its pages join).
      I3  `offset`, when known, is at most the offset of the first record at or after `since` in
          `window`'s answer; A4 keeps that true as records arrive. It is unknown on a first run and
          after the window moved, and is then searched for. With `from_end`, the resume point lies
          past the result window: it is not kept, and each run reads the window from its newest end.
      I4  `since` is at most the start of the run that saved it less L (or where collection started,
          when that is later), so a record committed late (A5) lies at or after `since` and is found.
          The exception: when the last L holds more marks than MARKS_KEEP_BYTES allows, `since` is the
          oldest changeDate that fits (even past one larger than a page whose parts may not have
          joined, never past one a run stopped in), and the run logs how far back late commits are
          still caught.
      No offset marks "read up to here": every run reads on from `offset` to the end of the answer,
      and only `marks` says what is already delivered there.

    How each run keeps the invariant: it reads the answer from `offset` and skips what is before
    `since` (I1). For each changeDate a page shows, it compares the records shown with `marks` as
    multisets and delivers only the surplus, adding it to `marks` (I2). By A7 and A4 a page never
    shows more records of a changeDate than exist, so the surplus is new, whatever the order of
    ties (A3) and however late a record came (A5). `since` moves forward only past changeDates the
    run saw whole and delivered (in one page; in two parts that share nothing; or, for one that
    fills a page and so may be larger than a page, in parts read one after the other, which alone
    relies on a stable order of ties), and no further than the run's start less L (A5: nothing can
    still be committed there); I3 is kept by taking the new offset from a page that showed where
    those records start.
    """

    since: datetime
    window: Window | None = None
    offset: int | None = None
    marks: Mapping[datetime, Held] = field(default_factory=dict)
    legacy: Mapping[str, int] = field(default_factory=dict)  # version 1 and 2 fingerprints: their times are unknown
    checkpoint: datetime | None = None  # the newest changeDate delivered: how far collection got, for people
    from_end: bool = False  # the window is read from its newest end (A8): the resume point is past its result window

    @classmethod
    def starting_at(cls, moment: datetime) -> "Cursor":
        """A cursor before any record at or after `moment`: collection starts there."""
        return cls(since=moment.astimezone(UTC))

    @classmethod
    def from_last_run(cls, last_run: Any) -> "Cursor | None":
        """Reads our own `lastRun`; None for an empty or foreign one. Raises ValueError when ours is damaged.

        Versions 1 and 2 kept a floor and the fingerprints of the last records delivered: the floor
        becomes `since` and those fingerprints are matched on sight. Where they counted known records
        at the floor without keeping them, reading starts just after it, so none of those is sent again.
        """
        version = last_run.get("version") if isinstance(last_run, dict) else None
        if type(version) is not int or version not in (1, 2, STATE_VERSION):
            return None
        try:
            if version < STATE_VERSION:
                since = parse_state_time(str(last_run["floor"]))
                if last_run.get("behind") or not last_run.get("floor_complete", True):
                    since += timedelta(microseconds=1)
                tail = last_run.get("tail") or {}
                legacy = {base64.urlsafe_b64encode(bytes.fromhex(str(key))).decode(): int(n) for key, n in tail.items()}
                return cls(since=since, legacy=legacy)
            since = parse_state_time(str(last_run["since"]))
            window, offset, checkpoint = last_run.get("window"), last_run.get("offset"), last_run.get("checkpoint")
            placed = Window(date.fromisoformat(str(window[0])), date.fromisoformat(str(window[1]))) if window else None
            return cls(
                since=since,
                window=placed,
                offset=max(0, int(offset)) if placed is not None and offset is not None else None,
                marks=decode_marks(since, str(last_run.get("marks") or "")),
                legacy=Counter(split_marks(str(last_run.get("legacy") or ""))),
                checkpoint=parse_state_time(str(checkpoint)) if checkpoint else None,
                from_end=placed is not None and last_run.get("from_end") is True,
            )
        except (KeyError, TypeError, ValueError, IndexError) as error:
            raise ValueError(f"lastRun is not readable ({type(error).__name__})") from None

    def to_last_run(self) -> dict[str, Any]:
        """The cursor as `lastRun`: under 300 bytes, plus the marks (at most MARKS_BUDGET_BYTES)."""
        state: dict[str, Any] = {"version": STATE_VERSION, "since": format_time(self.since)}
        if self.window is not None:
            state["window"] = [self.window.from_day.isoformat(), self.window.to_day.isoformat()]
            if self.offset is not None:
                state["offset"] = self.offset
        if self.marks:
            state["marks"] = encode_marks(self.since, self.marks)
        if self.legacy:
            state["legacy"] = "".join(mark * count for mark, count in sorted(self.legacy.items()))
        if self.checkpoint is not None:
            state["checkpoint"] = format_time(self.checkpoint)
        if self.from_end:
            state["from_end"] = True
        return state


# ==================================================================================== reading: one run


@dataclass(frozen=True)
class ReadRules:
    """What a run may deliver, and from when records are final: how many, up to when, which (get-events)."""

    limit: int
    now: datetime
    late_commit: timedelta = DEFAULT_LATE_COMMIT
    until: datetime | None = None
    record_filter: RecordFilter = RecordFilter()

    @property
    def horizon(self) -> datetime:
        """The newest time this run must read up to (A6: LivePerson's clock may run ahead of ours)."""
        return self.until if self.until is not None else self.now + CLOCK_SKEW

    @property
    def final_before(self) -> datetime:
        """Every record stamped before this was committed before the run began (A5): none can still appear."""
        return self.now - self.late_commit


@dataclass(frozen=True)
class PageRead:
    """One Audit Trail answer at `offset`, with each record's changeDate parsed."""

    offset: int
    records: list[dict[str, Any]]
    times: list[datetime]

    @property
    def end(self) -> int:
        """The offset just past this page."""
        return self.offset + len(self.records)


@dataclass
class Group:
    """The records of one changeDate that a page showed (or consecutive pages, for one larger than a page).

    `whole_start` says no record of that changeDate lies before `start` (A3): the page began at the
    resume point, or after an older record.
    """

    time: datetime
    start: int
    whole_start: bool
    parts: list[list[dict[str, Any]]]
    marked: bool = False  # its deliveries are in the marks (the fast path leaves them out)
    summed: bool = False  # it filled a whole page: the next page's first part is added to it
    joined: bool = False  # the next page, started a few records early, showed the parts join (nothing moved)

    @property
    def records(self) -> list[dict[str, Any]]:
        return [record for part in self.parts for record in part]


class PageSource(Protocol):
    """One Audit Trail answer: `first` records of `window`'s answer from `offset`, oldest or newest first.

    Returns the records and X-Total-Count. Raises PastCeiling for a read the result window refuses.
    """

    def __call__(
        self, window: Window, offset: int, first: int, descending: bool = False
    ) -> tuple[list[dict[str, Any]], int | None]: ...


class OutOfTime(Exception):
    """The command's time budget ran out before the work was done (not a failure: more is waiting)."""


@dataclass
class ReadOutcome:
    """A run's reading: the next cursor, the events (oldest first) and their times, and how it ended."""

    cursor: Cursor
    largest: int
    events: list[dict[str, Any]]
    event_times: list[datetime]
    more_waiting: bool = False
    error: Exception | None = None
    calls: int = 0
    search_calls: int = 0
    skipped: list["Skipped"] = field(default_factory=list)  # stretches a result window hid from both ends (I1)


@dataclass(frozen=True)
class Skipped:
    """A stretch of changeDates given up because a result window hid it (A8), and about how many records it held."""

    window: Window
    start: datetime
    end: datetime
    ceiling: int
    count: int | None

    def held(self) -> str:
        """How many records the stretch held, in words for a log line or the War Room."""
        return f"about {self.count:,} record(s)" if self.count is not None else "an unknown number of records"


class AuditReader:
    """One run's reads: the pages, the one number it knows about their size, the search, and the scans.

    LivePerson's largest page is not documented, so the reader keeps `largest`, the most records
    it has seen in one answer. A page shorter than that ends this run only in the newest window and
    only when its last record is recent (younger than the run's start less L); an older one proves
    nothing about the end, and the run reads on. A short page that ends before records already
    delivered, or that more records follow, proves the server's cap and lowers `largest` to it.
    Only an empty page ends a window the run moves on from.
    """

    def __init__(self, source: PageSource, rules: ReadRules, deadline: Deadline, largest: int = 0) -> None:
        self.source = source
        self.rules = rules
        self.deadline = deadline
        self.largest = largest
        self.calls = 0
        self.search_calls = 0
        self.total_hint: int | None = None
        self.ceiling: int | None = None  # the result window, once a read met it (A8)
        self.events: list[dict[str, Any]] = []
        self.times: list[datetime] = []
        self.notes: set[str] = set()  # what to tell the user once a run
        self.skipped: list[Skipped] = []

    def read(self, window: Window, offset: int, descending: bool = False) -> PageRead:
        """One page; X-Total-Count kept as a hint when it can be a total (it reaches past this page).

        A page read from the newest end is checked newest first, and its times kept in its order.
        """
        if self.deadline.passed():
            raise OutOfTime
        records, total = self.source(window, offset, PAGE_REQUEST, descending)
        times = change_times(records[::-1])[::-1] if descending else change_times(records)
        self.calls += 1
        page = PageRead(offset, records, times)
        self.total_hint = total if total is not None and total != len(records) else None  # not this page's count
        return page

    def locate(self, window: Window, target: datetime, hint: int | None) -> tuple[int, PageRead | None]:
        """The offset of the first record at or after `target` (I3), and the page that shows it, if one does.

        Whole pages are read: each tells where the target lies among its records. Every record before
        `low` is older than the target; the one at `high` is not, or the answer ends there. The first
        read is at `hint` (a moved window's answer is part of the old one's, so the old offset bounds
        the new), else at 0. Then the answer being in time order guides the next read: it is aimed at
        X-Total-Count's end when that can be a total (it is not the page's count), else where the
        target's time falls between the records seen. Every other read doubles the stride (while
        nothing past the target is known) or bisects, so a burst that misleads the aim costs at most
        twice a plain search.
        """
        low, high, probe, stride, aimed = 0, None, hint or 0, 0, False
        seen: list[tuple[int, datetime]] = []  # (offset, time) of records read: the first, the last before the target
        after: tuple[int, datetime] | None = None  # the first record seen at or after the target
        reach: int | None = None  # the furthest offset the result window lets a page start at (A8)
        while True:
            short = self.largest
            if reach is not None and probe > reach:
                if low > reach:  # the target lies past the result window
                    raise PastCeiling(self.ceiling or reach, reach)
                probe = reach
            try:
                page = self.read(window, probe)
            except PastCeiling as past:
                if reach is not None or past.reach < low:
                    raise
                reach, self.ceiling = past.reach, past.ceiling
                continue
            self.search_calls += 1
            times = page.times
            self.largest = max(self.largest, len(times))
            size = max(self.largest, 1)
            if times and times[0] < target <= times[-1]:
                return probe + bisect.bisect_left(times, target), page
            if times and times[-1] < target:
                low = max(low, page.end)
                seen = [*seen[:1], (page.offset, times[0]), (page.end - 1, times[-1])]
                if len(times) < short:  # the end, most likely; if not, `low` still bounds the resume point
                    high = low
            elif probe <= low:  # the page starts at the resume point (or shows the answer ends there)
                return probe, page
            elif high is None or probe < high:
                high, after = probe, (probe, times[0]) if times else None
            if high is not None and low >= high:
                return low, None
            aim = aim_at(target, seen, after, size)
            if self.total_hint is not None and not stride and (high is None or self.total_hint < high):
                aim, stride = self.total_hint - size, size  # the end, if X-Total-Count counts the matches
            elif not times and not seen:
                aim = 0  # past the end at once (a moved window's answer is shorter): look from its start
            if high is None:
                stride = max(size, 2 * stride)
                probe = max(low, aim) if aim is not None and not aimed else low + stride
            elif aim is not None and not aimed:
                probe = min(max(low, aim), max(low, high - size))
            else:
                probe = low + max(0, (high - low - size) // 2)
            aimed = not aimed


def aim_at(
    target: datetime, seen: list[tuple[int, datetime]], after: tuple[int, datetime] | None, size: int
) -> int | None:
    """Where a page should start to hold `target`, if the records seen so far arrived at an even pace."""
    if not seen:
        return None
    (early, early_time), (late, late_time) = seen[0], seen[-1]
    if after is not None and after[1] > late_time:
        early, early_time, (late, late_time) = late, late_time, after
    elapsed = (late_time - early_time).total_seconds()
    if late <= early or elapsed <= 0:
        return None
    estimate = early + (late - early) * (target - early_time).total_seconds() / elapsed
    return int(estimate) - size // 2


class WindowScan:
    """One window's pass through the answer, page by page; the invariant holds at every page boundary.

    For each changeDate a page shows, its records are compared with the marks as a multiset and the
    surplus is delivered (A7: never more than exist). Where the next page starts decides what a page
    can show whole:
      - after a page whose last changeDate is final (before the run's start less L), the next page
        starts right after it: nothing moves there (A4, A5), so no record is read twice. If the next
        page begins with that changeDate, it straddled the boundary: the two parts are the whole
        when they share no fingerprint (neither part repeats the other); otherwise it is read again;
      - after a page whose last changeDate is recent, the next page starts at its first record, so
        it is seen whole in one page, whatever the order of ties and whatever was committed meanwhile;
      - a changeDate that fills a whole page is taken as larger than a page (nothing tells them apart):
        its parts, read one after the other, are added up. This alone relies on LivePerson keeping the
        order of those ties (logged).
        While it is recent, the next page starts a few records early, at the newest one with no twin
        among its parts: when the page shows those records again in place, nothing was committed
        before them meanwhile; otherwise its part is merged as a multiset and `since` stays before it.
        Kept as a count (I2's exception), such a part cannot be merged: the scan stops before it, and a
        later run reads it.
    A changeDate that is final, all new and fits the limit is delivered without fingerprints (the
    fast path): it is never shown again in this run, and the run's `since` passes it.
    """

    def __init__(self, reader: AuditReader, window: Window, origin: Cursor, newest: bool) -> None:
        rules = reader.rules
        self.reader, self.window, self.origin, self.newest = reader, window, origin, newest
        self.marks: Marks = {
            moment: held if isinstance(held, int) else Counter(held) for moment, held in origin.marks.items()
        }
        self.legacy = Counter(origin.legacy)
        self.newest_marked = max(self.marks, default=None)
        until = rules.until
        self.bound = window.trusted_end if until is None else min(window.trusted_end, until + timedelta(microseconds=1))
        self.pending: Group | None = None  # the last page's last changeDate: its end is not known yet
        self.next_offset, self.join = origin.offset or 0, "start"
        self.boundaries: list[tuple[datetime | None, datetime, int]] = []  # (time just before, time, offset)
        self.limited: datetime | None = None  # the changeDate the limit cut
        self.stop: str | None = None
        self.stopped_at: datetime | None = None
        self.failure: Exception | None = None
        self.delivered = self.known = 0
        self.short: int | None = None  # the last page's length, when it was shorter than `largest`
        self.overlap = 1  # how many records an "overlap" page re-reads of the part before it
        self.overlap_proves = False  # the first of them has no twin among its changeDate's parts: a join is proof
        self.final_through: datetime | None = None  # the newest final changeDate this scan delivered
        self.unsure: datetime | None = None  # the oldest changeDate larger than a page whose parts may not join

    # -------------------------------------------------------------------- the pages

    def run(self, first_page: PageRead | None) -> "WindowScan":
        """Reads from the cursor's offset (or the page the search found) until the scan stops."""
        page = first_page
        while self.stop is None:
            if page is None:
                if self.reader.rules.limit <= len(self.reader.events):
                    self.stop = "limit"
                    break
                try:
                    page = self.reader.read(self.window, self.next_offset)
                except OutOfTime:
                    self.stop = "deadline"
                    break
                except PastCeiling:  # the rest of the window is read from its newest end (TailScan)
                    self.stop = "ceiling"
                    break
                except Exception as failure:  # handed to the caller with the progress made so far
                    self.failure, self.stop = failure, "failure"
                    break
            self.take(page)
            page = None
        return self

    def take(self, page: PageRead) -> None:
        """One page into the scan: delivers what is new and decides where the next page starts."""
        reader, rules, since = self.reader, self.reader.rules, self.origin.since
        shorter, join, pending = len(page.records) < reader.largest, self.join, self.pending
        reader.largest = max(reader.largest, len(page.records))
        if join == "overlap" and pending is not None:
            # Read a few records early after a recent changeDate that filled its page, from one with no twin
            # among that changeDate's parts: when the page shows them again, in place, nothing was committed
            # before them meanwhile (a shift would show an earlier record first), and the next part follows on.
            tail = pending.parts[-1][-self.overlap :]
            joined = self.overlap_proves and page.records[: self.overlap] == tail
            pending.joined, join = joined, "after"
            if joined:
                page = PageRead(page.offset + self.overlap, page.records[self.overlap :], page.times[self.overlap :])
        records, times, count = page.records, page.times, len(page.records)
        if self.short is not None and count and join == "after":
            reader.largest = self.short  # more records followed a short page: it was the server's cap
        self.short = count if shorter else None
        if not count:
            if join == "again":
                raise_moved("records it showed a moment before are gone")
            self.boundaries.append((pending.time if pending is not None else None, END_OF_TIME, page.offset))
            self.pending, self.stop = None, "end"
            return
        if pending is not None and times[0] <= pending.time:
            self.mark(pending)  # it may be shown again: its deliveries must be in the marks first
        if join == "again" and pending is not None and times[0] > pending.time:
            raise_moved("a changeDate it showed a moment before is gone")
        if join == "after" and pending is not None and times[0] < pending.time <= rules.final_before:
            reader.notes.add("late")  # a record was committed behind a final changeDate: L is too short
        after_pending = pending is not None and times[0] > pending.time
        again_whole = join == "again" and pending is not None and times[0] == pending.time
        first_whole = (times[0] >= since) if pending is None else (after_pending or again_whole)
        # What precedes the page's first record: older than `since` (None), or the pending changeDate.
        before: datetime | None = pending.time if after_pending and pending is not None else None
        self.pending = None
        start = 0
        if (pending is None or after_pending) and first_whole and self.all_new_and_final(page, 0):
            start = count
            self.take_whole(page, 0, before)
        for index in range(start + 1, count + 1):
            if index < count and times[index] == times[start]:
                continue
            moment, part = times[start], records[start:index]
            whole_start = start > 0 or first_whole
            if whole_start and moment >= since and not (start == 0 and again_whole):
                self.boundaries.append((before, moment, page.offset + start))
            if moment >= self.bound:
                self.stopped_at, self.stop = moment, "bound"
                return
            if moment >= since and self.take_group(page, start, part, whole_start, pending, join):
                return
            before, start = moment, index
            if start < count and self.all_new_and_final(page, start):  # the rest of the page, at once
                self.take_whole(page, start, before)
                break
        self.next_page(page, shorter)

    def take_group(
        self,
        page: PageRead,
        start: int,
        part: list[dict[str, Any]],
        whole_start: bool,
        pending: Group | None,
        join: str,
    ) -> bool:
        """One changeDate of a page; True when the scan must stop or re-read before the rest of the page."""
        moment, final = page.times[start], page.times[start] < self.reader.rules.final_before
        of_pending = start == 0 and pending is not None and moment == pending.time
        if of_pending and join == "after" and pending is not None:
            group = pending
            held = self.marks.get(moment)
            if isinstance(held, int) and not (final or group.joined):
                self.limited, self.stop = moment, "unjoined"  # a count cannot merge parts that may overlap
                return True
            if isinstance(held, int) or (group.summed and (final or group.joined)):
                group.parts.append(part)  # larger than a page, and nothing moved: its parts one after the other
                self.reader.notes.add("big")
                self.deliver(group, group.records)
            elif group.summed:  # recent, and the pages may not join (records committed before it meanwhile)
                self.deliver(group, part)
                self.unsure = min(self.unsure or moment, moment)
            elif group.whole_start and final and not set(map(fingerprint, part)) & set(map(fingerprint, group.records)):
                group.parts.append(part)  # the two parts are the whole: neither repeats the other (A7)
                self.deliver(group, group.records)
            elif group.whole_start and final:
                self.pending, self.next_offset, self.join = group, group.start, "again"  # read it whole
                return True
            else:  # recent, its parts merged as multisets: not seen whole
                self.deliver(group, part)
                self.unsure = min(self.unsure or moment, moment)
        elif final and not of_pending and self.final_through is not None and moment <= self.final_through:
            return False  # a final changeDate shown again after it was delivered (only if A5 failed): not twice
        else:
            group = Group(moment, page.offset + start, whole_start, [part])
            self.deliver(group, part)
        if final:
            self.final_through = moment
        if self.stop is not None:
            return True
        if start + len(part) == len(page.records):
            group.summed = group.whole_start and len(part) == len(page.records)
            self.pending = group
        return False

    def all_new_and_final(self, page: PageRead, start: int) -> bool:
        """Whether the page from `start` is only final records at or after `since`, none marked, within limit and bound.

        Then every record in it is new and nothing can still be committed among them (A5): the page is
        delivered at once (the fast path of a backlog), as its changeDates one by one would be.
        """
        rules, times = self.reader.rules, page.times
        return (
            times[start] >= self.origin.since
            and times[-1] < min(rules.final_before, self.bound)
            and (self.newest_marked is None or self.newest_marked < times[start])
            and not self.legacy
            and not rules.record_filter.active
            and len(times) - start <= rules.limit - len(self.reader.events)
        )

    def take_whole(self, page: PageRead, start: int, before: datetime | None) -> None:
        """Delivers an all-new final page from `start`; its last changeDate is pending (the next page may continue it).

        `start` begins a changeDate whose first record is shown (after `before`, or at the resume point).
        """
        reader, records, times = self.reader, page.records, page.times
        reader.events += records[start:]
        reader.times += times[start:]
        self.delivered += len(records) - start
        last = bisect.bisect_left(times, times[-1], start)
        self.boundaries.append((before, times[start], page.offset + start))
        if last > start:
            self.boundaries.append((times[last - 1], times[-1], page.offset + last))
        self.pending = Group(times[-1], page.offset + last, True, [records[last:]], summed=last == 0)
        self.final_through = times[-1]

    def next_page(self, page: PageRead, shorter: bool) -> None:
        """Where the next page starts, or why the scan stops after this one."""
        rules, last, times = self.reader.rules, self.pending, page.times
        if shorter and self.newest_marked is not None and times[-1] < self.newest_marked:
            self.reader.largest = len(times)  # records already delivered lie beyond: the server's cap
        elif shorter and self.newest and times[-1] >= rules.final_before:
            self.stop = "caught up"
            return
        recent = last is not None and last.time >= rules.final_before
        if recent and last is not None and not last.summed and last.whole_start and last.start > page.offset:
            self.next_offset, self.join = last.start, "again"
        elif recent and last is not None and last.summed and len(times) > 1:
            anchor = overlap_length(last, min(OVERLAP_MOST, len(times) - 1))
            self.overlap, self.overlap_proves = anchor or 1, anchor is not None
            self.next_offset, self.join = page.end - self.overlap, "overlap"
        else:
            self.next_offset, self.join = page.end, "after"

    # -------------------------------------------------------------------- delivering and marking

    def deliver(self, group: Group, shown: list[dict[str, Any]]) -> None:
        """Delivers the records `shown` of `group` that its marks do not hold yet, as far as the limit allows."""
        reader = self.reader
        rules = reader.rules
        room = rules.limit - len(reader.events)
        if (
            not group.marked
            and len(group.parts) == 1
            and group.time < rules.final_before
            and group.time not in self.marks
            and not self.legacy
            and len(shown) <= room
            and not rules.record_filter.active
        ):  # the fast path: nothing delivered at this changeDate, none can still be committed there
            reader.events += shown
            reader.times += repeat(group.time, len(shown))
            self.delivered += len(shown)
            return
        held = self.held(group, shown)
        if isinstance(held, int):
            new = shown[held:]
            taken = new[:room]
            self.marks[group.time] = held + len(taken)
        else:
            seen: Counter[str] = Counter()
            surplus = []
            for record in shown:
                mark = fingerprint(record)
                seen[mark] += 1
                if seen[mark] > held[mark]:
                    surplus.append((mark, record))
            new = [record for _mark, record in surplus]
            taken = new[:room]
            held.update(mark for mark, _record in surplus[:room])
        keep = rules.record_filter.keeps if rules.record_filter.active else None
        for record in taken:
            if keep is None or keep(record):
                reader.events.append(record)
                reader.times.append(group.time)
        self.delivered += len(taken)
        self.known += len(shown) - len(new)
        self.newest_marked = group.time if self.newest_marked is None else max(self.newest_marked, group.time)
        if len(taken) < len(new):
            self.limited, self.stop = group.time, "limit"

    def held(self, group: Group, shown: list[dict[str, Any]]) -> Held:
        """The marks of `group`'s changeDate; version 2 fingerprints among `shown` are taken over on first sight."""
        held = self.marks.get(group.time)
        if held is None:
            held = self.marks[group.time] = Counter()
            for mark in map(fingerprint, shown) if self.legacy else ():
                if self.legacy.get(mark):
                    held[mark] += self.legacy.pop(mark)
        group.marked = True
        return held

    def mark(self, group: Group) -> None:
        """Puts into the marks what the fast path delivered of `group` without them."""
        if not group.marked:
            held = self.marks.setdefault(group.time, Counter())
            if isinstance(held, Counter):
                held.update(map(fingerprint, group.records))
            group.marked = True

    # -------------------------------------------------------------------- the next cursor

    def resume_time(self, with_unsure: bool = True) -> datetime:
        """The oldest changeDate this scan did not see whole and deliver (the window's bound when it saw all).

        A changeDate larger than a page whose parts may not have joined counts as not seen whole, unless
        `with_unsure` is false: the state's bound may let `since` pass such a one (I4's exception), never
        one the scan stopped in.
        """
        if self.stop == "end":
            resume = self.window.trusted_end
        elif self.stop == "bound":
            resume = self.bound
        elif self.limited is not None:
            resume = self.limited
        else:
            resume = self.pending.time if self.pending is not None else self.origin.since
        return resume if self.unsure is None or not with_unsure else min(resume, self.unsure)

    def next_cursor(self) -> Cursor:
        """The cursor after this scan (I1-I4), the marks bounded as I4 allows."""
        rules, origin = self.reader.rules, self.origin
        resume = self.resume_time()
        since = max(origin.since, min(rules.final_before, resume))
        if self.pending is not None and self.pending.time >= since:
            self.mark(self.pending)
        marks = {moment: held for moment, held in self.marks.items() if moment >= since and held}
        since, marks = bound_marks(since, marks, self.resume_time(with_unsure=False))
        if since > rules.final_before:
            self.reader.notes.add("coverage")
        finished = self.stop in ("end", "bound", "caught up")
        times = self.reader.times
        return Cursor(
            since=since,
            window=self.window,
            offset=self.offset_of(since),
            marks=marks,
            legacy={} if finished else dict(self.legacy),
            checkpoint=max(times[-1], origin.checkpoint or times[-1]) if times else origin.checkpoint,
        )

    def offset_of(self, moment: datetime) -> int:
        """The offset of the first record at or after `moment` as a page showed it (I3), or a lower bound of it."""
        lower = self.origin.offset or 0
        for before, start_time, offset in self.boundaries:
            if start_time >= moment and (before is None or before < moment):
                return offset
            if start_time <= moment:
                lower = max(lower, offset)
        return lower


END_OF_TIME = datetime.max.replace(tzinfo=UTC)


def overlap_length(group: Group, most: int) -> int | None:
    """How many of `group`'s last records to re-read: up to the newest one with no twin among its parts, or None."""
    counts = Counter(map(fingerprint, group.records))
    last_part = group.parts[-1]
    for length in range(1, min(most, len(last_part)) + 1):
        if counts[fingerprint(last_part[-length])] == 1:
            return length
    return None


def raise_moved(what: str) -> None:
    """A4 does not hold: an answer lost what it showed. Nothing from it is delivered."""
    raise LivePersonError(
        f"The Audit Trail's answer changed in a way records only being added cannot explain: {what}.", Stage.AUDIT
    )


def bound_marks(since: datetime, marks: Marks, resume: datetime) -> tuple[datetime, Marks]:
    """`since` and the marks after it, within MARKS_KEEP_BYTES (I4): the oldest changeDates are let go first.

    `since` never passes `resume` (I1): a changeDate not seen whole keeps its marks; when they alone
    exceed the bound, they become a count (I2's exception).
    """
    moments = sorted(marks)
    costs = [len(delta) + len(body) + 2 for delta, body in encoded_parts(since, marks)]  # with ':' and ';'
    if sum(costs) <= MARKS_KEEP_BYTES:
        return since, marks
    kept, cut = 0, moments[-1] + timedelta(microseconds=1)
    for moment, cost in zip(reversed(moments), reversed(costs), strict=True):
        kept += cost
        if kept > MARKS_KEEP_BYTES:
            break
        cut = moment
    since = max(since, min(cut, resume))
    marks = {moment: held for moment, held in marks.items() if moment >= since}
    if len(encode_marks(since, marks)) > MARKS_BUDGET_BYTES and since in marks:
        held = marks[since]
        marks[since] = held if isinstance(held, int) else held.total()
    return since, marks


@dataclass
class Shown:
    """What the pages of a read from the newest end showed of one changeDate.

    `counts` keeps, per fingerprint, the most records of it any one page showed: a page never shows
    more records than exist (A7, A4), so neither does the merge, whatever the order of ties. `whole`:
    one page showed the changeDate between where it starts and an older record, so that page held
    all of it (A3). `end` is the offset from the newest end just past it, as that page showed it.
    A changeDate larger than a page comes in consecutive parts, each read from `reach`, the offset
    just past the furthest record of it any page showed: they are added up (twins in two parts
    count twice) only when the answer's X-Total-Count has not changed since the pass began, so
    nothing newer moved them down; otherwise `joined` is false and the merge stays the lower bound,
    which `since` does not pass.
    """

    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    top: bool = False
    bottom: bool = False
    whole: bool = False
    end: int | None = None
    joined: bool = True
    reach: int = 0

    def show(
        self,
        part: list[dict[str, Any]],
        top: bool,
        end: int | None,
        past: int,
        after: bool = False,
        still: bool = False,
    ) -> None:
        """Merges one page's part; `top`: the page shows where it starts; `end`: where it ends, if the page shows it.

        `past`: the offset just past the part; `after`: the part was read from `reach`, continuing what was
        shown; `still`: nothing was inserted since the pass began.
        """
        self.reach = max(self.reach, past)
        counts: Counter[str] = Counter()
        for item in part:
            mark = fingerprint(item)
            counts[mark] += 1
            self.records.setdefault(mark, item)
        if after and still:
            self.counts += counts
        else:
            self.counts |= counts
            self.joined &= not after
        self.top |= top
        if end is not None:
            self.bottom, self.end = True, max(end, self.end or end)
            self.whole |= top

    def expanded(self) -> list[dict[str, Any]]:
        """The merged records, twins as often as the merge counts them (one page, or joined parts added up)."""
        return [self.records[mark] for mark, count in self.counts.items() for _ in range(count)]


class TailScan(WindowScan):
    """One window read from its newest end, for a resume point a result window keeps out of reach (A8).

    Pages are read newest first from offset 0 down to a record older than `since`, the answer's
    oldest end, or the result window. Each page after the first starts where the previous page's
    oldest changeDate started: records are only inserted, so its start can only have moved down
    (A8), and unless it fills the page, the page shows it whole whatever the order of ties. One
    that fills a page is read in consecutive parts, which relies, as WindowScan does, on a stable
    order of ties (logged). What pages showed of a changeDate is merged (Shown): never more than
    exist. Then the changeDates are delivered oldest first, each its surplus over the marks, as far
    as the limit allows; `since` passes only changeDates seen whole (I1). Nothing is delivered
    before the pages are read, so a run that fails or runs out of time part-way delivers nothing.
    When the result window ends the pages above `since`, what lies between `since` and the oldest
    changeDate seen whole can never be read from either end (it only sinks deeper): it is given up
    with one warning naming the ceiling, the day and about how many records it held (I1's exception);
    so is, once final, a changeDate with more records than the result window lets a read see.
    Cost: every run reads from the newest end down to `since`, about L of records and a page more.
    """

    def run_tail(self) -> "TailScan":
        """Reads the pages, then delivers; `stop` says how the reading ended."""
        reader, since = self.reader, self.origin.since
        self.shown: dict[datetime, Shown] = {}
        self.running_on: tuple[datetime, bool] | None = None  # the changeDate that ran to the last page's end
        offset, expected = 0, None  # where the next page starts, and the changeDate that starts there
        self.reached = 0  # how far from the newest end the pages read
        self.total: int | None = None  # the answer's X-Total-Count when the pass began, when it counts the matches
        while self.stop is None:
            try:
                page = reader.read(self.window, offset, descending=True)
            except OutOfTime:
                self.stop = "deadline"
                return self
            except PastCeiling as past:
                reader.ceiling, self.stop = past.ceiling, "ceiling"
                break
            except Exception as failure:  # handed to the caller: nothing of this pass was delivered
                self.failure, self.stop = failure, "failure"
                return self
            offset, expected = self.take_page(page, since, expected)
        self.reached = offset
        self.deliver_oldest_first()
        return self

    def take_page(self, page: PageRead, since: datetime, expected: datetime | None) -> tuple[int, datetime | None]:
        """One page newest first into `shown`; returns where the next page starts and the changeDate expected there."""
        records, times, count = page.records, page.times, len(page.records)
        self.reader.largest = max(self.reader.largest, count)
        running_on, self.running_on = self.running_on, None
        if page.offset == 0:
            self.total = self.reader.total_hint
        still = self.total is not None and self.total == self.reader.total_hint  # nothing inserted in this pass (A4)
        if not count:  # the oldest end: a part that ran to the previous page's end ended there (A4: nothing went)
            if running_on is not None and expected is None:
                self.shown[running_on[0]].show([], running_on[1], page.offset, page.offset)
            self.stop = "end"
            return page.offset, None
        # A changeDate that ran to the previous page's end and is not the first here ended where this page starts,
        # and this page's first starts here: records are only inserted, so nothing older can have moved up (A8).
        after_running = running_on is not None and expected is None and times[0] != running_on[0]
        if running_on is not None and after_running:
            self.shown[running_on[0]].show([], running_on[1], page.offset, page.offset)
        start = last = 0
        for index in range(1, count + 1):
            if index < count and times[index] == times[start]:
                continue
            moment = times[start]
            if moment < since:
                self.stop = "reached"
                break
            top = start > 0 or page.offset == 0 or moment == expected or after_running  # it starts here (A8)
            if moment < self.bound:
                end = page.offset + index if index < count else None
                after = start == 0 and running_on is not None and expected is None and not after_running
                past = page.offset + index
                self.shown.setdefault(moment, Shown()).show(records[start:index], top, end, past, after, still)
                self.running_on = (moment, top) if end is None else None
            else:
                self.stopped_at = max(self.stopped_at or moment, moment)
            last, start = start, index
        if last > 0:
            return page.offset + last, times[last]
        if self.running_on is not None:  # on from the furthest any page showed of it: the parts then join
            return max(page.end, self.shown[self.running_on[0]].reach), None
        return page.end, None

    def settled(self, moment: datetime) -> bool:
        """Whether the pages showed all of `moment`: in one page, or final and in parts read one after the other."""
        shown = self.shown[moment]
        if shown.whole:
            return True
        if shown.top and shown.bottom and shown.joined and moment < self.reader.rules.final_before:
            self.reader.notes.add("big")
            return True
        return False

    def deliver_oldest_first(self) -> None:
        """Delivers the merged changeDates oldest first; gives up what the result window hid (see the class)."""
        moments = sorted(self.shown)
        self.floor = self.origin.since  # nothing older is delivered
        self.resume: datetime | None = None
        if self.stop == "ceiling":
            self.floor = self.hidden_below(moments)
            self.give_up(self.floor)
        for moment in moments:
            if moment < self.floor:
                continue
            shown = self.shown[moment]
            self.deliver(Group(moment, 0, shown.whole, [shown.expanded()], marked=True), shown.expanded())
            if self.resume is None and not self.settled(moment):
                self.resume = moment
            if self.limited is not None:
                break

    def hidden_below(self, moments: list[datetime]) -> datetime:
        """Where what the result window hides ends: the oldest changeDate the pages showed whole.

        With none shown whole, the pages showed nothing below the bound (all of it lies deeper), or
        changeDates larger than the window lets any read see, given up whole once final: either way
        `since` must pass them, or every later run would read the same pages again.
        """
        settled = next((moment for moment in moments if self.settled(moment)), None)
        if settled is not None:
            return settled
        if not moments:
            return self.bound
        if moments[-1] < self.reader.rules.final_before:
            return moments[-1] + timedelta(microseconds=1)
        return moments[-1]

    def give_up(self, floor: datetime) -> None:
        """Warns once about the stretch from `since` to `floor` that no read can reach, and records it (I1)."""
        reader, since = self.reader, self.origin.since
        ceiling = reader.ceiling or 0
        if floor <= since:
            return
        total, before = reader.total_hint, self.origin.offset
        read = self.shown[floor].end if floor in self.shown else None
        delivered = sum(
            held if isinstance(held, int) else held.total() for moment, held in self.marks.items() if moment < floor
        )
        count = None
        if total is not None and before is not None and read is not None:  # the answer less both ends' records
            count = rest if (rest := total - read - before - delivered) >= 0 else None
        stretch = Skipped(self.window, since, floor, ceiling, count)
        reader.skipped.append(stretch)
        held = stretch.held()
        if count is None and total is not None:
            held += f" (the answer holds {total:,}; the newest {read or self.reached:,} were read)"
        demisto.info(
            f"[Fetch] warning: the Audit Trail refuses to page past record {ceiling:,} of an answer (its result "
            f"window), so the records of {since.date().isoformat()} from {format_time(since)} to {format_time(floor)} "
            f"could not be read from either end: {held} not collected. Collection goes on from {format_time(floor)}."
        )

    def next_cursor(self) -> Cursor:
        """The cursor after this pass (I1-I4): from the newest end again next run, while the window stays."""
        origin, rules = self.origin, self.reader.rules
        if self.stop in ("deadline", "failure"):
            return replace(origin, offset=None, from_end=True)
        if self.limited is not None:
            resume = min(self.resume or self.limited, self.limited)
        else:
            resume = self.resume or self.bound
        since = max(origin.since, self.floor, min(rules.final_before, resume))
        marks = {moment: held for moment, held in self.marks.items() if moment >= since and held}
        since, marks = bound_marks(since, marks, resume)
        finished = self.limited is None
        times = self.reader.times
        return Cursor(
            since=since,
            window=self.window,
            marks=marks,
            legacy={} if finished else dict(self.legacy),
            checkpoint=max(max(times), origin.checkpoint or max(times)) if times else origin.checkpoint,
            from_end=True,
        )


def read_audit_trail(
    source: PageSource, cursor: Cursor, rules: ReadRules, deadline: Deadline, largest: int = 0
) -> ReadOutcome:
    """Reads from `cursor` until the answer ends, the limit, `until`, or the deadline.

    Window after window (see plan_window): the cursor is widened into a later window for free, or
    placed in a new one by search. Where a result window keeps the resume point out of reach (A8),
    the window is read from its newest end (TailScan) until the window moves. A failure ends the
    loop with what was read so far and the cursor matching it, so the caller can push those events
    and save exactly that point.
    """
    reader = AuditReader(source, rules, deadline, largest)
    horizon = rules.horizon

    def outcome(more_waiting: bool = False, error: Exception | None = None) -> ReadOutcome:
        log_notes(reader, cursor)
        events, times = reader.events, reader.times
        return ReadOutcome(
            cursor,
            reader.largest,
            events,
            times,
            more_waiting,
            error,
            reader.calls,
            reader.search_calls,
            reader.skipped,
        )

    for _ in range(MAX_WINDOWS_PER_RUN):
        window = plan_window(cursor.window, cursor.since, horizon)
        first_page: PageRead | None = None
        moved = cursor.window is None or window.from_day != cursor.window.from_day
        newest = window.trusted_end > horizon
        if moved or (cursor.offset is None and not cursor.from_end):
            hint = cursor.offset if cursor.window is not None and moved else None
            cursor = replace(cursor, window=window, offset=None, from_end=False)
            try:
                offset, first_page = reader.locate(window, cursor.since, hint)
            except OutOfTime:
                return outcome(more_waiting=True)
            except PastCeiling:
                demisto.debug(f"[Fetch] window {window}: the resume point lies past the result window")
                cursor = replace(cursor, from_end=True)
            except Exception as failure:  # handed to the caller with the progress made so far
                return outcome(error=failure)
            else:
                demisto.debug(f"[Fetch] window {window}: resume point found in {reader.search_calls} read(s)")
                cursor = replace(cursor, offset=offset)
        else:
            cursor = replace(cursor, window=window)
        if not cursor.from_end:
            scan = WindowScan(reader, window, cursor, newest).run(first_page)
            cursor = scan.next_cursor()
            demisto.debug(
                f"[Fetch] window {window}: {scan.delivered} new, {scan.known} already delivered; stopped: "
                f"{scan.stop}; resume at offset {cursor.offset} from {format_time(cursor.since)} with "
                f"{len(cursor.marks)} changeDate(s) marked; pages of up to {reader.largest} record(s)"
            )
            if scan.failure is not None:
                return outcome(error=scan.failure)
            if scan.stop in ("limit", "deadline"):
                return outcome(more_waiting=True)
            if scan.stop in ("caught up", "unjoined") or (scan.stop == "end" and newest):
                return outcome()
            if scan.stop == "bound" and rules.until is not None and (scan.stopped_at or horizon) > rules.until:
                return outcome()
            horizon = max(horizon, scan.stopped_at or horizon)
            if scan.stop != "ceiling":
                continue
        tail = TailScan(reader, window, cursor, newest).run_tail()
        cursor = tail.next_cursor()
        demisto.debug(
            f"[Fetch] window {window} from its newest end: {tail.delivered} new, {tail.known} already delivered; "
            f"stopped: {tail.stop}; resume from {format_time(cursor.since)} with {len(cursor.marks)} changeDate(s) "
            "marked"
        )
        if tail.failure is not None:
            return outcome(error=tail.failure)
        if tail.stop == "deadline" or tail.limited is not None:
            return outcome(more_waiting=True)
        if newest or (rules.until is not None and rules.until < window.trusted_end):
            return outcome()
        horizon = max(horizon, tail.stopped_at or horizon)
    return outcome(more_waiting=True)


def log_notes(reader: AuditReader, cursor: Cursor) -> None:
    """What a run tells the user once, beyond its debug lines."""
    rules = reader.rules
    if "coverage" in reader.notes:
        demisto.info(
            f"[Fetch] the last {rules.late_commit} held more records than the state keeps: records committed late are "
            f"looked for back to {format_time(cursor.since)} only ({rules.now - cursor.since} before this run)."
        )
    if "big" in reader.notes:
        demisto.info(
            "[Fetch] more records share one changeDate than one page holds: they were read as consecutive pages, "
            "which is exact only if LivePerson returns records of the same time in a stable order."
        )
    if "late" in reader.notes:
        demisto.info(
            f"[Fetch] a record was committed more than {rules.late_commit} after its changeDate; raise 'Records "
            "committed late' if this recurs, or such records may be missed."
        )


class AuditQueries:
    """The Audit Trail as a PageSource, in the dialect this account accepts: negotiated on a refusal, then kept.

    A refusal that names a piece of the syntax changes that piece (next_dialect) and repeats the read,
    so only first contact, or an account whose syntax changed, pays a few extra calls. A refusal about
    anything else (401, 403, a 5xx, a data-fetching error) is raised as it came. The ordering forms
    tried, and those answered newest first (reorder), are remembered until the negotiation ends.
    """

    def __init__(self, client: Client, deadline: Deadline, dialect: QueryDialect) -> None:
        self.client = client
        self.deadline = deadline
        self.dialect = dialect
        self.forms_tried = [dialect.order_form]
        self.newest_first: list[str] = []
        self.refusals = 0
        self.discarded_calls = 0  # calls of reads thrown away because their answer came newest first

    @property
    def extra_calls(self) -> int:
        """What the negotiation cost this command: refused calls, and calls of discarded reads."""
        return self.refusals + self.discarded_calls

    def __call__(
        self, window: Window, offset: int, first: int, descending: bool = False
    ) -> tuple[list[dict[str, Any]], int | None]:
        """`first` records of `window`'s answer from `offset` (fewer when the server caps its pages)."""
        while True:
            size, ceiling = self.dialect.page_size(first), self.dialect.ceiling
            if ceiling is not None and offset + size > ceiling:
                raise PastCeiling(ceiling, ceiling - size)
            query = build_audit_query(window, size, offset, self.dialect, descending)
            try:
                return self.client.fetch_audit_page(query, self.deadline)
            except QueryRejected as refusal:
                self.renegotiate(refusal)

    def renegotiate(self, refusal: QueryRejected) -> None:
        """Moves to the dialect the refusal asks for; raises when it is not about syntax or nothing is left."""
        found = next_dialect(self.dialect, refusal, self.forms_tried)
        if found is None:
            raise refusal
        piece, following = found
        self.refusals += 1
        if following is None and "orderBy" in piece and self.newest_first:
            raise self.not_ordered() from None
        if following is None or self.refusals > NEGOTIATION_MOST:
            raise LivePersonError(self.exhausted(piece, refusal.reasons), Stage.AUDIT, refusal.status) from None
        demisto.debug(f"[Query] refused ({piece}); trying {following.describe()}")
        self.dialect = following
        if following.order_form not in self.forms_tried:
            self.forms_tried.append(following.order_form)

    def reorder(self, calls: int) -> bool:
        """After an answer newest first: the next ordering form to try (True), or none left (False)."""
        self.discarded_calls += calls
        self.newest_first.append(self.dialect.order_form)
        untried = [form for form in ORDER_FORMS if form not in self.forms_tried]
        if not untried:
            return False
        demisto.debug(f"[Query] answered newest first with ordering as {self.dialect.order_form}; trying {untried[0]}")
        self.dialect = replace(self.dialect, order_form=untried[0])
        self.forms_tried.append(untried[0])
        return True

    @property
    def refused_forms(self) -> str:
        """The ordering forms refused in this negotiation, in words."""
        return ", ".join(form for form in self.forms_tried if form not in self.newest_first) or "none"

    def exhausted(self, piece: str, reasons: str) -> str:
        """The error when no form is accepted: the piece, every form tried, and LivePerson's last words."""
        last = f"Last answer: {clip(reasons, 200)}"
        if "orderBy" not in piece:
            return (
                f"The Audit Trail refused {piece} in every form the collector knows ({self.dialect.describe()}). {last}"
            )
        message = f"The Audit Trail refused {piece} as {self.refused_forms}"
        return f"{message} (tried: {', '.join(self.forms_tried)}). {last}"

    def not_ordered(self) -> NotOrdered:
        """The error when every accepted form answered newest first: nothing can be read in order."""
        return NotOrdered(
            "The Audit Trail answered newest first with the arguments 'orderBy' and 'orderDirection' as "
            f"{', '.join(self.newest_first)} (refused as: {self.refused_forms}): the ordering is not applied, so "
            "records cannot be read oldest first. Nothing was sent and the saved state is unchanged; run the probe "
            "(README, Troubleshooting) and report its answer.",
            Stage.AUDIT,
        )

    def warn_dropped(self) -> None:
        """Once a run: what is no longer collected because the account does not know an argument."""
        for name in self.dialect.dropped:
            demisto.info(
                f"[Query] warning: the Audit Trail does not know the argument '{name}', so the query leaves it out; "
                f"not collected because of it: {OPTIONAL_ARGUMENTS[name][1]}."
            )


def read_in_order(queries: AuditQueries, reading: Callable[[PageSource], ReadOutcome]) -> ReadOutcome:
    """Runs `reading` until its answers come oldest first, trying the next ordering form after each that did not.

    A reading that met an answer newest first is thrown away whole (nothing from it is pushed): its
    offsets meant something else. When no form gives oldest first, the error says so.
    """
    while True:
        outcome = reading(queries)
        if isinstance(outcome.error, NotOrdered):
            raise outcome.error
        if not isinstance(outcome.error, OutOfOrder):
            return outcome
        if not queries.reorder(outcome.calls):
            raise queries.not_ordered()


def read_first_page(queries: AuditQueries, window: Window) -> list[dict[str, Any]]:
    """A full page from the start of `window`, in the first accepted form that answers it oldest first.

    test-module and the probe ask this one page; a fetch negotiates the same way through read_in_order.
    """
    while True:
        records, _total = queries(window, 0, PAGE_REQUEST)
        try:
            change_times(records)
        except OutOfOrder:
            if not queries.reorder(calls=1):
                raise queries.not_ordered() from None
            continue
        return records


@dataclass(frozen=True)
class AccountKnowledge:
    """What earlier runs learned about this account's Audit Trail: its largest page and the dialect it accepts."""

    largest: int = 0
    dialect: QueryDialect = DEFAULT_DIALECT

    @classmethod
    def load(cls, settings: Settings) -> "AccountKnowledge":
        """From the integration context, for this account and Domain API host only."""
        entry = context_entry("pages", settings.reader_key) or {}
        try:
            largest = max(0, int(entry.get("largest", 0)))
        except (TypeError, ValueError):
            largest = 0
        learned = entry.get("dialect")
        dialect = QueryDialect.from_entry(learned if isinstance(learned, dict) else {})
        return cls(min(largest, dialect.first), dialect)

    def save(self, settings: Settings) -> None:
        """Stores what changed; a page larger than the accepted `first` cannot be seen again, so it is capped."""
        knowledge = replace(self, largest=min(self.largest, self.dialect.first))
        if knowledge != AccountKnowledge.load(settings):
            dialect = knowledge.dialect.to_entry()
            store_context_entry(
                "pages", {"owner": settings.reader_key, "largest": knowledge.largest, "dialect": dialect}
            )


# ==================================================================================== pure helpers: events


def xsiam_events(records: list[dict[str, Any]], times: list[datetime], copy: bool = False) -> list[dict[str, Any]]:
    """The records shaped for XSIAM (`_time`, `source_log_type`); `copy` leaves the records as read.

    Fetch shapes up to 100,000 records in place; records of one changeDate share one rendering of it.
    """
    shaped = [dict(record) for record in records] if copy else records
    rendered, previous = "", None
    for event, moment in zip(shaped, times, strict=True):
        if moment is not previous:  # the records of one changeDate share one parsed time (change_times)
            rendered, previous = event_time(moment), moment
        event["_time"] = rendered
        event["source_log_type"] = SOURCE_LOG_TYPE
    return shaped


def to_context_event(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record for the War Room context: the raw fields plus the previous collector's keys."""
    context = dict(record)
    for legacy_key, documented_key in LEGACY_CONTEXT_KEYS.items():
        context[legacy_key] = record.get(documented_key)
    return context


def to_table_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """One row of the get-events table: when, what changed (old → new) and who changed it."""
    old_value, new_value = record.get("oldValue"), record.get("newValue")
    return {
        "Time (UTC)": event_time(parse_change_date(record.get("changeDate"))),
        "Object Type": record.get("objectType"),
        "Object Name": record.get("objectName"),
        "Action": record.get("actionType"),
        "Element": record.get("element"),
        "Old → New": f"{old_value or ''} → {new_value or ''}",
        "Originator": record.get("originator") or record.get("originatorLoginName"),
    }


def note_first_fetch(start: datetime, outcome: ReadOutcome, now: datetime) -> None:
    """On a new instance's first run: says when LivePerson has nothing as old as 'First fetch time' asked for."""
    if now - start <= timedelta(days=1):
        return
    oldest = outcome.event_times[0] if outcome.event_times else None
    if oldest is None or oldest - start > timedelta(days=1):
        found = f"the oldest record it returned is from {format_time(oldest)}" if oldest else "it returned no records"
        demisto.info(
            f"[Fetch] First fetch time asked for records from {format_time(start)}, and {found}. LivePerson does not "
            "document how long it keeps audit records: older ones may no longer be available."
        )


def next_run_of(outcome: ReadOutcome) -> dict[str, Any]:
    """`lastRun` after a run: the cursor, and `nextTrigger` "0" when more records are waiting."""
    state = outcome.cursor.to_last_run()
    if outcome.more_waiting:
        state["nextTrigger"] = "0"
    return state


def push(events: list[dict[str, Any]]) -> None:
    """To the dataset liveperson_liveengage_raw; the Sentinel host is the reporting device."""
    send_events_to_xsiam(events, vendor=VENDOR, product=PRODUCT, url_key="auth_server_url")


# ==================================================================================== commands


def test_module(client: Client, now: datetime, budgets: TimeBudgets) -> str:
    """Discovery, token and one page of the last days, in the dialect the account accepts; 'ok' or what failed.

    The page is a full one (PAGE_REQUEST) so that a refused page size and an answer newest first show
    here, not at the first fetch. It starts from what fetches learned and leaves the integration
    context as it was: the fetch negotiates for itself.
    """
    client.settings.first_fetch_at(now)  # its InputError names the parameter, as on the first fetch
    deadline = Deadline.after(budgets.test_module, client.clock)
    known = AccountKnowledge.load(client.settings)
    queries = AuditQueries(client, deadline, known.dialect)
    window = plan_window(None, now - FIRST_FETCH_LOOKBACK, now + CLOCK_SKEW)
    try:
        client.get_domain(deadline=deadline)
        client.get_token(deadline=deadline)
        read_first_page(queries, window)
    except LivePersonError as error:
        return describe_failure(error, client.settings)
    demisto.debug(f"[Query] accepted: {queries.dialect.describe()} ({queries.extra_calls} extra call(s) to find it)")
    return "ok"


def describe_failure(error: LivePersonError, settings: Settings) -> str:
    """test-module's message for a failure: the stage, then the reason in the user's terms."""
    cause, stage = error.exception, error.stage
    where = stage.host(settings)
    if isinstance(cause, requests.exceptions.SSLError):
        reason = (
            f"TLS failure reaching {where}: its certificate is not trusted. Fix the certificate chain, or select "
            "'Trust any certificate' if you accept the risk."
        )
    elif isinstance(cause, requests.exceptions.ProxyError):
        reason = f"Proxy failure reaching {where}: check the system proxy, or clear 'Use system proxy settings'."
    elif isinstance(cause, requests.exceptions.Timeout):
        reason = f"Timeout reaching {where}: it did not answer in time."
    elif isinstance(cause, requests.exceptions.ConnectionError) and stage is Stage.DISCOVERY:
        reason = f"Domain API unreachable ({settings.domain_api_host}): check the host and your network path."
    elif isinstance(cause, requests.exceptions.ConnectionError):
        reason = f"Could not connect to {where}: check the host and your network path."
    else:
        reason = error.message
    return f"Test failed at the {stage.label} stage. {reason}"


def fetch_events(client: Client, settings: Settings, now: datetime, budgets: TimeBudgets) -> None:
    """One fetch run: reads, pushes, then saves the state of what was pushed; re-raises a failure after."""
    deadline = Deadline.after(budgets.fetch, client.clock)
    try:
        saved = Cursor.from_last_run(demisto.getLastRun())
    except ValueError as error:
        demisto.error(f"[Fetch] {error}; starting again from one minute ago")
        saved = Cursor.starting_at(now - FIRST_FETCH_LOOKBACK)
    cursor = saved or Cursor.starting_at(settings.first_fetch_at(now))
    if saved is None:
        demisto.info(f"[Fetch] new instance: collecting from {format_time(cursor.since)} ('First fetch time')")
    rules = ReadRules(limit=settings.max_fetch, now=now, late_commit=settings.late_commit)
    known = AccountKnowledge.load(settings)
    queries = AuditQueries(client, deadline, known.dialect)
    outcome = read_in_order(queries, lambda source: read_audit_trail(source, cursor, rules, deadline, known.largest))
    queries.warn_dropped()
    if saved is None:
        note_first_fetch(cursor.since, outcome, now)
    events = xsiam_events(outcome.events, outcome.event_times)
    push(events)
    next_run = next_run_of(outcome)
    demisto.setLastRun(next_run)
    replace(known, largest=outcome.largest, dialect=queries.dialect).save(settings)
    calls = client.calls
    demisto.debug(
        f"[Fetch] pushed {len(events)} event(s), state saved ({len(json.dumps(next_run))} bytes); calls: "
        f"{calls[Stage.AUDIT]} audit ({outcome.search_calls} to find the resume point, {queries.extra_calls} to "
        f"negotiate the query), {calls[Stage.TOKEN]} token, {calls[Stage.DISCOVERY]} domain; "
        f"more waiting: {outcome.more_waiting}"
    )
    if outcome.error is not None:
        raise outcome.error


def get_events_command(
    client: Client, settings: Settings, args: GetEventsArgs, now: datetime, budgets: TimeBudgets
) -> CommandResults:
    """Reads the records from `start` to `end` that pass the filters, at most `limit`; pushes them if asked."""
    deadline = Deadline.after(budgets.get_events, client.clock)
    rules = ReadRules(
        limit=args.limit, now=now, late_commit=settings.late_commit, until=args.end, record_filter=args.record_filter
    )
    known = AccountKnowledge.load(settings)
    queries = AuditQueries(client, deadline, known.dialect)
    start = Cursor.starting_at(args.start)
    outcome = read_in_order(queries, lambda source: read_audit_trail(source, start, rules, deadline, known.largest))
    queries.warn_dropped()
    replace(known, largest=outcome.largest, dialect=queries.dialect).save(settings)
    if outcome.error is not None:
        raise outcome.error
    records = outcome.events
    title = f"LivePerson audit events from {format_time(args.start)} to {format_time(args.end)}"
    if args.should_push:
        push(xsiam_events(records, outcome.event_times, copy=True))
        title += f" ({len(records)} pushed to XSIAM)"
    table = tableToMarkdown(title, [to_table_row(record) for record in records], headers=TABLE_HEADERS)
    return CommandResults(
        outputs_prefix=f"{INTEGRATION_PREFIX}.Event",
        outputs=[to_context_event(record) for record in records],
        readable_output=table + "".join(f"\n{hidden_note(stretch)}" for stretch in outcome.skipped),
        raw_response=records,
    )


def hidden_note(stretch: Skipped) -> str:
    """The War Room line for a stretch the result window hid: the table is not all there is (I1's exception)."""
    return (
        f"**Not shown:** {stretch.held()} from {format_time(stretch.start)} to {format_time(stretch.end)}: the "
        f"Audit Trail refuses to page past record {stretch.ceiling:,} of an answer (its result window), and they "
        "lie deeper from both ends."
    )


# ==================================================================================== main


@dataclass(frozen=True)
class Invocation:
    """One command run: the validated settings, the time it started, and how it may wait."""

    settings: Settings
    now: datetime
    sleep: Callable[[float], None]
    budgets: TimeBudgets

    def client(self, use_cache: bool = True) -> Client:
        """A client for these settings, with the invocation's sleep and request timeout."""
        return Client(self.settings, use_cache=use_cache, sleep=self.sleep, request_timeout=self.budgets.request)


def run_test_module(invocation: Invocation) -> None:
    """test-module: 'ok', or the failing stage and why (without the token and domain caches)."""
    return_results(test_module(invocation.client(use_cache=False), invocation.now, invocation.budgets))


def run_fetch_events(invocation: Invocation) -> None:
    """fetch-events: one collection run (see fetch_events)."""
    fetch_events(invocation.client(), invocation.settings, invocation.now, invocation.budgets)


def run_get_events(invocation: Invocation) -> None:
    """liveperson-get-events: validates the arguments, reads, and returns the table and context."""
    args = GetEventsArgs.from_args(demisto.args(), invocation.now)
    client = invocation.client()
    return_results(get_events_command(client, invocation.settings, args, invocation.now, invocation.budgets))


COMMANDS: dict[str, Callable[[Invocation], None]] = {
    "test-module": run_test_module,
    "fetch-events": run_fetch_events,
    "liveperson-get-events": run_get_events,
}


def main(sleep: Callable[[float], None] = time.sleep, budgets: TimeBudgets = DEFAULT_BUDGETS) -> None:
    """Entry point. `sleep` and `budgets` are the ways in for tests (retry pacing, short budgets)."""
    command = demisto.command()
    demisto.debug(f"[Main] command {command}")
    try:
        handler = COMMANDS.get(command)
        if handler is None:
            raise NotImplementedError(f"Command {command} is not implemented.")
        now = datetime.now(UTC)
        handler(Invocation(Settings.from_params(demisto.params(), now), now, sleep, budgets))
    except (InputError, LivePersonError) as error:
        demisto.error(f"[Main] {command} failed: {type(error).__name__}")
        return_error(f"Failed to execute {command} command.\nError:\n{error}")
    except Exception as error:
        demisto.error(f"[Main] {command} failed unexpectedly:\n{traceback.format_exc()}")
        return_error(f"Failed to execute {command} command.\nError:\n{error}")


if __name__ in ("__main__", "__builtin__", "builtins"):
    main()
