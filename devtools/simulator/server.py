"""A LivePerson simulator: Domain API, Sentinel token endpoint and Audit Trail over HTTPS on loopback.

It follows LivePerson's documented behaviour where the docs say something (paths, the GraphQL
query and its defaults: newest first, US/Eastern, 50 a page, LPA and automatic updates left out).
Where they do not, `SimulatorConfig.reading` picks one answer to each open question (page cap,
zone of the day filters, `toDate` inclusive, `changeDate` precision, `X-Total-Count`, zone of the
results; see readings.py); by default `first` above 500 is an error, `toDate` is inclusive and
the day filters follow `timezone`. Faults are injected by rate and seed; counters and the ground
truth are there for tests to compare against.
"""

from __future__ import annotations

import base64
import http.server
import json
import random
import re
import secrets
import ssl
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trustme
from graphql import graphql_sync

from devtools.simulator.dataset import AuditStore, LiveArrivals
from devtools.simulator.readings import Reading, Refusal, answer_query, render_record
from devtools.simulator.schema import audit_schema

DOMAIN_PATH = re.compile(r"^/api/account/(?P<account>[^/]+)/service/(?P<service>[^/]+)/baseURI\.json$")
TOKEN_PATH = re.compile(r"^/sentinel/api/v2/account/(?P<account>[^/]+)/app/token$")
AUDIT_PATH = re.compile(r"^/api/account/(?P<account>[^/]+)/configuration/metadata/audit$")
KNOWN_SERVICES = ("accountConfigReadOnly", "accountConfigReadWrite", "sentinel", "agentVep")
FAULT_KINDS = ("429", "500", "502", "503", "drop", "slow", "errors", "revoke")
# Which faults make sense where: an `errors` body or a revoked token only on the Audit Trail.
FAULTS_BY_ENDPOINT = {
    "domain": ("429", "500", "502", "503", "drop", "slow"),
    "token": ("429", "500", "502", "503", "drop", "slow"),
    "audit": FAULT_KINDS,
}


@dataclass
class FaultPlan:
    """Share of requests that fail, and how; the same seed gives the same sequence of faults."""

    rate: float = 0.0
    seed: int = 1
    kinds: tuple[str, ...] = FAULT_KINDS
    endpoints: tuple[str, ...] = ("domain", "token", "audit")
    slow_seconds: float = 0.2
    retry_after: str | None = None


@dataclass
class SimulatorConfig:
    account_id: str = "12345678"
    client_id: str = "sim-client-id"
    client_secret: str = "sim-client-secret"  # a throwaway credential of the simulator, not a real one
    token_lifetime: float = 3600.0
    send_expires_in: bool = True
    reading: Reading = field(default_factory=Reading)
    seed: int = 7
    history_days: float = 0.0
    history_per_day: int = 3000
    detection_scenarios: bool = False  # add records that should (and should not) trigger the shipped rules
    faults: FaultPlan = field(default_factory=FaultPlan)


@dataclass
class Token:
    account: str
    expires_at: float
    revoked: bool = False


class Simulator:
    """Start with :meth:`start`; `host` is what the integration is given for every LivePerson host."""

    def __init__(self, config: SimulatorConfig | None = None, authority: trustme.CA | None = None) -> None:
        self.config = config or SimulatorConfig()
        reading = self.config.reading
        self.store = AuditStore(
            self.config.account_id,
            seed=self.config.seed,
            resolution=reading.resolution,
            late_commits=reading.late_commits,
        )
        self._ties = random.Random(self.config.seed + 2)
        self.expected_alerts: dict[str, int] = {}
        if self.config.history_days:
            now = datetime.now(UTC)
            self.store.seed_history(now, self.config.history_days, self.config.history_per_day)
            if self.config.detection_scenarios:
                from devtools.simulator.scenarios import seed_detection_scenarios

                self.expected_alerts = seed_detection_scenarios(self.store, now, self.config.history_days)
        self.authority = authority or trustme.CA()
        self.calls: Counter[str] = Counter()
        self.faults_injected: Counter[str] = Counter()
        self.tokens: dict[str, Token] = {}
        self.domain_api_down = False
        self.audit_forbidden = False
        self.query_log: list[dict[str, Any]] = []
        self.arrivals: LiveArrivals | None = None
        self._fault_random = random.Random(self.config.faults.seed)
        self._lock = threading.Lock()
        self._schema = audit_schema(reading.ordering, reading.unknown_arguments)
        self._server: http.server.ThreadingHTTPServer | None = None
        self._workdir = Path(tempfile.mkdtemp(prefix="lp-sim-"))
        self.ca_bundle = str(self._workdir / "simulator-ca.pem")
        self.authority.cert_pem.write_to_path(self.ca_bundle)

    # ------------------------------------------------------------------ lifecycle

    def start(self, port: int = 0) -> Simulator:
        handler = _handler_for(self)
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, name="lp-simulator", daemon=True).start()
        return self

    def stop(self) -> None:
        self.stop_arrivals()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def host(self) -> str:
        assert self._server is not None, "start() the simulator first"
        return f"127.0.0.1:{self._server.server_address[1]}"

    def start_arrivals(
        self, per_second: float = 20.0, late_rate: float = 0.05, late_seconds: float = 2.0
    ) -> LiveArrivals:
        """Records arriving now, `late_rate` of them stamped up to `late_seconds` earlier (committed late)."""
        arrivals = LiveArrivals(self.store, per_second=per_second, late_rate=late_rate, late_seconds=late_seconds)
        self.arrivals = arrivals.start()
        return self.arrivals

    def stop_arrivals(self) -> None:
        if self.arrivals is not None:
            self.arrivals.stop()

    def revoke_all_tokens(self) -> int:
        with self._lock:
            live = [token for token in self.tokens.values() if not token.revoked]
            for token in live:
                token.revoked = True
        return len(live)

    # ------------------------------------------------------------------ ground truth

    def ground_truth(self, since: datetime | None = None, until: datetime | None = None) -> list[dict[str, Any]]:
        """Every record a complete feed holds, as served in UTC.

        LPA changes and automatic updates are included, unless the account does not know the argument
        that asks for them (`Reading.unknown_arguments`): then no query can get them.
        """
        reading = self.config.reading
        return [
            render_record(stored, UTC, reading.precision)
            for stored in self.store.snapshot()
            if (since is None or stored.time >= since)
            and (until is None or stored.time <= until)
            and not reading.hides(stored)
        ]

    def count_call(self, endpoint: str) -> None:
        with self._lock:
            self.calls[endpoint] += 1

    # ------------------------------------------------------------------ faults

    def pick_fault(self, endpoint: str) -> str | None:
        plan = self.config.faults
        if endpoint not in plan.endpoints or plan.rate <= 0:
            return None
        with self._lock:
            if self._fault_random.random() >= plan.rate:
                return None
            choices = [kind for kind in plan.kinds if kind in FAULTS_BY_ENDPOINT[endpoint]]
            kind = self._fault_random.choice(choices) if choices else None
            if kind:
                self.faults_injected[kind] += 1
        return kind

    # ------------------------------------------------------------------ endpoints

    def domain_lookup(self, account: str, service: str) -> tuple[int, dict[str, Any]]:
        if self.domain_api_down:
            return 503, {"error": "Service Unavailable"}
        if account != self.config.account_id:
            return 401, {"error": "Bad Authentication (invalid site or agent)"}
        if service not in KNOWN_SERVICES:
            return 404, {"error": f"Unknown service {service}"}
        return 200, {"service": service, "account": account, "baseURI": self.host}

    def issue_token(self, account: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        if (
            account != self.config.account_id
            or form.get("client_id") != self.config.client_id
            or form.get("client_secret") != self.config.client_secret
        ):
            return 401, {"error": "invalid_client"}
        now = time.time()
        claims = {"iss": "Sentinel", "aud": account, "azp": form["client_id"], "iat": int(now)}
        claims["exp"] = int(now + self.config.token_lifetime)
        token = ".".join(
            [
                _b64(json.dumps({"alg": "RS256", "kid": "simulator"})),
                _b64(json.dumps(claims)),
                secrets.token_urlsafe(24),
            ]
        )
        with self._lock:
            self.tokens[token] = Token(account, now + self.config.token_lifetime)
        body: dict[str, Any] = {"access_token": token, "token_type": "Bearer"}
        if self.config.send_expires_in:
            body["expires_in"] = int(self.config.token_lifetime)
        return 200, body

    def token_is_valid(self, authorization: str | None, account: str) -> bool:
        if not authorization or not authorization.startswith("Bearer "):
            return False
        with self._lock:
            token = self.tokens.get(authorization[len("Bearer ") :])
        return bool(token and token.account == account and not token.revoked and token.expires_at > time.time())

    def revoke(self, authorization: str | None) -> None:
        with self._lock:
            token = self.tokens.get((authorization or "")[len("Bearer ") :])
            if token:
                token.revoked = True

    def audit_query(self, query: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        context: dict[str, Any] = {}
        result = graphql_sync(self._schema, query, root_value={"auditData": self._resolve_audit}, context_value=context)
        if result.errors:
            refusals = [error.original_error for error in result.errors if isinstance(error.original_error, Refusal)]
            if refusals:
                return refusals[0].status, {"error": refusals[0].message}, {}
            errors = [error.formatted for error in result.errors]
            return 200, {"errors": errors, "data": None}, {}
        return 200, {"data": result.data}, {"X-Total-Count": str(context.get("total_count", 0))}

    def _resolve_audit(self, info: Any, **arguments: Any) -> list[dict[str, Any]]:
        with self._lock:
            answer = answer_query(self.store.visible(datetime.now(UTC)), arguments, self.config.reading, self._ties)
        with self._lock:
            self.query_log.append(
                {
                    "fromDate": arguments.get("fromDate"),
                    "toDate": arguments.get("toDate"),
                    "offset": arguments.get("offset", 0) or 0,
                    "first": arguments.get("first", 50),
                    "returned": len(answer.records),
                }
            )
        info.context["total_count"] = answer.total_count
        return answer.records


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def _handler_for(simulator: Simulator) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            return

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._route("GET")

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            self._route("POST")

        def _route(self, method: str) -> None:
            parsed = urllib.parse.urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            for endpoint, pattern, allowed in (
                ("domain", DOMAIN_PATH, "GET"),
                ("token", TOKEN_PATH, "POST"),
                ("audit", AUDIT_PATH, "POST"),
            ):
                match = pattern.match(parsed.path)
                if match and method == allowed:
                    simulator.count_call(endpoint)
                    if self._inject_fault(endpoint):
                        return
                    self._serve(endpoint, match.groupdict(), body)
                    return
            self._reply(404, {"error": "Not Found"})

        def _inject_fault(self, endpoint: str) -> bool:
            kind = simulator.pick_fault(endpoint)
            if kind is None:
                return False
            if kind == "slow":
                time.sleep(simulator.config.faults.slow_seconds)
                return False
            if kind == "drop":
                self.close_connection = True
                self.connection.close()
                return True
            if kind == "errors":
                self._reply(200, {"errors": [{"message": "Internal error while reading audit data"}], "data": None})
            elif kind == "revoke":
                simulator.revoke(self.headers.get("Authorization"))
                self._reply(401, {"error": "Not Authenticated"})
            else:
                headers = {"Retry-After": simulator.config.faults.retry_after} if kind == "429" else {}
                self._reply(int(kind), {"error": f"simulated {kind}"}, {k: v for k, v in headers.items() if v})
            return True

        def _serve(self, endpoint: str, path: dict[str, str], body: bytes) -> None:
            account = path["account"]
            if endpoint == "domain":
                self._reply(*simulator.domain_lookup(account, path["service"]))
            elif endpoint == "token":
                form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
                self._reply(*simulator.issue_token(account, form))
            elif not simulator.token_is_valid(self.headers.get("Authorization"), account):
                self._reply(401, {"error": "Not Authenticated"})
            elif simulator.audit_forbidden:
                self._reply(403, {"error": "Not Authorized"})
            else:
                try:
                    query = json.loads(body or b"{}")["query"]
                except (ValueError, KeyError, TypeError):
                    self._reply(400, {"error": "Body must be JSON with a 'query' field"})
                    return
                self._reply(*simulator.audit_query(str(query)))

        def _reply(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler
