"""A local stand-in for the XSIAM engine around the unchanged LivePerson integration.

It imports `Packs/LivePerson/Integrations/LivePerson/LivePerson.py` on the runtime the tests use
(our stand-in, or the platform's own modules with XSOAR_RUNTIME_PATH; see devtools/runtime.py) and
drives it only through the platform's public surface, as the engine does: it answers
`demisto.params/args/command/getLastRun/getIntegrationContext`, records `demisto.setLastRun/
setIntegrationContext/results` and the log functions, and takes the events handed to
`send_events_to_xsiam`. Everything it replaces is put back after each command. Between runs it
keeps what the platform keeps, `lastRun` and the integration context, in a state file (the cached
token stays in memory only, so no file ever holds it); pushed events are appended to a JSON-lines file.

By default it starts the embedded LivePerson simulator; given an account ID, an authorization
server and client credentials it talks to real LivePerson instead.
"""

from __future__ import annotations

import argparse
import copy
import getpass
import json
import os
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from devtools.runtime import load_integration

ENDPOINT_MARKERS = (("/baseURI.json", "domain"), ("/app/token", "token"), ("/metadata/audit", "audit"))
UNSAVED_CONTEXT_KEYS = ("token",)
ENGINE_FUNCTIONS = (
    "params",
    "args",
    "command",
    "getLastRun",
    "setLastRun",
    "getIntegrationContext",
    "setIntegrationContext",
    "getIntegrationContextVersioned",
    "setIntegrationContextVersioned",
    "results",
    "debug",
    "info",
    "error",
)


@dataclass
class Push:
    """One call to send_events_to_xsiam, as the platform would receive it."""

    events: list[dict[str, Any]]
    vendor: str
    product: str
    options: dict[str, Any]


@dataclass
class RunResult:
    """What one command run left behind, as the engine would see it."""

    command: str
    entries: list[Any] = field(default_factory=list)
    pushes: list[Push] = field(default_factory=list)
    last_run: dict[str, Any] | None = None
    calls: Counter[str] = field(default_factory=Counter)
    logs: list[tuple[str, str]] = field(default_factory=list)
    unhandled: str | None = None

    @property
    def pushed(self) -> list[dict[str, Any]]:
        return [event for push in self.pushes for event in push.events]

    @property
    def errors(self) -> list[str]:
        entries = [entry for entry in self.entries if isinstance(entry, dict) and entry.get("Type") == 4]
        return [str(entry.get("Contents")) for entry in entries]

    @property
    def wants_next_run_now(self) -> bool:
        return bool(self.last_run and self.last_run.get("nextTrigger") == "0")

    @property
    def checkpoint(self) -> str | None:
        return (self.last_run or {}).get("checkpoint")


@contextmanager
def count_http_calls(calls: Counter[str]) -> Iterator[None]:
    """Counts the integration's HTTP calls by LivePerson endpoint (the runner's own instrument)."""
    original = requests.Session.send

    def counting_send(session: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> Any:
        url = request.url or ""
        calls[next((name for marker, name in ENDPOINT_MARKERS if marker in url), "other")] += 1
        return original(session, request, **kwargs)

    requests.Session.send = counting_send  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        requests.Session.send = original  # type: ignore[method-assign]


@contextmanager
def replaced(targets: list[tuple[Any, str, Any]]) -> Iterator[None]:
    """Sets each (object, attribute, value) for the duration, then puts every original back."""
    missing = object()
    saved = [(target, name, getattr(target, name, missing)) for target, name, _value in targets]
    try:
        for target, name, value in targets:
            setattr(target, name, value)
        yield
    finally:
        for target, name, original in saved:
            if original is missing:
                delattr(target, name)
            else:
                setattr(target, name, original)


class LocalRunner:
    """Runs integration commands one after another, keeping the state a tenant would keep."""

    def __init__(
        self,
        params: dict[str, Any],
        state_path: Path | None = None,
        events_path: Path | None = None,
        env: dict[str, str | None] | None = None,
        retry_scale: float = 1.0,
        budgets: Any = None,
    ) -> None:
        self.integration, self.demisto = load_integration()
        self.params = params
        self.state_path = state_path
        self.events_path = events_path
        self.env = dict(env or {})
        self.retry_scale = retry_scale
        self.budgets = budgets or self.integration.DEFAULT_BUDGETS
        self.last_run: dict[str, Any] = {}
        self.context: dict[str, Any] = {}
        if state_path and state_path.exists():
            saved = json.loads(state_path.read_text(encoding="utf-8"))
            self.last_run = saved.get("lastRun") or {}
            self.context = saved.get("integrationContext") or {}

    def start_fetch_at(self, moment: datetime) -> None:
        """Starts collection at `moment` instead of one minute before the first run (a backfill)."""
        self.last_run = self.integration.Cursor.starting_at(moment).to_last_run()

    def run(self, command: str, args: dict[str, Any] | None = None) -> RunResult:
        """One command, as the engine runs it: fresh inputs in, entries, pushes and state out."""
        result = RunResult(command)
        self._apply_environment()
        with (
            replaced(self._engine_surface(result, command, args or {})),
            count_http_calls(result.calls),
        ):
            try:
                self.integration.main(sleep=self._sleep, budgets=self.budgets)
            except SystemExit:
                pass
            except Exception:  # the point of the runner is to notice these
                result.unhandled = traceback.format_exc()
        result.last_run = copy.deepcopy(self.last_run)
        self._save(result.pushed)
        return result

    def _engine_surface(self, result: RunResult, command: str, args: dict[str, Any]) -> list[tuple[Any, str, Any]]:
        """The platform's functions the integration calls, answered and recorded by this runner."""

        def set_last_run(state: dict[str, Any]) -> None:
            self.last_run = json.loads(json.dumps(state))

        def set_context(context: dict[str, Any], *_args: Any, **_kwargs: Any) -> None:
            self.context = json.loads(json.dumps(context))

        def send_events(events: list[dict[str, Any]], vendor: str, product: str, **options: Any) -> None:
            result.pushes.append(Push(json.loads(json.dumps(events)), vendor, product, options))

        def log(level: str) -> Callable[..., None]:
            return lambda message, *_args: result.logs.append((level, str(message)))

        answers: dict[str, Any] = {
            "params": lambda: copy.deepcopy(self.params),
            "args": lambda: dict(args),
            "command": lambda: command,
            "getLastRun": lambda: copy.deepcopy(self.last_run),
            "setLastRun": set_last_run,
            "getIntegrationContext": lambda: copy.deepcopy(self.context),
            "setIntegrationContext": set_context,
            "getIntegrationContextVersioned": lambda *_args, **_kwargs: {"context": copy.deepcopy(self.context)},
            "setIntegrationContextVersioned": set_context,
            "results": result.entries.append,
            "debug": log("debug"),
            "info": log("info"),
            "error": log("error"),
        }
        targets: list[tuple[Any, str, Any]] = [(self.demisto, name, answers[name]) for name in ENGINE_FUNCTIONS]
        return [*targets, (self.integration, "send_events_to_xsiam", send_events)]

    def _sleep(self, seconds: float) -> None:
        """LivePerson's pauses, shrunk by `retry_scale` for a local server (the policy is unchanged)."""
        time.sleep(seconds * self.retry_scale)

    def fetch_cycles(
        self, cycles: int | None = None, until_caught_up: bool = False, pause: float = 0.0, max_cycles: int = 1000
    ) -> Iterator[RunResult]:
        """Fetch runs back to back: `cycles` of them, or until one neither failed nor asked for more."""
        for _ in range(cycles if cycles is not None else max_cycles):
            result = self.run("fetch-events")
            yield result
            if until_caught_up and not (result.wants_next_run_now or result.errors or result.unhandled):
                return
            if pause and not result.wants_next_run_now:
                time.sleep(pause)

    def _apply_environment(self) -> None:
        for name, value in self.env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def _save(self, pushed: list[dict[str, Any]]) -> None:
        if self.events_path and pushed:
            with self.events_path.open("a", encoding="utf-8") as handle:
                for event in pushed:
                    handle.write(json.dumps(event, sort_keys=True) + "\n")
        if self.state_path:
            context = {key: value for key, value in self.context.items() if key not in UNSAVED_CONTEXT_KEYS}
            self.state_path.write_text(
                json.dumps({"lastRun": self.last_run, "integrationContext": context}, indent=2), encoding="utf-8"
            )


# ---------------------------------------------------------------------------- reporting


def human_readable(result: RunResult) -> str:
    texts = []
    for entry in result.entries:
        if isinstance(entry, dict):
            texts.append(str(entry.get("HumanReadable") or entry.get("Contents")))
        else:
            texts.append(str(entry))
    return "\n".join(texts)


def lag_of(checkpoint: str | None) -> str:
    if not checkpoint:
        return "-"
    moment = datetime.strptime(checkpoint, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    seconds = max(0.0, (datetime.now(UTC) - moment).total_seconds())
    return str(timedelta(seconds=int(seconds)))


CYCLE_HEADER = (
    f"{'cycle':>5}  {'pushed':>6}  {'audit':>5}  {'token':>5}  {'domain':>6}  {'checkpoint':<27}  {'lag':>14}  next"
)


def cycle_line(number: int, result: RunResult) -> str:
    outcome = "now (more waiting)" if result.wants_next_run_now else "on schedule"
    if result.unhandled:
        outcome = "UNHANDLED EXCEPTION"
    elif result.errors:
        outcome = "error: " + result.errors[-1].splitlines()[-1][:70]
    return (
        f"{number:>5}  {len(result.pushed):>6}  {result.calls['audit']:>5}  {result.calls['token']:>5}  "
        f"{result.calls['domain']:>6}  {result.checkpoint or '-':<27}  {lag_of(result.checkpoint):>14}  {outcome}"
    )


def alert_preview(events: list[dict[str, Any]]) -> str:
    """Which shipped correlation rules would fire on these events (see devtools/alerts.py)."""
    from devtools.alerts import format_preview, preview_alerts

    return format_preview(preview_alerts(events))


# ---------------------------------------------------------------------------- command line


def real_params(args: argparse.Namespace) -> dict[str, Any] | None:
    """Params for real LivePerson from flags or LP_* variables; None when none were given."""
    account = args.account_id or os.environ.get("LP_ACCOUNT_ID")
    auth = args.auth_server_url or os.environ.get("LP_AUTH_SERVER_URL")
    client_id = args.client_id or os.environ.get("LP_CLIENT_ID")
    if not (account or auth or client_id):
        return None
    secret = os.environ.get("LP_CLIENT_SECRET") or getpass.getpass("LivePerson client secret: ")
    return {
        "account_id": account,
        "auth_server_url": auth,
        "credentials": {"identifier": client_id, "password": secret},
        "domain_api_host": args.domain_api_host or os.environ.get("LP_DOMAIN_API_HOST") or "api.liveperson.net",
        "max_fetch": str(args.max_fetch),
        "insecure": args.insecure,
        "proxy": args.proxy,
    }


def build_parser() -> argparse.ArgumentParser:
    from devtools.simulator.options import add_reading_options

    parser = argparse.ArgumentParser(
        prog="python -m devtools.runner",
        description=(
            "Run the LivePerson integration as the XSIAM engine would: test-module, liveperson-get-events or "
            "fetch-events, keeping lastRun and the integration context in a state file between runs; or probe "
            "the account for what LivePerson does not document (read-only, about 20 calls).\n\n"
            "Simulator mode (the default): starts the embedded LivePerson simulator over HTTPS on loopback; the "
            "switches below choose how it answers what LivePerson leaves open.\n"
            "Real mode: give --account-id, --auth-server-url and --client-id (or LP_ACCOUNT_ID, LP_AUTH_SERVER_URL, "
            "LP_CLIENT_ID); the client secret is read from LP_CLIENT_SECRET or asked for, never from a flag."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["test-module", "get-events", "fetch", "probe"], help="what to run")
    parser.add_argument("--state", type=Path, default=Path(".runner/state.json"), help="state file (lastRun, context)")
    parser.add_argument("--events", type=Path, default=Path(".runner/events.jsonl"), help="pushed events, JSON lines")
    parser.add_argument("--cycles", type=int, default=1, help="fetch: number of runs (default 1)")
    parser.add_argument("--until-caught-up", action="store_true", help="fetch: run until nothing more is waiting")
    parser.add_argument("--interval", type=float, default=0.0, help="fetch: seconds between runs on schedule")
    parser.add_argument("--limit", default="10", help="get-events: limit (default 10)")
    parser.add_argument("--start-time", default="3 days", help="get-events: start_time (default '3 days')")
    parser.add_argument("--end-time", default=None, help="get-events: end_time (default now)")
    parser.add_argument("--originator", default=None, help="get-events: originator (user ID, login or display name)")
    parser.add_argument("--object-types", default=None, help="get-events: object_types, e.g. 'Users,Profiles'")
    parser.add_argument("--action-types", default=None, help="get-events: action_types, e.g. 'Delete'")
    parser.add_argument("--push", action="store_true", help="get-events: should_push_events=true")
    parser.add_argument("--max-fetch", type=int, default=5000, help="the max_fetch parameter (default 5000)")
    parser.add_argument("--insecure", action="store_true", help="the 'Trust any certificate' parameter")
    parser.add_argument("--proxy", action="store_true", help="the 'Use system proxy settings' parameter")
    real = parser.add_argument_group("real LivePerson")
    real.add_argument("--account-id", help="your LivePerson account (site) ID")
    real.add_argument("--auth-server-url", help="your region's Sentinel host, e.g. va.sentinel.liveperson.net")
    real.add_argument("--client-id", help="the OAuth 2.0 client ID (the secret comes from LP_CLIENT_SECRET)")
    real.add_argument("--domain-api-host", help="Domain API host (default api.liveperson.net)")
    simulated = parser.add_argument_group("simulator mode")
    simulated.add_argument("--sim-days", type=float, default=3.0, help="days of seeded history (default 3)")
    simulated.add_argument("--sim-live", type=float, default=0.0, help="live arrivals per second (default 0)")
    simulated.add_argument("--sim-fault-rate", type=float, default=0.0, help="share of requests that fail")
    add_reading_options(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    from devtools.simulator.options import reading_from

    parser = build_parser()
    args = parser.parse_args(argv)
    args.state.parent.mkdir(parents=True, exist_ok=True)
    args.events.parent.mkdir(parents=True, exist_ok=True)
    params = real_params(args)
    simulator = None
    env: dict[str, str | None] = {}
    retry_scale = 1.0
    if params is None:
        from devtools.simulator import FaultPlan, Simulator, SimulatorConfig

        reading = reading_from(args, parser)
        config = SimulatorConfig(
            history_days=args.sim_days, faults=FaultPlan(rate=args.sim_fault_rate), reading=reading
        )
        simulator = Simulator(config).start()
        if args.sim_live:
            simulator.start_arrivals(per_second=args.sim_live)
        params = simulator_params(simulator, args.max_fetch, insecure=args.insecure, proxy=args.proxy)
        env = {"REQUESTS_CA_BUNDLE": simulator.ca_bundle}
        retry_scale = 0.01  # LivePerson's pauses (5, 10, 15 s), shrunk for a local server
        print(f"[runner] simulator mode: https://{simulator.host}, {len(simulator.store)} records")
        print(f"[runner] simulated behaviour: {reading.describe()}")
        if args.state.exists() and args.command != "probe":
            # Each invocation starts a new simulator with new data, so an old cursor would not fit it.
            args.state.unlink()
            print(f"[runner] simulator mode starts from a fresh state ({args.state} removed)")
    else:
        print(f"[runner] real LivePerson: account {params['account_id']}, Sentinel {params['auth_server_url']}")
    try:
        if args.command == "probe":
            from devtools.probe import run_probe

            return run_probe(params, env)
        runner = LocalRunner(params, args.state, args.events, env=env, retry_scale=retry_scale)
        return run_cli_command(runner, args)
    finally:
        if simulator is not None:
            simulator.stop()


def get_events_arguments(args: argparse.Namespace) -> dict[str, Any]:
    call_args = {"limit": args.limit, "start_time": args.start_time, "should_push_events": str(args.push).lower()}
    optional = {
        "end_time": args.end_time,
        "originator": args.originator,
        "object_types": args.object_types,
        "action_types": args.action_types,
    }
    call_args.update({name: value for name, value in optional.items() if value is not None})
    return call_args


def run_cli_command(runner: LocalRunner, args: argparse.Namespace) -> int:
    if args.command == "test-module":
        result = runner.run("test-module")
        print(human_readable(result))
        return 0 if human_readable(result) == "ok" and not result.unhandled else 1
    if args.command == "get-events":
        result = runner.run("liveperson-get-events", get_events_arguments(args))
        print(human_readable(result))
        return 1 if result.errors or result.unhandled else 0
    print(CYCLE_HEADER)
    failed = False
    cycles = None if args.until_caught_up else args.cycles
    pushed: list[dict[str, Any]] = []
    for number, result in enumerate(runner.fetch_cycles(cycles, args.until_caught_up, args.interval), start=1):
        print(cycle_line(number, result))
        failed = failed or bool(result.unhandled)
        pushed += result.pushed
    print(f"[runner] state in {args.state}, pushed events appended to {args.events}")
    print("\nShipped correlation rules on the events pushed in these runs:")
    print(alert_preview(pushed))
    return 1 if failed else 0


def params_for(
    host: str, config: Any, max_fetch: int = 5000, insecure: bool = False, proxy: bool = False
) -> dict[str, Any]:
    """Instance params for a simulator at `host` with `config` (which may live in another process)."""
    return {
        "account_id": config.account_id,
        "auth_server_url": host,
        "domain_api_host": host,
        "credentials": {"identifier": config.client_id, "password": config.client_secret},
        "max_fetch": str(max_fetch),
        "insecure": insecure,
        "proxy": proxy,
    }


def simulator_params(
    simulator: Any, max_fetch: int = 5000, insecure: bool = False, proxy: bool = False
) -> dict[str, Any]:
    return params_for(simulator.host, simulator.config, max_fetch, insecure, proxy)


def runner_for(simulator: Any, max_fetch: int = 5000, **options: Any) -> LocalRunner:
    """A runner against a running simulator, trusting its certificate authority."""
    environment: dict[str, str | None] = {"REQUESTS_CA_BUNDLE": simulator.ca_bundle}
    return LocalRunner(simulator_params(simulator, max_fetch), env=environment, **options)


if __name__ == "__main__":
    sys.exit(main())
