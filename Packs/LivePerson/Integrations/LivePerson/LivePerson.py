import demistomock as demisto  # noqa: F401
from CommonServerPython import *  # noqa: F401
from CommonServerUserPython import *  # noqa: F401

import base64
import hashlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

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

ACCOUNT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_]{1,20}$")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOST_PATTERN = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*(?::(?P<port>\d{{1,5}}))?$")

MAX_PAGE_SIZE = 500  # LivePerson's `first`: 500 is the largest page this collector asks for
DEFAULT_MAX_FETCH = 5000
MAX_FETCH_CAP = 100_000
DEFAULT_GET_EVENTS_LIMIT = 50
GET_EVENTS_LIMIT_CAP = 10_000
FIRST_FETCH_LOOKBACK = timedelta(minutes=1)

# How many delivered records the state remembers by fingerprint (about 17 bytes each in lastRun).
TAIL_MAX_RECORDS = 100
FINGERPRINT_HEX_CHARS = 12
STATE_VERSION = 1

DOMAIN_CACHE_TTL_SECONDS = 6 * 3600
TOKEN_FALLBACK_LIFETIME_SECONDS = 3600
TOKEN_MAX_RENEW_MARGIN_SECONDS = 300

REQUEST_TIMEOUT_SECONDS = 15.0
FETCH_TIME_BUDGET_SECONDS = 45.0
GET_EVENTS_TIME_BUDGET_SECONDS = 150.0
TEST_MODULE_TIME_BUDGET_SECONDS = 60.0
# LivePerson's retry policy: 5xx three times after 5, 10 and 15 s; 429 after at least 1 s.
SERVER_ERROR_PAUSES = (5.0, 10.0, 15.0)
THROTTLE_PAUSES = (1.0, 2.0, 4.0)
MAX_RETRY_AFTER_SECONDS = 30.0

STATE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
UTC_ZONE = timezone.utc

# ==================================================================================== errors


class InputError(DemistoException):
    """A parameter or argument the user can fix; shown without a traceback."""


class LivePersonError(DemistoException):
    """A failure talking to LivePerson, tagged with the stage it happened in (for test-module)."""

    def __init__(self, message: str, stage: str, status: int | None = None, cause: Exception | None = None) -> None:
        super().__init__(message, cause)
        self.stage = stage
        self.status = status


class RetryableError(LivePersonError):
    """A throttle, server error, dropped connection or read timeout: LivePerson's retry policy covers it."""

    def __init__(
        self,
        message: str,
        stage: str,
        status: int | None = None,
        retry_after: float | None = None,
        cause: Exception | None = None,
    ) -> None:
        super().__init__(message, stage, status, cause)
        self.retry_after = retry_after

    @property
    def kind(self) -> str:
        return f"HTTP {self.status}" if self.status else type(self.exception).__name__


STAGE_DISCOVERY = "domain discovery"
STAGE_TOKEN = "token request"
STAGE_AUDIT = "audit trail query"

# ==================================================================================== client


@dataclass
class Settings:
    """Validated instance settings; built by :func:`settings_from_params`."""

    account_id: str
    auth_host: str
    domain_api_host: str
    client_id: str
    client_secret: str = field(repr=False)
    verify: bool
    proxy: bool
    max_fetch: int


class Client(BaseClient):
    """HTTP only: one method per LivePerson endpoint, plus the token and domain caches.

    The token and the discovered domain live in the integration context, keyed by a hash of the
    settings they belong to, so a changed account or client ID never reuses a stale entry.
    """

    def __init__(
        self,
        settings: Settings,
        use_cache: bool = True,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        super().__init__(base_url=f"https://{settings.domain_api_host}", verify=settings.verify, proxy=settings.proxy)
        self.settings = settings
        self.use_cache = use_cache
        self.clock = clock or time.time
        self.sleep = sleep or time.sleep
        self.deadline: float | None = None
        self.calls: dict[str, int] = {STAGE_DISCOVERY: 0, STAGE_TOKEN: 0, STAGE_AUDIT: 0}
        self._token: str | None = None
        self._domain: str | None = None
        add_sensitive_log_strs(settings.client_secret)

    # -------------------------------------------------------------------- endpoints

    def lookup_service_domain(self, service: str) -> str:
        """Domain API (CSDS): the host serving `service` for this account. Unauthenticated."""
        path = DOMAIN_LOOKUP_PATH.format(account_id=self.settings.account_id, service=service)
        response = self._send(
            STAGE_DISCOVERY, "GET", f"https://{self.settings.domain_api_host}{path}", params={"version": "1.0"}
        )
        base_uri = _json_body(response, STAGE_DISCOVERY).get("baseURI")
        return validate_discovered_host(base_uri)

    def request_token(self) -> dict[str, Any]:
        """Sentinel OAuth 2.0 client-credentials grant (v2 endpoint, form body)."""
        path = TOKEN_PATH.format(account_id=self.settings.account_id)
        form = {
            "grant_type": "client_credentials",
            "client_id": self.settings.client_id,
            "client_secret": self.settings.client_secret,
        }
        response = self._send(
            STAGE_TOKEN,
            "POST",
            f"https://{self.settings.auth_host}{path}",
            data=form,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        )
        body = _json_body(response, STAGE_TOKEN)
        if not isinstance(body.get("access_token"), str) or not body["access_token"]:
            raise LivePersonError("The authorization server answered without an access_token.", STAGE_TOKEN)
        return body

    def query_audit_trail(self, domain: str, token: str, query: str) -> list[dict[str, Any]]:
        """Audit Trail: one GraphQL-in-JSON query, returning the `auditData` records."""
        path = AUDIT_PATH.format(account_id=self.settings.account_id)
        response = self._send(
            STAGE_AUDIT,
            "POST",
            f"https://{domain}{path}",
            json_data={"query": query},
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )
        return audit_records_from_body(_json_body(response, STAGE_AUDIT))

    # -------------------------------------------------------------------- token and domain handling

    def get_domain(self, refresh: bool = False) -> str:
        if self._domain and not refresh:
            return self._domain
        owner = _cache_owner(self.settings.domain_api_host, self.settings.account_id)
        cached = self._cache_entry("domain", owner)
        now = self.clock()
        if cached and not refresh and now - float(cached.get("resolved_at", 0)) < DOMAIN_CACHE_TTL_SECONDS:
            demisto.debug("[Domain] cache hit")
            self._domain = str(cached["host"])
            return self._domain
        self._domain = self.lookup_service_domain(DOMAIN_SERVICE)
        demisto.debug(f"[Domain] resolved {DOMAIN_SERVICE} (refresh={refresh})")
        self._store_cache_entry("domain", {"owner": owner, "host": self._domain, "resolved_at": now})
        return self._domain

    def get_token(self, refresh: bool = False) -> str:
        if self._token and not refresh:
            return self._token
        owner = _cache_owner(self.settings.auth_host, self.settings.account_id, self.settings.client_id)
        cached = self._cache_entry("token", owner)
        now = self.clock()
        if cached and not refresh and now < float(cached.get("renew_at", 0)):
            demisto.debug("[Token] cache hit")
            self._token = str(cached["access_token"])
            add_sensitive_log_strs(self._token)
            return self._token
        body = self.request_token()
        token = body["access_token"]
        add_sensitive_log_strs(token)
        lifetime = token_lifetime_seconds(body, now)
        renew_at = now + lifetime - min(TOKEN_MAX_RENEW_MARGIN_SECONDS, lifetime / 10)
        demisto.debug(f"[Token] new token, valid for {int(lifetime)} s (refresh={refresh})")
        self._store_cache_entry("token", {"owner": owner, "access_token": token, "renew_at": renew_at})
        self._token = token
        return token

    def fetch_audit_page(self, query: str) -> list[dict[str, Any]]:
        """Runs one audit query with a cached domain and token, renewing each once if it fails."""
        domain = self.get_domain()
        token = self.get_token()
        try:
            return self.query_audit_trail(domain, token, query)
        except LivePersonError as error:
            if error.status == 401:
                demisto.debug("[Token] 401 from the Audit Trail, renewing the token once")
                return self._retry_audit(domain, self.get_token(refresh=True), query, "a renewed token")
            if _is_connection_failure(error):
                fresh_domain = self.get_domain(refresh=True)
                if fresh_domain != domain:
                    demisto.debug("[Domain] connection failed, the account moved to another domain; retrying once")
                    return self._retry_audit(fresh_domain, token, query, "the re-resolved domain")
            raise

    def _retry_audit(self, domain: str, token: str, query: str, what_changed: str) -> list[dict[str, Any]]:
        try:
            return self.query_audit_trail(domain, token, query)
        except LivePersonError as error:
            if error.status == 401:
                raise LivePersonError(
                    "The Audit Trail rejected a freshly issued token (HTTP 401). The app installation behind the "
                    "Client ID may not be allowed to call the Audit Trail API.",
                    STAGE_AUDIT,
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
        entry = (get_integration_context() or {}).get(key)
        if isinstance(entry, dict) and entry.get("owner") == owner:
            return entry
        return None

    def _store_cache_entry(self, key: str, entry: dict[str, Any]) -> None:
        if not self.use_cache:
            return
        context = dict(get_integration_context() or {})
        context[key] = entry
        set_integration_context(context)

    # -------------------------------------------------------------------- transport

    def _send(self, stage: str, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One HTTP call with LivePerson's retry policy, bounded by the command's deadline."""
        attempt = 0
        while True:
            self.calls[stage] += 1
            try:
                return self._http_request(
                    method,
                    full_url=url,
                    resp_type="response",
                    timeout=REQUEST_TIMEOUT_SECONDS,
                    error_handler=lambda res: raise_for_status(res, stage, self.redact),
                    **kwargs,
                )
            except (DemistoException, requests.exceptions.RequestException) as raised:
                failure = as_liveperson_error(raised, stage)
            if not isinstance(failure, RetryableError):
                raise failure
            pause = retry_pause(failure.status, attempt, failure.retry_after)
            if pause is None or (self.deadline is not None and self.clock() + pause > self.deadline):
                message = f"{failure.message} Gave up after {attempt + 1} attempt(s)."
                raise LivePersonError(message, stage, failure.status, failure.exception)
            demisto.debug(f"[HTTP] {stage}: {failure.kind}, retry {attempt + 1} in {pause:g} s")
            self.sleep(pause)
            attempt += 1


def _cache_owner(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:16]


def _json_body(response: requests.Response, stage: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise LivePersonError(f"{stage}: LivePerson answered with a body that is not JSON.", stage) from None
    if not isinstance(body, dict):
        raise LivePersonError(f"{stage}: LivePerson answered with an unexpected JSON shape.", stage)
    return body


def _is_connection_failure(error: LivePersonError) -> bool:
    return error.status is None and isinstance(error.exception, requests.exceptions.ConnectionError)


# ==================================================================================== pure helpers: input


def normalize_host(value: Any, param_name: str, label: str) -> str:
    """Accepts `host`, `host:port`, optionally with `https://` and one trailing slash."""
    example = "e.g. va.sentinel.liveperson.net, va.sentinel.liveperson.net:443 or https://va.sentinel.liveperson.net/"
    text = str(value or "").strip()
    if not text:
        raise InputError(f"Parameter '{label}' ({param_name}) is required: give a host name, {example}.")
    host = text[len("https://") :] if text.lower().startswith("https://") else text
    host = host[:-1] if host.endswith("/") else host
    match = HOST_PATTERN.match(host)
    port = match.group("port") if match else None
    if not match or (port is not None and not 1 <= int(port) <= 65535):
        raise InputError(
            f"Parameter '{label}' ({param_name}) must be a host name with an optional port and nothing else "
            f"(no path, query, spaces or other scheme), {example}; got '{_clip(text)}'."
        )
    return host.lower()


def validate_discovered_host(base_uri: Any) -> str:
    """The bearer token is only ever sent to a plain host name (with optional port)."""
    if not isinstance(base_uri, str) or not HOST_PATTERN.match(base_uri):
        raise LivePersonError(
            f"The Domain API answered with a baseURI that is not a plain host name: '{_clip(str(base_uri))}'. "
            "Refusing to send the token there.",
            STAGE_DISCOVERY,
        )
    return base_uri.lower()


def validate_account_id(value: Any) -> str:
    text = str(value or "").strip()
    if not text:
        raise InputError("Parameter 'Account ID' (account_id) is required: your LivePerson site ID, e.g. 12345678.")
    if not ACCOUNT_ID_PATTERN.match(text):
        raise InputError(
            "Parameter 'Account ID' (account_id) must be 1 to 20 letters, digits or underscores "
            f"(your LivePerson site ID, e.g. 12345678); got '{_clip(text)}'."
        )
    return text


def parse_count(value: Any, what: str, default: int, cap: int) -> int:
    """A whole number from 1 to `cap`; empty means the default. Decimals are refused, not truncated."""
    text = str(value).strip() if value is not None else ""
    if not text:
        return default
    if not re.fullmatch(r"\d+", text) or not 1 <= int(text) <= cap:
        raise InputError(f"{what} must be a whole number from 1 to {cap}; got '{_clip(text)}'.")
    return int(text)


def parse_time_argument(value: Any, name: str, default: str, now: datetime) -> datetime:
    """Relative to `now` ('3 days'), ISO 8601 or epoch seconds; a time without a zone is taken as UTC."""
    text = str(value).strip() if value is not None and str(value).strip() else default
    relative_base = now.astimezone(timezone.utc).replace(tzinfo=None)
    try:
        parsed = arg_to_datetime(text, arg_name=name, settings={"TIMEZONE": "UTC", "RELATIVE_BASE": relative_base})
    except ValueError:
        parsed = None
    if parsed is None:
        raise InputError(
            f"Argument '{name}' must be a time such as '3 days', '2024-05-01T10:00:00Z' or epoch seconds; "
            f"got '{_clip(text)}'."
        )
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def parse_boolean_argument(value: Any, name: str, default: bool) -> bool:
    if value is None or value == "":
        return default
    try:
        return argToBoolean(value)
    except ValueError:
        raise InputError(f"Argument '{name}' must be true or false; got '{_clip(str(value))}'.") from None


def settings_from_params(params: dict[str, Any]) -> Settings:
    credentials = params.get("credentials") or {}
    client_id = str(credentials.get("identifier") or "").strip() if isinstance(credentials, dict) else ""
    client_secret = str(credentials.get("password") or "") if isinstance(credentials, dict) else ""
    if not client_id:
        raise InputError("Parameter 'Client ID' (credentials) is required: the OAuth 2.0 client ID of your app.")
    if not client_secret:
        raise InputError("Parameter 'Client Secret' (credentials) is required: the OAuth 2.0 client secret.")
    return Settings(
        account_id=validate_account_id(params.get("account_id")),
        auth_host=normalize_host(params.get("auth_server_url"), "auth_server_url", "Authorization Server URL"),
        domain_api_host=normalize_host(
            params.get("domain_api_host") or DEFAULT_DOMAIN_API_HOST, "domain_api_host", "Domain API host"
        ),
        client_id=client_id,
        client_secret=client_secret,
        verify=not argToBoolean(params.get("insecure") or False),
        proxy=argToBoolean(params.get("proxy") or False),
        max_fetch=parse_count(
            params.get("max_fetch"),
            "Parameter 'Maximum number of events per fetch' (max_fetch)",
            DEFAULT_MAX_FETCH,
            MAX_FETCH_CAP,
        ),
    )


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


# ==================================================================================== pure helpers: HTTP answers


def raise_for_status(response: requests.Response, stage: str, redact: Callable[[str], str]) -> None:
    """Error handler for every call: a readable message per status, with the answer's text redacted."""
    status = response.status_code
    detail = redact(_error_detail(response))
    if status == 429:
        raise RetryableError(
            f"{stage}: LivePerson throttled the request (HTTP 429).", stage, 429, parse_retry_after(response)
        )
    if status >= 500:
        raise RetryableError(f"{stage}: LivePerson answered HTTP {status}{detail}.", stage, status)
    if stage == STAGE_DISCOVERY:
        message = (
            f"The Domain API does not know this account (HTTP {status}{detail}). Check the Account ID "
            "and the Domain API host."
        )
    elif stage == STAGE_TOKEN:
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


def as_liveperson_error(raised: Exception, stage: str) -> LivePersonError:
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
        return RetryableError(
            f"{stage}: LivePerson did not answer within {REQUEST_TIMEOUT_SECONDS:g} s.", stage, cause=cause
        )
    configuration_failures = (
        requests.exceptions.SSLError,
        requests.exceptions.ProxyError,
        requests.exceptions.ConnectTimeout,
    )
    if isinstance(cause, requests.exceptions.ConnectionError) and not isinstance(cause, configuration_failures):
        return RetryableError(f"{stage}: {text}", stage, cause=cause)
    return LivePersonError(f"{stage}: {text}", stage, cause=cause if isinstance(cause, Exception) else None)


def _error_detail(response: requests.Response) -> str:
    text = (response.text or "").strip().replace("\n", " ")
    return f": {_clip(text, 200)}" if text else ""


def parse_retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return float(value) if value else None
    except ValueError:
        return None


def retry_pause(status: int | None, attempt: int, retry_after: float | None) -> float | None:
    """Seconds to wait before retry number `attempt + 1`, or None when the policy is exhausted."""
    pauses = THROTTLE_PAUSES if status == 429 else SERVER_ERROR_PAUSES
    if attempt >= len(pauses):
        return None
    if status == 429 and retry_after is not None:
        return min(max(retry_after, pauses[0]), MAX_RETRY_AFTER_SECONDS)
    return pauses[attempt]


def token_lifetime_seconds(token_body: dict[str, Any], now: float) -> float:
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
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        return float(claims["exp"])
    except (ValueError, KeyError, TypeError):
        return None


def audit_records_from_body(body: dict[str, Any]) -> list[dict[str, Any]]:
    errors = body.get("errors")
    if errors:
        messages = [str(item.get("message", item)) if isinstance(item, dict) else str(item) for item in errors]
        raise LivePersonError(f"The Audit Trail rejected the query: {'; '.join(messages)}", STAGE_AUDIT)
    records = (body.get("data") or {}).get("auditData") if isinstance(body.get("data"), dict) else None
    if not isinstance(records, list) or not all(isinstance(record, dict) for record in records):
        raise LivePersonError("The Audit Trail answered without a data.auditData list.", STAGE_AUDIT)
    return records


# ==================================================================================== pure helpers: query and time


def build_audit_query(day: date, first: int, offset: int) -> str:
    """The documented GraphQL query for one UTC day, oldest first, every record field selected.

    `toDate` is the day after `day`: LivePerson does not document whether `toDate` is inclusive.
    If it is, the next day's records follow this day's in ascending order and the reader stops
    at the first of them; if it is not, the list holds this day only. Either way the offsets of
    this day's records are the same.
    """
    arguments = ", ".join(
        [
            f'fromDate: "{day.isoformat()}"',
            f'toDate: "{(day + timedelta(days=1)).isoformat()}"',
            f"first: {first}",
            f"offset: {offset}",
            'orderBy: ["changeTimestamp"]',
            'orderDirection: ["ASC"]',
            'timezone: "UTC"',
            'language: "en-US"',
            "lpa: true",
            "automaticUpdates: true",
        ]
    )
    return f"{{auditData({arguments}) {{{' '.join(AUDIT_RECORD_FIELDS)}}}}}"


def parse_change_date(value: Any) -> datetime:
    """`changeDate` as rendered with timezone UTC (e.g. '2019-11-12 06:10:46.0'), as an aware datetime.

    `fromisoformat` reads LivePerson's 'yyyy-MM-dd HH:mm:ss.S' and the export's 'T' form, and is
    fast enough to run on every record; a value carrying an offset is converted, not relabelled.
    """
    try:  # the usual case, a UTC time without an offset; the fastest way to an aware datetime
        return datetime.fromisoformat(value + "+00:00")
    except (TypeError, ValueError):
        pass
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        text = str(value)
        raise LivePersonError(f"An audit record has an unreadable changeDate: '{_clip(text)}'.", STAGE_AUDIT) from None
    return parsed.replace(tzinfo=UTC_ZONE) if parsed.tzinfo is None else parsed.astimezone(UTC_ZONE)


def format_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(STATE_TIME_FORMAT)


def parse_state_time(text: str) -> datetime:
    return datetime.strptime(text, STATE_TIME_FORMAT).replace(tzinfo=timezone.utc)


def event_time(moment: datetime) -> str:
    """`_time` for XSIAM: ISO 8601 UTC with milliseconds."""
    return moment.astimezone(UTC_ZONE).isoformat(timespec="milliseconds")[:-6] + "Z"


def event_time_of(change_date: Any, moment: datetime) -> str:
    """`_time` for one event. Runs once per event, so the usual UTC rendering is rewritten as text."""
    if (
        isinstance(change_date, str)
        and 19 <= len(change_date) <= 26
        and change_date[4] == change_date[7] == "-"
        and change_date[13] == change_date[16] == ":"
        and (len(change_date) == 19 or (change_date[19] == "." and change_date[20:].isdigit()))
    ):  # 'yyyy-MM-dd HH:mm:ss[.S...]' with no offset: the UTC rendering asked for
        return f"{change_date[:10]}T{change_date[11:19]}.{change_date[20:23].ljust(3, '0')}Z"
    return event_time(moment)


def fingerprint(record: dict[str, Any]) -> str:
    """A stable hash of everything LivePerson returned: equal records (real twins) share it."""
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:FINGERPRINT_HEX_CHARS]


# ==================================================================================== pure helpers: exactly once


@dataclass
class Cursor:
    """Where reading resumes, and what is already known just before that point.

    Within one UTC day the Audit Trail is read oldest first, so every record has a position. The
    records before `offset` are known (delivered, or older than where collection started). The
    last of them are remembered by fingerprint in `tail` (a multiset: twins count twice); every
    known record newer than `floor` is in `tail`, and so is every one *at* `floor` when
    `floor_complete`. A run re-reads the tail first, so a record that appeared behind the resume
    point is found and delivered instead of being skipped.
    """

    day: date
    offset: int
    floor: datetime
    floor_complete: bool = True
    tail: dict[str, int] = field(default_factory=dict)
    checkpoint: datetime | None = None
    seeking: bool = False

    @property
    def tail_size(self) -> int:
        return sum(self.tail.values())

    @property
    def reread_offset(self) -> int:
        return max(0, self.offset - self.tail_size)

    def next_day(self) -> "Cursor":
        return Cursor(
            day=self.day + timedelta(days=1),
            offset=0,
            floor=self.floor,
            floor_complete=self.floor_complete,
            checkpoint=self.checkpoint,
            seeking=self.seeking,
        )

    def to_last_run(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "version": STATE_VERSION,
            "day": self.day.isoformat(),
            "offset": self.offset,
            "floor": format_time(self.floor),
            "floor_complete": self.floor_complete,
            "tail": dict(self.tail),
        }
        if self.checkpoint is not None:
            state["checkpoint"] = format_time(self.checkpoint)
        if self.seeking:
            state["seeking"] = True
        return state


def first_run_cursor(now: datetime) -> Cursor:
    start = now - FIRST_FETCH_LOOKBACK
    return Cursor(day=start.date(), offset=0, floor=start, floor_complete=True, seeking=True)


def cursor_from_last_run(last_run: dict[str, Any] | None, now: datetime) -> Cursor:
    """Reads our own state; anything else (an empty or foreign lastRun) starts one minute ago."""
    if not isinstance(last_run, dict) or last_run.get("version") != STATE_VERSION:
        return first_run_cursor(now)
    try:
        tail = {str(key): int(count) for key, count in (last_run.get("tail") or {}).items() if int(count) > 0}
        checkpoint = last_run.get("checkpoint")
        return Cursor(
            day=date.fromisoformat(str(last_run["day"])),
            offset=max(0, int(last_run["offset"])),
            floor=parse_state_time(str(last_run["floor"])),
            floor_complete=bool(last_run.get("floor_complete", True)),
            tail=tail,
            checkpoint=parse_state_time(str(checkpoint)) if checkpoint else None,
            seeking=bool(last_run.get("seeking", False)),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        demisto.error(f"[Fetch] lastRun is not readable ({type(error).__name__}); starting again from one minute ago")
        return first_run_cursor(now)


@dataclass
class ScanResult:
    events: list[dict[str, Any]] = field(default_factory=list)
    event_times: list[datetime] = field(default_factory=list)
    consumed: int = 0
    day_exhausted: bool = False
    limit_reached: bool = False
    past_until: bool = False
    known_skipped: int = 0
    older_skipped: int = 0
    appeared_behind: int = 0
    bound_hit: bool = False


class DayScan:
    """Decides, record by record, what one run delivers from one day. Pure: pages are fed in.

    A record is new when it comes after the last remembered one (known records keep their order,
    so everything past the whole tail lies beyond the resume point, however busy its second), or
    when it is newer than every known record not remembered (after `floor`, or at it when the
    floor is complete): that is a record that appeared behind the resume point.
    """

    def __init__(self, cursor: Cursor, limit: int, until: datetime | None = None) -> None:
        self.cursor = cursor
        self.limit = limit
        self.until = until
        self.remaining = dict(cursor.tail)
        self.unmatched = cursor.tail_size
        self.past_tail = False
        # The pages that hold the newest records read: only those can become the next tail.
        self.pages: deque[list[dict[str, Any]]] = deque()
        self.consumed_before_last_page = 0
        self.next_day_start = datetime.combine(cursor.day + timedelta(days=1), datetime.min.time(), UTC_ZONE)
        self.result = ScanResult()

    @property
    def done(self) -> bool:
        return self.result.day_exhausted or self.result.limit_reached or self.result.past_until

    @property
    def next_offset(self) -> int:
        return self.cursor.reread_offset + self.result.consumed

    def feed(self, page: list[dict[str, Any]], page_size: int) -> None:
        result, events, until = self.result, self.result.events, self.until  # locals: this loop sees every record
        while len(self.pages) > 1 and sum(len(older) for older in list(self.pages)[1:]) > TAIL_MAX_RECORDS:
            self.pages.popleft()
        self.pages.append(page)
        self.consumed_before_last_page = result.consumed
        for record in page:
            if len(events) >= self.limit:
                result.limit_reached = True
                return
            moment = parse_change_date(record.get("changeDate"))
            if moment >= self.next_day_start:
                result.day_exhausted = True
                return
            if until is not None and moment > until:
                result.past_until = True
                return
            self._classify(record, moment)
        if len(page) < page_size:
            result.day_exhausted = True

    def _classify(self, record: dict[str, Any], moment: datetime) -> None:
        cursor = self.cursor
        self.result.consumed += 1
        mark = fingerprint(record) if self.unmatched else ""
        if self.unmatched and self.remaining.get(mark, 0) > 0:
            self.remaining[mark] -= 1
            self.unmatched -= 1
            self.past_tail = self.unmatched == 0
            self.result.known_skipped += 1
        elif self.past_tail or moment > cursor.floor or (moment == cursor.floor and cursor.floor_complete):
            self.result.events.append(record)
            self.result.event_times.append(moment)
            cursor.seeking = False
        else:
            self.result.older_skipped += 1
            if not cursor.seeking:
                self.result.appeared_behind += 1

    def newest_read(self) -> list[dict[str, Any]]:
        """The last records consumed, in order: enough for a tail and the record just before it."""
        pages = list(self.pages)
        used_of_last = self.result.consumed - self.consumed_before_last_page
        records = [record for page in pages[:-1] for record in page] + pages[-1][:used_of_last]
        return records[-(TAIL_MAX_RECORDS + 1) :]

    def next_cursor(self) -> Cursor:
        """The cursor after this scan: resume point moved on, tail rebuilt from what was read."""
        old = self.cursor
        if not self.result.consumed:
            return Cursor(
                old.day, old.offset, old.floor, old.floor_complete, dict(old.tail), old.checkpoint, old.seeking
            )
        newest = [(parse_change_date(record.get("changeDate")), fingerprint(record)) for record in self.newest_read()]
        tail, floor, complete, self.result.bound_hit = plan_tail(newest, old.floor, old.floor_complete)
        checkpoint = max(self.result.event_times) if self.result.event_times else old.checkpoint
        return Cursor(old.day, self.next_offset, floor, complete, tail, checkpoint, old.seeking)


def plan_tail(
    seen: list[tuple[datetime, str]], old_floor: datetime, old_complete: bool
) -> tuple[dict[str, int], datetime, bool, bool]:
    """Chooses which of the records just read (the newest of them, in order) to remember: at most TAIL_MAX_RECORDS.

    The cut is moved to a change of timestamp when one exists, so that every known record at the
    new floor is remembered; only a single timestamp shared by more records than the bound leaves
    the floor incomplete (returned as `bound_hit`).
    """
    start = max(0, len(seen) - TAIL_MAX_RECORDS)
    bound_hit = False
    if start > 0 and seen[start][0] == seen[start - 1][0]:
        boundary = next((index for index in range(start + 1, len(seen)) if seen[index][0] > seen[index - 1][0]), None)
        if boundary is None:
            bound_hit = True
        else:
            start = boundary
    kept = seen[start:]
    floor = kept[0][0]
    # Known records before the re-read are no newer than the old floor, so they matter only at a tie.
    if floor > old_floor:
        complete = not bound_hit
    elif floor == old_floor:
        complete = old_complete and not bound_hit
    else:
        complete = False
    tail: dict[str, int] = {}
    for _moment, mark in kept:
        tail[mark] = tail.get(mark, 0) + 1
    return tail, floor, complete, bound_hit


def utc_today(now: datetime) -> date:
    return now.astimezone(timezone.utc).date()


# ==================================================================================== reading loop


@dataclass
class ReadOutcome:
    cursor: Cursor
    events: list[dict[str, Any]] = field(default_factory=list)
    event_times: list[datetime] = field(default_factory=list)
    more_waiting: bool = False
    error: Exception | None = None


def read_audit_trail(
    client: Client,
    cursor: Cursor,
    limit: int,
    now: datetime,
    until: datetime | None = None,
) -> ReadOutcome:
    """Pages the Audit Trail from `cursor` day by day until `limit`, the present or the deadline.

    A failure after some pages were read ends the loop with what was read so far and the cursor
    matching it, so the caller can push those events and save exactly that point.
    """
    outcome = ReadOutcome(cursor)
    last_day = utc_today(until or now)
    while True:
        scan = DayScan(outcome.cursor, limit - len(outcome.events), until)
        offset = outcome.cursor.reread_offset
        out_of_time = False
        while not scan.done:
            if client.deadline is not None and client.clock() >= client.deadline:
                out_of_time = True
                break
            try:
                page = client.fetch_audit_page(build_audit_query(outcome.cursor.day, MAX_PAGE_SIZE, offset))
            except Exception as failure:  # handed to the caller with the progress made so far
                outcome.error = failure
                break
            scan.feed(page, MAX_PAGE_SIZE)
            offset = scan.next_offset
        outcome.cursor = scan.next_cursor()
        outcome.events += scan.result.events
        outcome.event_times += scan.result.event_times
        log_scan(outcome.cursor, scan.result)
        if outcome.error is not None or out_of_time or scan.result.limit_reached or scan.result.past_until:
            outcome.more_waiting = out_of_time or scan.result.limit_reached
            return outcome
        if outcome.cursor.day >= last_day:
            return outcome
        outcome.cursor = outcome.cursor.next_day()


def log_scan(cursor: Cursor, result: ScanResult) -> None:
    demisto.debug(
        f"[Fetch] day {cursor.day.isoformat()}: {len(result.events)} new, {result.known_skipped} already delivered, "
        f"{result.older_skipped} older than the start; resume at offset {cursor.offset}, tail {cursor.tail_size}"
    )
    if result.appeared_behind:
        demisto.error(
            f"[Fetch] {result.appeared_behind} record(s) older than the last {TAIL_MAX_RECORDS} delivered appeared "
            f"behind the resume point of {cursor.day.isoformat()}; they cannot be told apart from delivered ones "
            "and were not sent. Use liveperson-get-events to review that period."
        )
    if result.bound_hit:
        demisto.info(
            f"[Fetch] more than {TAIL_MAX_RECORDS} records share the timestamp {format_time(cursor.floor)}; "
            f"the state remembers the last {TAIL_MAX_RECORDS} of them (lastRun size bound)."
        )


# ==================================================================================== pure helpers: events


def to_xsiam_event(record: dict[str, Any], moment: datetime | None = None) -> dict[str, Any]:
    """Adds `_time` and `source_log_type` to the record itself: fetch holds 100,000 of them at most."""
    event = record
    change_date = record.get("changeDate")
    event["_time"] = event_time_of(change_date, moment or parse_change_date(change_date))
    event["source_log_type"] = SOURCE_LOG_TYPE
    return event


def xsiam_events(outcome: ReadOutcome, copy: bool = False) -> list[dict[str, Any]]:
    """The events of a read, shaped for XSIAM with the times already parsed; `copy` keeps the records as read."""
    pairs = zip(outcome.events, outcome.event_times, strict=True)
    return [to_xsiam_event(dict(record) if copy else record, moment) for record, moment in pairs]


def to_context_event(record: dict[str, Any]) -> dict[str, Any]:
    context = dict(record)
    for legacy_key, documented_key in LEGACY_CONTEXT_KEYS.items():
        context[legacy_key] = record.get(documented_key)
    return context


def to_table_row(record: dict[str, Any]) -> dict[str, Any]:
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


TABLE_HEADERS = ["Time (UTC)", "Object Type", "Object Name", "Action", "Element", "Old → New", "Originator"]


# ==================================================================================== commands


def test_module(client: Client, now: datetime) -> str:
    """Discovery, token and a one-record query, each reported by stage when it fails."""
    try:
        client.deadline = client.clock() + TEST_MODULE_TIME_BUDGET_SECONDS
        domain = client.get_domain()
        token = client.get_token()
        client.query_audit_trail(domain, token, build_audit_query(utc_today(now), 1, 0))
    except LivePersonError as error:
        return describe_failure(error, client.settings)
    return "ok"


def describe_failure(error: LivePersonError, settings: Settings) -> str:
    cause = error.exception
    hosts = {
        STAGE_DISCOVERY: f"the Domain API host {settings.domain_api_host}",
        STAGE_TOKEN: f"the authorization server {settings.auth_host}",
        STAGE_AUDIT: "the account's Audit Trail domain",
    }
    where = hosts.get(error.stage, "LivePerson")
    if isinstance(cause, requests.exceptions.SSLError):
        reason = (
            f"TLS failure reaching {where}: its certificate is not trusted. Fix the certificate chain, or select "
            "'Trust any certificate' if you accept the risk."
        )
    elif isinstance(cause, requests.exceptions.ProxyError):
        reason = f"Proxy failure reaching {where}: check the system proxy, or clear 'Use system proxy settings'."
    elif isinstance(cause, requests.exceptions.Timeout):
        reason = f"Timeout reaching {where}: it did not answer in time."
    elif isinstance(cause, requests.exceptions.ConnectionError) and error.stage == STAGE_DISCOVERY:
        reason = f"Domain API unreachable ({settings.domain_api_host}): check the host and your network path."
    elif isinstance(cause, requests.exceptions.ConnectionError):
        reason = f"Could not connect to {where}: check the host and your network path."
    else:
        reason = error.message
    return f"Test failed at the {error.stage} stage. {reason}"


def fetch_events_command(
    client: Client, last_run: dict[str, Any], now: datetime
) -> tuple[list[dict[str, Any]], ReadOutcome]:
    client.deadline = client.clock() + FETCH_TIME_BUDGET_SECONDS
    cursor = cursor_from_last_run(last_run, now)
    outcome = read_audit_trail(client, cursor, client.settings.max_fetch, now)
    events = xsiam_events(outcome)
    demisto.debug(
        f"[Fetch] {len(events)} event(s); calls: {client.calls[STAGE_AUDIT]} audit, {client.calls[STAGE_TOKEN]} token, "
        f"{client.calls[STAGE_DISCOVERY]} domain; more waiting: {outcome.more_waiting}"
    )
    return events, outcome


def next_run_from(outcome: ReadOutcome) -> dict[str, Any]:
    state = outcome.cursor.to_last_run()
    if outcome.more_waiting:
        state["nextTrigger"] = "0"
    return state


def push(events: list[dict[str, Any]]) -> None:
    """To the dataset liveperson_liveengage_raw; the Sentinel host is the reporting device."""
    send_events_to_xsiam(events, vendor=VENDOR, product=PRODUCT, url_key="auth_server_url")


def push_then_save(events: list[dict[str, Any]], next_run: dict[str, Any]) -> None:
    """Sends first (always, for the health counter), saves the state only once that returned."""
    push(events)
    demisto.setLastRun(next_run)
    demisto.debug(f"[Fetch] pushed {len(events)} event(s), state saved at offset {next_run.get('offset')}")


def get_events_command(client: Client, args: dict[str, Any], now: datetime) -> CommandResults:
    limit = parse_count(args.get("limit"), "Argument 'limit'", DEFAULT_GET_EVENTS_LIMIT, GET_EVENTS_LIMIT_CAP)
    start = parse_time_argument(args.get("start_time"), "start_time", "3 days", now)
    end = min(parse_time_argument(args.get("end_time"), "end_time", "now", now), now)
    should_push = parse_boolean_argument(args.get("should_push_events"), "should_push_events", False)
    if end < start:
        raise InputError(
            f"Argument 'end_time' ({format_time(end)}) must not be before 'start_time' ({format_time(start)})."
        )
    client.deadline = client.clock() + GET_EVENTS_TIME_BUDGET_SECONDS
    cursor = Cursor(day=start.date(), offset=0, floor=start, floor_complete=True, seeking=True)
    outcome = read_audit_trail(client, cursor, limit, now, until=end)
    if outcome.error is not None:
        raise outcome.error
    records = outcome.events
    if should_push:
        push(xsiam_events(outcome, copy=True))
    title = f"LivePerson audit events from {format_time(start)} to {format_time(end)}"
    if should_push:
        title += f" ({len(records)} pushed to XSIAM)"
    return CommandResults(
        outputs_prefix=f"{INTEGRATION_PREFIX}.Event",
        outputs=[to_context_event(record) for record in records],
        readable_output=tableToMarkdown(title, [to_table_row(record) for record in records], headers=TABLE_HEADERS),
        raw_response=records,
    )


# ==================================================================================== main


def main() -> None:
    command = demisto.command()
    demisto.debug(f"[Main] command {command}")
    try:
        settings = settings_from_params(demisto.params())
        now = datetime.now(timezone.utc)
        if command == "test-module":
            return_results(test_module(Client(settings, use_cache=False), now))
        elif command == "fetch-events":
            events, outcome = fetch_events_command(Client(settings), demisto.getLastRun(), now)
            push_then_save(events, next_run_from(outcome))
            if outcome.error is not None:
                raise outcome.error
        elif command == "liveperson-get-events":
            return_results(get_events_command(Client(settings), demisto.args(), now))
        else:
            raise NotImplementedError(f"Command {command} is not implemented.")
    except (InputError, LivePersonError) as error:
        demisto.error(f"[Main] {command} failed: {type(error).__name__}")
        return_error(f"Failed to execute {command} command.\nError:\n{error}")
    except Exception as error:
        demisto.error(f"[Main] {command} failed unexpectedly:\n{traceback.format_exc()}")
        return_error(f"Failed to execute {command} command.\nError:\n{error}")


if __name__ in ("__main__", "__builtin__", "builtins"):
    main()
