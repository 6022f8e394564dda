import demistomock as demisto  # noqa: F401
from CommonServerPython import *  # noqa: F401
from CommonServerUserPython import *  # noqa: F401

import base64
import hashlib
import json
import re
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from itertools import repeat
from typing import Any

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

# Reading: see the docstrings of `Window`, `Cursor` and `Scan` for why each of these exists.
PAGE_REQUEST = 500  # the `first` of every page read; LivePerson may answer with fewer (its cap is not documented)
TAIL_MAX_RECORDS = 100  # delivered records remembered by fingerprint (about 17 bytes each in lastRun)
FINGERPRINT_HEX_CHARS = 12
FILTER_ZONE_SPREAD = timedelta(hours=14)  # the day filters may be read in any zone from UTC-12 to UTC+14
CLOCK_SKEW_MARGIN = timedelta(hours=1)  # how far LivePerson's clock may run ahead of ours
MAX_WINDOW_DAYS = 3
MAX_WINDOWS_PER_RUN = 64
PAGE_SIZE_RECHECK_SECONDS = 3600.0
CAP_PROOF_AGE = timedelta(hours=1)  # a record older than this already existed at any read a run made
LATE_COVER = timedelta(hours=12)  # how late a record may be committed and still be found
LATE_GUARD = timedelta(seconds=5)  # records stamped this close to the newest are all kept in the tail when they fit
SHIFT_HORIZON = timedelta(minutes=10)  # records this recent may still gain late neighbours during a run
REPEATED_PAGE_EVIDENCE = 5  # two short pages in a row of this many records or more: the server's cap
STATE_VERSION = 2

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

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "Settings":
        """Validates `demisto.params()`; raises InputError naming the parameter on bad input."""
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
        )

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


@dataclass(frozen=True)
class AuditPage:
    """One Audit Trail answer: its records, and the X-Total-Count header (whose meaning is undocumented)."""

    records: list[dict[str, Any]]
    total_count: str | None = None


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

    def query_audit_trail(self, domain: str, token: str, query: str, deadline: Deadline = NO_DEADLINE) -> AuditPage:
        """Audit Trail: one GraphQL-in-JSON query; returns its `auditData` records."""
        path = AUDIT_PATH.format(account_id=self.settings.account_id)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": "application/json"}
        url = f"https://{domain}{path}"
        response = self._send(Stage.AUDIT, deadline, "POST", url, json_data={"query": query}, headers=headers)
        records = audit_records_from_body(json_body(response, Stage.AUDIT))
        return AuditPage(records, response.headers.get("X-Total-Count"))

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

    def fetch_audit_page(self, query: str, deadline: Deadline = NO_DEADLINE) -> AuditPage:
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

    def _retry_audit(self, domain: str, token: str, query: str, deadline: Deadline, what_changed: str) -> AuditPage:
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
        message = f"The Audit Trail rejected the query (HTTP {status}{detail})."
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
        raise LivePersonError(f"The Audit Trail rejected the query: {'; '.join(messages)}", Stage.AUDIT)
    data = body.get("data")
    records = data.get("auditData") if isinstance(data, dict) else None
    if not isinstance(records, list) or not all(map(isinstance, records, repeat(dict))):
        raise LivePersonError("The Audit Trail answered without a data.auditData list.", Stage.AUDIT)
    return records


# ==================================================================================== pure helpers: query and time


def utc_midnight(day: date) -> datetime:
    """The start of `day` in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass(frozen=True)
class Window:
    """The `fromDate`/`toDate` pair of the queries, and the stretch of time its answer surely holds.

    LivePerson does not document in which zone it reads the day filters, nor whether `toDate` is
    inclusive. Whichever zone from UTC-12 to UTC+14 it uses, and either way for `toDate`, the
    answer holds every record from `trusted_start` to `trusted_end`:

        fromDate 00:00 UTC          +14 h                                  -14 h          toDate 00:00 UTC
        |--------------------------|-- trusted_start ..... trusted_end --|---------------|
              (maybe in the answer)     (surely in the answer)             (maybe in it)

    The answer lists its records oldest first, so a record's offset in it only moves when a record
    is inserted before it. Widening `toDate` only appends records newer than everything there is,
    so it keeps every offset; moving `fromDate` shifts them all, so the resume point is searched for.
    """

    from_day: date
    to_day: date

    @property
    def trusted_start(self) -> datetime:
        """From here on, every reading of the day filters includes the records."""
        return utc_midnight(self.from_day) + FILTER_ZONE_SPREAD

    @property
    def trusted_end(self) -> datetime:
        """Up to here, every reading of the day filters includes the records."""
        return utc_midnight(self.to_day) - FILTER_ZONE_SPREAD

    def __str__(self) -> str:
        return f"{self.from_day.isoformat()}..{self.to_day.isoformat()}"


def plan_window(current: Window | None, start: datetime, horizon: datetime) -> Window:
    """The window for reading from `start` to `horizon`: `current` when it serves, widened if it can be.

    Args:
        current: the window the cursor's offset belongs to, if any.
        start: the oldest time the run needs (the cursor's floor, or where the last window was read to).
        horizon: the newest time the run needs (now plus the clock-skew margin, or get-events' end).

    Returns:
        `current` unchanged; `current` with a later `toDate` (offsets stay valid); or a new window
        starting at `start` (offsets must be searched for). A window spans at most MAX_WINDOW_DAYS,
        so a long catch-up is read window after window.
    """
    latest_from = (start - FILTER_ZONE_SPREAD).date()
    needed_to = (horizon + FILTER_ZONE_SPREAD).date() + timedelta(days=1)
    if current is not None and current.from_day <= latest_from:
        if current.to_day >= needed_to:
            return current
        if (needed_to - current.from_day).days <= MAX_WINDOW_DAYS:
            return Window(current.from_day, needed_to)
    return Window(latest_from, min(needed_to, latest_from + timedelta(days=MAX_WINDOW_DAYS)))


def build_audit_query(
    window: Window, first: int, offset: int, descending: bool = False, results_zone: str = "UTC"
) -> str:
    """The documented GraphQL query: one window, oldest first, every record field selected.

    LPA changes and automatic updates are asked for explicitly: LivePerson leaves both out by default.
    """
    arguments = ", ".join(
        [
            f'fromDate: "{window.from_day.isoformat()}"',
            f'toDate: "{window.to_day.isoformat()}"',
            f"first: {first}",
            f"offset: {offset}",
            'orderBy: ["changeTimestamp"]',
            f'orderDirection: ["{"DESC" if descending else "ASC"}"]',
            f'timezone: "{results_zone}"',
            'language: "en-US"',
            "lpa: true",
            "automaticUpdates: true",
        ]
    )
    return f"{{auditData({arguments}) {{{' '.join(AUDIT_RECORD_FIELDS)}}}}}"


def parse_change_date(value: Any) -> datetime:
    """`changeDate` as rendered with timezone UTC ('2019-11-12 06:10:46.0'), as an aware datetime.

    Any number of fractional digits, or none, is read. `fromisoformat` also reads the export's 'T'
    form, and is fast enough to run on every record; a value carrying an offset is converted.
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


def format_time(moment: datetime) -> str:
    """The state's time format: ISO UTC with microseconds and a Z."""
    return moment.astimezone(UTC).strftime(STATE_TIME_FORMAT)


def parse_state_time(text: str) -> datetime:
    """Reads a time written by format_time."""
    return datetime.strptime(text, STATE_TIME_FORMAT).replace(tzinfo=UTC)


def event_time(moment: datetime) -> str:
    """`_time` for XSIAM: ISO 8601 UTC with milliseconds and a Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def event_time_of(change_date: Any, moment: datetime) -> str:
    """`_time` for one event. Runs once per event, so the usual UTC rendering is rewritten as text."""
    if (
        type(change_date) is str
        and len(change_date) == 21
        and change_date[10] == " "
        and change_date[19] == "."
        and change_date[20].isdigit()
    ):  # LivePerson's sample rendering, one fractional digit: the common case first
        return f"{change_date[:10]}T{change_date[11:19]}.{change_date[20]}00Z"
    if (
        isinstance(change_date, str)
        and 19 <= len(change_date) <= 26
        and change_date[4] == change_date[7] == "-"
        and change_date[13] == change_date[16] == ":"
        and (len(change_date) == 19 or (change_date[19] == "." and change_date[20:].isdigit()))
    ):  # 'yyyy-MM-dd HH:mm:ss[.S...]' with no offset: the UTC rendering asked for
        return f"{change_date[:10]}T{change_date[11:19]}.{change_date[20:23].ljust(3, '0')}Z"
    return event_time(moment)


def fingerprint(record: Mapping[str, Any]) -> str:
    """A stable hash of everything LivePerson returned: equal records (real twins) share it."""
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:FINGERPRINT_HEX_CHARS]


# ==================================================================================== pure helpers: exactly once

Tail = tuple[tuple[str, int], ...]  # a multiset of fingerprints, sorted: twins count twice


def as_tail(counts: Mapping[str, int]) -> Tail:
    """A fingerprint multiset as the immutable, sorted Tail (zero counts dropped)."""
    return tuple(sorted((mark, count) for mark, count in counts.items() if count > 0))


@dataclass(frozen=True)
class Cursor:
    """Where reading resumes, and what is known just before that point. Immutable.

    In the window's answer (oldest first) every record has an offset. The cursor says:

        offset:   0 ....... reread_from ............. offset ............
                  | known  | tail: the last records  | not read yet
                  |        | known, by fingerprint   |
                  floor: at or before the first tail record's time; every known record newer
                  than it is in the tail. `behind` known records share it but are not in the
                  tail (0 unless more than the tail bound share one time).

    Exactly once rests on three facts a reader can check against the code:
    1. Every record before `offset` was delivered (or is older than where collection started),
       and every record that old is before `offset` unless it was inserted late.
    2. A run re-reads from `reread_from`: a tail record seen again is known; a record seen before
       the whole tail was, and not in it, was inserted late behind the resume point. It is new
       when it is newer than `floor` (or at `floor` with `behind == 0`), as no known record is.
    3. Past the whole tail, only records never read can follow (the answer is in time order).
    When the window moves, offsets change: the cursor is placed again at the first record at or
    after `floor` plus `behind`, found by search, and the tail is re-read from there.
    """

    floor: datetime
    tail: Tail = ()
    behind: int = 0
    window: Window | None = None
    offset: int | None = None
    checkpoint: datetime | None = None
    settled: datetime | None = None  # windows were read to their end up to here: nothing unread lies before

    @classmethod
    def starting_at(cls, moment: datetime) -> "Cursor":
        """A cursor before any record at or after `moment`: collection starts there."""
        return cls(floor=moment.astimezone(UTC))

    @classmethod
    def from_last_run(cls, last_run: Any) -> "Cursor | None":
        """Reads our own `lastRun`; None for an empty or foreign one. Raises ValueError when ours is damaged."""
        version = last_run.get("version") if isinstance(last_run, dict) else None
        if type(version) is not int or version not in (1, STATE_VERSION):
            return None
        try:
            tail = as_tail({str(mark): int(count) for mark, count in (last_run.get("tail") or {}).items()})
            checkpoint, settled = last_run.get("checkpoint"), last_run.get("settled")
            floor = parse_state_time(str(last_run["floor"]))
            if version == 1 and not last_run.get("floor_complete", True):
                # Version 1 did not count the known records at its floor that its tail left out: start
                # just past that time, so none of them is sent again.
                floor += timedelta(microseconds=1)
            cursor = cls(
                floor=floor,
                tail=tail,
                behind=max(0, int(last_run.get("behind", 0))),
                checkpoint=parse_state_time(str(checkpoint)) if checkpoint else None,
                settled=parse_state_time(str(settled)) if settled else None,
            )
            window = last_run.get("window")
            if last_run.get("version") == STATE_VERSION and window:
                offset = last_run.get("offset")
                placed_window = Window(date.fromisoformat(str(window[0])), date.fromisoformat(str(window[1])))
                cursor = replace(cursor, window=placed_window, offset=None if offset is None else max(0, int(offset)))
            return cursor
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
            raise ValueError(f"lastRun is not readable ({type(error).__name__})") from None

    def to_last_run(self) -> dict[str, Any]:
        """The cursor as `lastRun`: at most about 2 KB (100 fingerprints), whatever the volume."""
        state: dict[str, Any] = {
            "version": STATE_VERSION,
            "floor": format_time(self.floor),
            "behind": self.behind,
            "tail": dict(self.tail),
        }
        if self.window is not None:
            state["window"] = [self.window.from_day.isoformat(), self.window.to_day.isoformat()]
        if self.offset is not None:
            state["offset"] = self.offset
        if self.checkpoint is not None:
            state["checkpoint"] = format_time(self.checkpoint)
        if self.settled is not None:
            state["settled"] = format_time(self.settled)
        return state

    @property
    def tail_size(self) -> int:
        """How many records the tail remembers (twins counted twice)."""
        return sum(count for _mark, count in self.tail)

    @property
    def placed(self) -> bool:
        """Whether `offset` is known in `window` (False on the first run and after the window moved)."""
        return self.window is not None and self.offset is not None

    @property
    def reread_from(self) -> int:
        """The offset where a run starts reading: the first tail record."""
        return max(0, (self.offset or 0) - self.tail_size)

    def placed_at(self, window: Window, first_at_floor: int, floor_present: bool = True) -> "Cursor":
        """The cursor in `window`, whose first record at or after `floor` is at offset `first_at_floor`.

        `floor_present` says that record is at `floor` itself: only then do the `behind` known records
        at that time lie in the window, to be stepped over. (A window may start after an old floor.)
        """
        behind = self.behind if floor_present else 0
        return replace(self, window=window, offset=first_at_floor + behind + self.tail_size)

    @property
    def reading_start(self) -> datetime:
        """The oldest time the next window must hold.

        The floor, but no earlier than LATE_COVER before the newest delivery (on a quiet account the
        tail's floor can be days old, and records committed that late are not looked for), nor than
        where earlier windows were read to their end (`settled`): nothing unread lies before it.
        """
        start = self.floor
        if self.checkpoint is not None:
            start = max(start, self.checkpoint - LATE_COVER)
        if self.settled is not None:
            start = max(start, self.settled)
        return start

    def widened_to(self, window: Window) -> "Cursor":
        """The same offsets in a window with a later `toDate` (nothing existing moves)."""
        return replace(self, window=window)

    def unplaced_in(self, window: Window) -> "Cursor":
        """The cursor after a move to `window` whose offsets are not searched for yet."""
        return replace(self, window=window, offset=None)


@dataclass(frozen=True)
class PageKnowledge:
    """What the collector has learned about LivePerson's largest page (undocumented; 500 is a claim).

    `size` is the largest page the server has returned, so it returns at least that many when it
    can: a page shorter than `size` (and than what was asked for) ends the answer; a page of `size`
    or more is followed by another read. `proven` says `size` is the server's cap: it returned that
    many while more records followed that already existed (records known from earlier runs, or
    older than CAP_PROOF_AGE), or twice in a row (records arriving between two reads cannot make two
    short pages of the same length, five or more, by chance). With a proven cap the tail is kept at
    half a page when that covers the last LATE_GUARD, so a steady run is one call. Once an hour a short page is
    checked with one more read, so a server whose cap went down is re-learned; a larger page is
    seen at once.
    """

    size: int = 0
    proven: bool = False
    checked_at: float = 0.0

    @classmethod
    def from_context(cls, entry: Mapping[str, Any] | None) -> "PageKnowledge":
        """The knowledge stored in the integration context (unknown when absent or unreadable)."""
        if not entry:
            return cls()
        try:
            return cls(int(entry.get("size", 0)), bool(entry.get("proven", False)), float(entry.get("checked_at", 0)))
        except (TypeError, ValueError):
            return cls()

    def to_context(self, owner: str) -> dict[str, Any]:
        """The knowledge as an integration-context entry belonging to `owner`."""
        return {"owner": owner, "size": self.size, "proven": self.proven, "checked_at": self.checked_at}

    def tail_budget(self, recent: int = 0) -> int:
        """How many records the next tail may hold, `recent` of them stamped within LATE_GUARD of the newest.

        With a proven cap, half a page, so that re-reading the tail and a few new records is one call;
        more, up to a page less one, when more records than that were stamped in the last LATE_GUARD,
        so that a busy second's late commits are still found (a busy run reads several pages anyway).
        """
        if not self.proven:
            return TAIL_MAX_RECORDS
        half_page = min(TAIL_MAX_RECORDS, self.size // 2)
        return max(half_page, min(TAIL_MAX_RECORDS, self.size - 1, recent))

    def ends_answer(self, returned: int, requested: int) -> bool:
        """Whether a page of `returned` records (of `requested`) can only be the end of the answer."""
        return returned == 0 or (returned < requested and returned < self.size)

    def after_page(self, returned: int, requested: int) -> "PageKnowledge":
        """Every page is evidence: the server returns at least `returned`; a full page proves the cap."""
        if returned >= requested:
            return self if self.proven and self.size == requested else replace(self, size=requested, proven=True)
        if returned > self.size:
            return replace(self, size=returned, proven=False)
        return self

    def capped_at(self, size: int) -> "PageKnowledge":
        """The server returned `size` records while more, already existing, followed: that is its cap."""
        return replace(self, size=size, proven=True)


def proves_cap(following: datetime | None, now: datetime) -> bool:
    """Whether a record at `following`, read after a short page, existed when that page was served."""
    return following is not None and following < now - CAP_PROOF_AGE


class Stop(Enum):
    """Why a scan of a window's answer stopped."""

    END = "end of the answer"
    LIMIT = "limit reached"
    UNTIL = "past the end time"
    WINDOW_END = "past the window's trusted end"
    MOVED = "records were committed behind the read; the next run re-reads them"


@dataclass(frozen=True)
class ReadRules:
    """What a run may deliver: how many, up to when, which records (get-events filters)."""

    limit: int
    now: datetime
    until: datetime | None = None
    record_filter: RecordFilter = RecordFilter()

    @property
    def horizon(self) -> datetime:
        """The newest time this run must read up to."""
        return self.until if self.until is not None else self.now + CLOCK_SKEW_MARGIN


@dataclass(frozen=True)
class ScanCounts:
    """What a scan saw, for the log: delivered, filtered out, re-read (known) and skipped as older."""

    delivered: int = 0
    filtered: int = 0
    known: int = 0
    older: int = 0

    def __add__(self, other: "ScanCounts") -> "ScanCounts":
        return ScanCounts(
            self.delivered + other.delivered,
            self.filtered + other.filtered,
            self.known + other.known,
            self.older + other.older,
        )


@dataclass(frozen=True)
class PageResult:
    """What one page gives: the scan after it, and the events it delivered with their times."""

    scan: "Scan"
    events: list[dict[str, Any]]
    event_times: list[datetime]


@dataclass(frozen=True)
class ScanEnd:
    """A finished scan: the next cursor, and whether one time had more records than the tail bound."""

    cursor: Cursor
    bound_hit: bool = False


@dataclass(frozen=True)
class Scan:
    """One run's pass through a window's answer, page by page. Immutable: `feed` returns a new scan.

    It starts at the cursor's `reread_from` with the whole tail unmatched, and stops at the end of
    the answer (judged with PageKnowledge), at the limit, past `until`, or at the window's trusted
    end. `finish` turns it into the next cursor.
    """

    origin: Cursor
    knowledge: PageKnowledge
    delivered_before: int = 0
    position: int = 0
    unmatched: Tail = ()
    consumed: int = 0
    counts: ScanCounts = ScanCounts()
    newest: datetime | None = None
    newest_streak: int = 0  # how many consumed records in a row, at the end, share `newest`
    newest_delivered: datetime | None = None
    recent: tuple[tuple[dict[str, Any], ...], ...] = ()  # the last consumed records, page by page
    short_page: int | None = None  # the previous page, when it was short but did not end the answer
    verifying: bool = False  # the previous page looked like the end; this read checks it
    doubting: bool = False  # a check found more records: only an empty page ends this run
    stop: Stop | None = None
    stopped_at: datetime | None = None
    offset_known: bool = True  # records are known to exist up to the origin's offset

    @classmethod
    def begin(
        cls, cursor: Cursor, knowledge: PageKnowledge, delivered_before: int = 0, offset_known: bool = True
    ) -> "Scan":
        """A scan from a placed `cursor`; `delivered_before` counts towards the limit.

        `offset_known` is False right after a search placed the cursor: its tail may lie partly
        outside the new window, so its offset is no proof that records exist up to there.
        """
        return cls(
            cursor,
            knowledge,
            delivered_before,
            position=cursor.reread_from,
            unmatched=cursor.tail,
            offset_known=offset_known,
        )

    def next_read(self, now: datetime) -> tuple[int, int]:
        """Where the next page starts, and how many records it re-reads (0 or 1).

        After the first page, a page of recent records starts one record early: a record committed
        late behind the read position between two pages shifts the answer, and the re-read record
        shows where the new page joins the last one (see repeated_prefix). Records older than
        SHIFT_HORIZON gain no late neighbours, and a server capped at one record a call leaves no
        room for it. A page holding nothing but the re-read record is the end of the answer.
        """
        recent = self.newest is not None and self.newest >= now - SHIFT_HORIZON
        room = not (self.knowledge.proven and self.knowledge.size < 2)
        overlap = 1 if self.consumed and recent and room and self.position > 0 else 0
        return self.position - overlap, overlap

    def feed(self, page: Sequence[dict[str, Any]], requested: int, rules: ReadRules, overlap: int = 0) -> PageResult:
        """Classifies one page read at `position - overlap` (`requested` records were asked for).

        A record matching an unmatched tail fingerprint is known. Before the whole tail was seen, any
        other record is new only if newer than `floor` (or at it when `behind` is 0): it was inserted
        late behind the resume point; otherwise it is skipped as older. Past the whole tail, every
        record is new. The limit never stops a scan inside the tail, so no tail record is left unread.
        """
        window = self.origin.window
        assert window is not None, "a scan runs in a placed cursor's window"
        unmatched = dict(self.unmatched)
        pending = sum(unmatched.values())
        events: list[dict[str, Any]] = []
        times: list[datetime] = []
        room = rules.limit - self.delivered_before - self.counts.delivered
        keep = rules.record_filter.keeps if rules.record_filter.active else None
        trusted_end, until = window.trusted_end, rules.until
        floor, floor_complete = self.origin.floor, self.origin.behind == 0
        newest, streak = self.newest, self.newest_streak
        knowledge = self.learned_from_next_page(page, rules.now)
        doubting = self.doubting or (self.verifying and bool(page))
        if overlap and repeated_prefix(page, self.recent) != overlap:
            # Records were committed behind the read position since the last page. The scan stops here,
            # before them: the next run re-reads its tail from where the floor's records start, which is
            # where any such record with a time past the floor now lies.
            return PageResult(replace(self, stop=Stop.MOVED, knowledge=knowledge), [], [])
        repeated = overlap
        filtered = known = older = used = 0
        stop: Stop | None = None
        stopped_at: datetime | None = None
        body = page[repeated:] if repeated else page
        # One comparison a record for both bounds: `until` is inclusive, the trusted end is not.
        bound = trusted_end if until is None else min(trusted_end, until + timedelta(microseconds=1))
        from_iso = datetime.fromisoformat
        for record in body:  # the hot loop: every record a run reads passes here once
            try:  # parse_change_date's usual case, inlined
                moment = from_iso(record["changeDate"] + "+00:00")
            except (KeyError, TypeError, ValueError):
                moment = parse_change_date(record.get("changeDate"))
            if moment >= bound:
                stop, stopped_at = (Stop.WINDOW_END if moment >= trusted_end else Stop.UNTIL), moment
                break
            if pending:
                mark = fingerprint(record)
                if unmatched.get(mark):
                    unmatched[mark] -= 1
                    pending -= 1
                    known += 1
                    new = False
                else:
                    new = moment > floor or (moment == floor and floor_complete)
                    older += not new
            elif len(events) >= room:
                stop, stopped_at = Stop.LIMIT, moment
                break
            else:
                new = True
            if new:
                if keep is None or keep(record):
                    events.append(record)
                    times.append(moment)
                else:
                    filtered += 1
            used += 1
        if used:
            newest, streak = trailing_streak(body[:used], newest, streak)
        scan = replace(
            self,
            position=self.position - overlap + repeated + used,
            unmatched=as_tail(unmatched),
            consumed=self.consumed + used,
            counts=self.counts + ScanCounts(len(events), filtered, known, older),
            newest=newest,
            newest_streak=streak,
            newest_delivered=times[-1] if times else self.newest_delivered,
            knowledge=knowledge,
            short_page=None,
            verifying=False,
            doubting=doubting,
            recent=keep_recent(self.recent, tuple(body[:used])),
            stop=stop,
            stopped_at=stopped_at,
        )
        if stop is None:
            scan = scan.after_whole_page(len(page), requested, rules.now.timestamp(), self.verifying, repeated)
        return PageResult(scan, events, times)

    def learned_from_next_page(self, page: Sequence[dict[str, Any]], now: datetime) -> PageKnowledge:
        """What the page following a short one teaches about the server's cap, and the hourly check's time.

        The short page was the server's cap when this one holds records that already existed then:
        records over CAP_PROOF_AGE old, or as many again (REPEATED_PAGE_EVIDENCE or more).
        """
        knowledge = self.knowledge
        if self.short_page is None or not page:
            return knowledge
        twice = len(page) == self.short_page >= REPEATED_PAGE_EVIDENCE
        if twice or proves_cap(parse_change_date(page[0].get("changeDate")), now):
            knowledge = knowledge.capped_at(self.short_page)
        if self.verifying:
            knowledge = replace(knowledge, checked_at=now.timestamp())
        return knowledge

    def after_whole_page(
        self, returned: int, requested: int, now: float, verifying: bool = False, repeated: int = 0
    ) -> "Scan":
        """Decides whether the answer ended, after a page read to its last record.

        An empty page (or one holding only the `repeated` records read before) ends it. A page as
        long as asked for does not. A short page ends it when the
        server has returned longer pages before (PageKnowledge) and no known record lies beyond it;
        once an hour that conclusion is checked with one more read (`verifying` marks that read), and
        when that read finds records, the rest of the run reads on to an empty page.
        """
        knowledge = self.knowledge.after_page(returned, requested)
        if returned == repeated:  # nothing past what was read before: the end
            if verifying:
                knowledge = replace(knowledge, checked_at=now)
            return replace(self, knowledge=knowledge, stop=Stop.END)
        if returned >= requested:
            return replace(self, knowledge=knowledge)
        if self.offset_known and self.origin.offset is not None and self.position < self.origin.offset:
            # Records read by earlier runs lie past this short page: it is the server's cap.
            return replace(self, knowledge=knowledge.capped_at(returned))
        if self.doubting or not knowledge.ends_answer(returned, requested):
            return replace(self, knowledge=knowledge, short_page=returned)
        if now - knowledge.checked_at < PAGE_SIZE_RECHECK_SECONDS:
            return replace(self, knowledge=knowledge, stop=Stop.END)
        return replace(self, knowledge=knowledge, short_page=returned, verifying=True)

    def finish(self) -> ScanEnd:
        """The next cursor: the resume point moved past what was consumed, the tail rebuilt from it."""
        origin = self.origin
        if not self.consumed:
            return ScanEnd(origin)
        consumed = [record for page in self.recent for record in page][-(TAIL_MAX_RECORDS + 1) :]
        newest = [(parse_change_date(record.get("changeDate")), fingerprint(record)) for record in consumed]
        known_at_newest = self.newest_streak
        if self.newest_streak == self.consumed and self.newest == origin.floor:
            known_at_newest += origin.behind  # the whole run shares one time with the known records behind it
        guard_start = newest[-1][0] - LATE_GUARD
        recent = sum(1 for moment, _mark in newest if moment >= guard_start)
        plan = plan_tail(newest, self.knowledge.tail_budget(recent), known_at_newest, origin)
        cursor = replace(
            origin,
            offset=self.position,
            tail=plan.tail,
            floor=plan.floor,
            behind=plan.behind,
            checkpoint=self.newest_delivered or origin.checkpoint,
        )
        return ScanEnd(cursor, plan.bound_hit)


def trailing_streak(consumed: Sequence[dict[str, Any]], newest: datetime | None, streak: int) -> tuple[datetime, int]:
    """The newest time after `consumed` and how many records in a row, at the end, share it.

    `newest` and `streak` describe what was consumed before; only the trailing run is parsed.
    """
    last = parse_change_date(consumed[-1].get("changeDate"))
    count = 1
    for record in reversed(consumed[:-1]):
        if parse_change_date(record.get("changeDate")) != last:
            return last, count
        count += 1
    return last, count + (streak if newest == last else 0)


def repeated_prefix(page: Sequence[dict[str, Any]], recent: tuple[tuple[dict[str, Any], ...], ...]) -> int | None:
    """How many records at the start of `page` are the last records already read, in order; None if it does not join.

    A page read one record early starts with the last record read (1), unless records were
    committed behind the read position since the previous page: then it starts that many records
    further back (more than 1). The smallest join is taken, so identical twins at the joint do not
    look like a shift.
    """
    consumed = [record for kept in recent for record in kept]
    for length in range(1, min(len(page), len(consumed)) + 1):
        if list(page[:length]) == consumed[-length:]:
            return length
    return None


def keep_recent(
    recent: tuple[tuple[dict[str, Any], ...], ...], page: tuple[dict[str, Any], ...]
) -> tuple[tuple[dict[str, Any], ...], ...]:
    """The last pages that hold the newest TAIL_MAX_RECORDS + 1 records: only those can make a tail."""
    pages = (*recent, page) if page else recent
    while len(pages) > 1 and sum(len(kept) for kept in pages[1:]) > TAIL_MAX_RECORDS:
        pages = pages[1:]
    return pages


@dataclass(frozen=True)
class TailPlan:
    """The next cursor's tail, floor and `behind`, and whether one time had more records than the bound."""

    tail: Tail
    floor: datetime
    behind: int
    bound_hit: bool = False


def plan_tail(newest: list[tuple[datetime, str]], budget: int, known_at_newest: int, origin: Cursor) -> TailPlan:
    """Chooses which of the newest consumed records the next cursor remembers: at most `budget`.

    When every record the run read fits, all are kept and the old floor stays. Otherwise the cut is
    moved forward to a change of time when one exists, so every known record at the new floor is
    in the tail (`behind` 0); when the last `budget` + 1 records share one time, the tail keeps the
    last `budget` of them and `behind` counts the other known records at that time.

    Args:
        newest: (time, fingerprint) of the last consumed records, oldest first: all of the run's,
            or at least its last `budget` + 1.
        budget: the largest tail allowed (PageKnowledge.tail_budget).
        known_at_newest: how many known records share the newest time.
        origin: the cursor the run started from (what lay before the records read).

    Returns:
        The plan; `bound_hit` when one time had more known records than the tail may hold.
    """
    if budget == 0:
        return TailPlan((), newest[-1][0], known_at_newest)
    start = max(0, len(newest) - budget)
    if start > 0 and newest[start][0] == newest[start - 1][0]:
        boundary = next(
            (index for index in range(start + 1, len(newest)) if newest[index][0] > newest[index - 1][0]), None
        )
        if boundary is None:
            kept = newest[start:]
            return TailPlan(tail_of(kept), kept[0][0], known_at_newest - len(kept), bound_hit=True)
        start = boundary
    kept = newest[start:]
    if start == 0:
        # Every record the run read is kept, the old tail among them: the old floor still holds, and
        # records committed late since then, down to it, are still looked for.
        return TailPlan(tail_of(kept), origin.floor, origin.behind)
    return TailPlan(tail_of(kept), kept[0][0], 0)


def tail_of(records: Iterable[tuple[datetime, str]]) -> Tail:
    """The Tail of (time, fingerprint) pairs: each fingerprint counted as often as it occurs."""
    counts: dict[str, int] = {}
    for _moment, mark in records:
        counts[mark] = counts.get(mark, 0) + 1
    return as_tail(counts)


@dataclass(frozen=True)
class Search:
    """Finds the offset of the first record at or after `target` in a window's answer, in O(log N) reads.

    Every record before `low` is older than `target`; the record at `high` is not, or the answer
    ends before it. Until `high` is known, probes gallop from `low` (+0, +1, +3, +7, ...), trying
    `hint` first: the cursor's old offset, which bounds the new one when the window only dropped
    older days. Then they bisect. Each probe reads one record (`first: 1`).
    """

    target: datetime
    low: int = 0
    high: int | None = None
    high_time: datetime | None = None  # the time of the record at `high` (None: the answer ends there)
    stride: int = 1
    hint: int | None = None

    @property
    def at_target(self) -> bool:
        """Once found: whether the record there is at `target` itself (not only after it)."""
        return self.high_time == self.target

    @property
    def found(self) -> bool:
        """Whether the position is known: it is then `low`."""
        return self.high is not None and self.low >= self.high

    def next_probe(self) -> int:
        """The offset to read next: the hint, a galloping step, or the middle of the bounds."""
        if self.high is not None:
            return (self.low + self.high) // 2
        if self.hint is not None and self.hint >= self.low:
            return self.hint
        return self.low + self.stride - 1

    def after(self, offset: int, moment: datetime | None) -> "Search":
        """The search after reading `offset`: `moment` is that record's time, None when there is none."""
        hint = None if offset == self.hint else self.hint
        if moment is None or moment >= self.target:
            if self.high is not None and self.high <= offset:
                return replace(self, hint=hint)
            return replace(self, high=offset, high_time=moment, hint=hint)
        stride = self.stride * 2 if self.high is None and offset != self.hint else self.stride
        return replace(self, low=max(self.low, offset + 1), stride=stride, hint=hint)

    def after_page(self, offset: int, times: Sequence[datetime]) -> "Search":
        """The search after reading a whole page at `offset`, whose records have `times`."""
        for index, moment in enumerate(times):
            if moment >= self.target:
                return replace(self, low=max(self.low, offset + index), high=offset + index, high_time=moment)
        if not times:
            return self.after(offset, None)
        return replace(self, low=max(self.low, offset + len(times)))


# ==================================================================================== reading loop

PageSource = Callable[[Window, int, int], list[dict[str, Any]]]  # (window, offset, first) -> records


class OutOfTime(Exception):
    """The command's time budget ran out before the work was done (not a failure: more is waiting)."""


@dataclass(frozen=True)
class Located:
    """Where the first record at or after a cursor's floor is in a window, and what the search taught."""

    position: int
    knowledge: PageKnowledge
    reads: int
    floor_present: bool = True


def locate(
    source: PageSource, window: Window, cursor: Cursor, knowledge: PageKnowledge, now: datetime, deadline: Deadline
) -> Located:
    """Searches `window`'s answer for the cursor's floor (see Search).

    While the server's page size is unproven, the first read is a whole page at offset 0: a full
    page proves it, and a short one followed by more records proves the cap.
    """
    hint = None
    if cursor.placed and cursor.window is not None and window.from_day >= cursor.window.from_day:
        hint = max(0, cursor.reread_from - cursor.behind)
    search = Search(cursor.floor, hint=hint)
    reads = 0
    first_page: list[dict[str, Any]] = []
    if not knowledge.proven:
        first_page = source(window, 0, PAGE_REQUEST)
        reads += 1
        search = search.after_page(0, [parse_change_date(record.get("changeDate")) for record in first_page])
        knowledge = knowledge.after_page(len(first_page), PAGE_REQUEST)
    while not search.found:
        if deadline.passed():
            raise OutOfTime
        offset = search.next_probe()
        found = source(window, offset, 1)
        reads += 1
        moment = parse_change_date(found[0].get("changeDate")) if found else None
        if 0 < len(first_page) < PAGE_REQUEST and offset >= len(first_page) and proves_cap(moment, now):
            knowledge = knowledge.capped_at(len(first_page))  # old records lie beyond a short first page
        search = search.after(offset, moment)
    return Located(search.low, knowledge, reads, search.at_target)


@dataclass(frozen=True)
class ReadOutcome:
    """A run's reading: the next cursor, the events (oldest first) and their times, and how it ended."""

    cursor: Cursor
    knowledge: PageKnowledge
    events: list[dict[str, Any]] = field(default_factory=list)
    event_times: list[datetime] = field(default_factory=list)
    more_waiting: bool = False
    error: Exception | None = None
    counts: ScanCounts = ScanCounts()
    search_reads: int = 0


def read_audit_trail(
    source: PageSource, cursor: Cursor, knowledge: PageKnowledge, rules: ReadRules, deadline: Deadline
) -> ReadOutcome:
    """Reads from `cursor` until the answer ends, the limit, `until`, or the deadline.

    Window after window (see plan_window): the cursor is widened into a later window for free, or
    placed in a new one by search. A failure ends the loop with what was read so far and the cursor
    matching it, so the caller can push those events and save exactly that point.
    """
    events: list[dict[str, Any]] = []
    times: list[datetime] = []
    counts, search_reads = ScanCounts(), 0
    horizon, read_through = rules.horizon, cursor.floor

    def outcome(more_waiting: bool = False, error: Exception | None = None) -> ReadOutcome:
        """The outcome so far: the cursor matches exactly the events read."""
        return ReadOutcome(cursor, knowledge, events, times, more_waiting, error, counts, search_reads)

    for _ in range(MAX_WINDOWS_PER_RUN):
        window = plan_window(cursor.window, max(cursor.reading_start, read_through), horizon)
        searched = not cursor.placed or window.from_day != getattr(cursor.window, "from_day", None)
        try:
            if searched:
                located = locate(source, window, cursor, knowledge, rules.now, deadline)
                cursor = cursor.placed_at(window, located.position, located.floor_present)
                knowledge = located.knowledge
                search_reads += located.reads
                demisto.debug(f"[Fetch] window {window}: resume point found in {located.reads} read(s)")
            elif window != cursor.window:
                cursor = cursor.widened_to(window)
        except OutOfTime:
            cursor = cursor.unplaced_in(window)
            return outcome(more_waiting=True)
        except Exception as search_failure:  # handed to the caller with the progress made so far
            cursor = cursor.unplaced_in(window)
            return outcome(error=search_failure)
        scan, out_of_time = Scan.begin(cursor, knowledge, len(events), offset_known=not searched), False
        failure: Exception | None = None
        while scan.stop is None:
            if deadline.passed():
                out_of_time = True
                break
            offset, overlap = scan.next_read(rules.now)
            try:
                page = source(window, offset, PAGE_REQUEST)
            except Exception as raised:  # handed to the caller with the progress made so far
                failure = raised
                break
            result = scan.feed(page, PAGE_REQUEST, rules, overlap)
            demisto.debug(f"[Fetch] page at offset {offset} (re-reading {overlap}): {len(page)} record(s)")
            scan = result.scan
            events += result.events
            times += result.event_times
        end = scan.finish()
        cursor, knowledge, counts = end.cursor, scan.knowledge, counts + scan.counts
        log_scan(window, scan, end)
        if failure is not None or out_of_time:
            return outcome(more_waiting=out_of_time, error=failure)
        if scan.stop in (Stop.LIMIT, Stop.MOVED):
            return outcome(more_waiting=True)
        if scan.stop is Stop.UNTIL or (scan.stop is Stop.END and window.trusted_end > horizon):
            return outcome()
        # The window is read through: what lies past its trusted end is read in the next one.
        read_through = max(read_through, window.trusted_end)
        cursor = replace(cursor, settled=max(cursor.settled or read_through, read_through))
        horizon = max(horizon, scan.stopped_at or horizon)
    return outcome(more_waiting=True)


def log_scan(window: Window, scan: Scan, end: ScanEnd) -> None:
    """Logs what one window's scan did, with counts only; an error for records that could not be sent."""
    counts, cursor = scan.counts, end.cursor
    demisto.debug(
        f"[Fetch] window {window}: {counts.delivered} new, {counts.known} already delivered, "
        f"{counts.filtered} filtered out; {scan.stop.value if scan.stop else 'interrupted'}; resume at offset "
        f"{cursor.offset}, tail {cursor.tail_size}; page size {scan.knowledge.size} "
        f"({'proven' if scan.knowledge.proven else 'not proven'})"
    )
    if counts.older:
        demisto.error(
            f"[Fetch] {counts.older} record(s) appeared behind the resume point in window {window}, older than "
            f"every remembered record; they cannot be told apart from delivered ones and were not sent. Use "
            "liveperson-get-events to review that period."
        )
    if end.bound_hit:
        demisto.info(
            f"[Fetch] more than {cursor.tail_size} records share the time {format_time(cursor.floor)}; the state "
            f"remembers the last {cursor.tail_size} of them and counts the other {cursor.behind} (lastRun size bound)."
        )


def audit_source(client: Client, deadline: Deadline) -> PageSource:
    """The Audit Trail as a PageSource: one query per call, through the client's caches and retries."""

    def read(window: Window, offset: int, first: int) -> list[dict[str, Any]]:
        """`first` records of `window`'s answer from `offset` (fewer when the server caps its pages)."""
        return client.fetch_audit_page(build_audit_query(window, first, offset), deadline).records

    return read


def load_page_knowledge(settings: Settings) -> PageKnowledge:
    """What earlier runs learned about this account's page size (from the integration context)."""
    return PageKnowledge.from_context(context_entry("pages", settings.reader_key))


def save_page_knowledge(settings: Settings, knowledge: PageKnowledge) -> None:
    """Stores what was learned about the page size in the integration context, when it changed."""
    if knowledge != load_page_knowledge(settings):
        store_context_entry("pages", knowledge.to_context(settings.reader_key))


# ==================================================================================== pure helpers: events


def to_xsiam_event(record: dict[str, Any], moment: datetime) -> dict[str, Any]:
    """Adds `_time` and `source_log_type` to the record itself (fetch holds up to 100,000 of them)."""
    record["_time"] = event_time_of(record.get("changeDate"), moment)
    record["source_log_type"] = SOURCE_LOG_TYPE
    return record


def xsiam_events(records: list[dict[str, Any]], times: list[datetime], copy: bool = False) -> list[dict[str, Any]]:
    """The records shaped for XSIAM, with the times already parsed; `copy` leaves the records as read."""
    shaped = [dict(record) for record in records] if copy else records
    for event, moment in zip(shaped, times, strict=True):  # once per event: to_xsiam_event, inlined
        event["_time"] = event_time_of(event.get("changeDate"), moment)
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
    """Discovery, token and a one-record query; returns 'ok' or the failing stage and why."""
    deadline = Deadline.after(budgets.test_module, client.clock)
    try:
        domain = client.get_domain(deadline=deadline)
        token = client.get_token(deadline=deadline)
        window = plan_window(None, now - FIRST_FETCH_LOOKBACK, now + CLOCK_SKEW_MARGIN)
        client.query_audit_trail(domain, token, build_audit_query(window, 1, 0), deadline)
    except LivePersonError as error:
        return describe_failure(error, client.settings)
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
        cursor = Cursor.from_last_run(demisto.getLastRun())
    except ValueError as error:
        demisto.error(f"[Fetch] {error}; starting again from one minute ago")
        cursor = None
    cursor = cursor or Cursor.starting_at(now - FIRST_FETCH_LOOKBACK)
    rules = ReadRules(limit=settings.max_fetch, now=now)
    outcome = read_audit_trail(audit_source(client, deadline), cursor, load_page_knowledge(settings), rules, deadline)
    events = xsiam_events(outcome.events, outcome.event_times)
    push(events)
    next_run = next_run_of(outcome)
    demisto.setLastRun(next_run)
    save_page_knowledge(settings, outcome.knowledge)
    calls = client.calls
    demisto.debug(
        f"[Fetch] pushed {len(events)} event(s), state saved at offset {next_run.get('offset')}; calls: "
        f"{calls[Stage.AUDIT]} audit ({outcome.search_reads} to find the resume point), {calls[Stage.TOKEN]} token, "
        f"{calls[Stage.DISCOVERY]} domain; more waiting: {outcome.more_waiting}"
    )
    if outcome.error is not None:
        raise outcome.error


def get_events_command(
    client: Client, settings: Settings, args: GetEventsArgs, now: datetime, budgets: TimeBudgets
) -> CommandResults:
    """Reads the records from `start` to `end` that pass the filters, at most `limit`; pushes them if asked."""
    deadline = Deadline.after(budgets.get_events, client.clock)
    rules = ReadRules(limit=args.limit, now=now, until=args.end, record_filter=args.record_filter)
    source = audit_source(client, deadline)
    outcome = read_audit_trail(source, Cursor.starting_at(args.start), load_page_knowledge(settings), rules, deadline)
    save_page_knowledge(settings, outcome.knowledge)
    if outcome.error is not None:
        raise outcome.error
    records = outcome.events
    title = f"LivePerson audit events from {format_time(args.start)} to {format_time(args.end)}"
    if args.should_push:
        push(xsiam_events(records, outcome.event_times, copy=True))
        title += f" ({len(records)} pushed to XSIAM)"
    return CommandResults(
        outputs_prefix=f"{INTEGRATION_PREFIX}.Event",
        outputs=[to_context_event(record) for record in records],
        readable_output=tableToMarkdown(title, [to_table_row(record) for record in records], headers=TABLE_HEADERS),
        raw_response=records,
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
        handler(Invocation(Settings.from_params(demisto.params()), datetime.now(UTC), sleep, budgets))
    except (InputError, LivePersonError) as error:
        demisto.error(f"[Main] {command} failed: {type(error).__name__}")
        return_error(f"Failed to execute {command} command.\nError:\n{error}")
    except Exception as error:
        demisto.error(f"[Main] {command} failed unexpectedly:\n{traceback.format_exc()}")
        return_error(f"Failed to execute {command} command.\nError:\n{error}")


if __name__ in ("__main__", "__builtin__", "builtins"):
    main()
