"""The unchanged integration against the LivePerson simulator over real HTTPS, certificates verified."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devtools.runner import LocalRunner, RunResult
from devtools.simulator import FaultPlan, Simulator
from devtools.truth import compare
from tests.e2e.conftest import make_runner
from tests.e2e.connect_proxy import ConnectProxy


def expected_time(change_date: str) -> str:
    """`_time` worked out independently of the integration: '2024-05-01 10:00:05.7' -> '...T10:00:05.700Z'."""
    day_and_time, fraction = change_date.split(".")
    return f"{day_and_time.replace(' ', 'T')}.{fraction.ljust(3, '0')[:3]}Z"


def fetch_for(
    runner: LocalRunner, cycles: int, pause: float = 0.0, between: Callable[[int], object] | None = None
) -> list[RunResult]:
    results: list[RunResult] = []
    for number in range(cycles):
        if between:
            between(number)
        results.extend(runner.fetch_cycles(cycles=1))
        time.sleep(pause)
    return results


def drain(runner: LocalRunner) -> list[RunResult]:
    results = list(runner.fetch_cycles(until_caught_up=True, max_cycles=200))
    assert not results[-1].wants_next_run_now, "the backlog did not drain in 200 cycles"
    return results


def pushed(results: list[RunResult]) -> list[dict[str, Any]]:
    return [event for result in results for event in result.pushed]


def start_collecting(runner: LocalRunner) -> datetime:
    """The first run's start: one minute before now, as XSIAM's first fetch."""
    start = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0)
    runner.start_fetch_at(start)
    return start


def test_fifty_cycles_with_live_arrivals_exactly_once(simulator_factory: Callable[..., Simulator]) -> None:
    """
    Given: a simulator with recent history and 100 live arrivals a second (bursts in one second, twins, and
           records committed up to half a second late, within the span of the remembered tail)
    When: fifty fetch cycles run while records arrive, then the backlog drains
    Then: every record since the start reached XSIAM exactly once, each with the right _time
    """
    simulator = simulator_factory(history_days=0.01, seed=11)
    runner = make_runner(simulator, max_fetch="10")
    start = start_collecting(runner)
    simulator.start_arrivals(per_second=100, late_rate=0.05, late_seconds=0.5)
    results = fetch_for(runner, 50, pause=0.05)
    simulator.stop_arrivals()
    results += drain(runner)
    events = pushed(results)
    outcome = compare(simulator.ground_truth(since=start), events)
    assert outcome.exact, outcome.summary()
    assert simulator.arrivals is not None and simulator.arrivals.added > 200
    assert any(result.wants_next_run_now for result in results), "max_fetch never held records back"
    assert all(event["_time"] == expected_time(event["changeDate"]) for event in events)
    assert all(event["source_log_type"] == "audit" for event in events)
    assert not any(result.unhandled or result.errors for result in results)


def test_fifteen_percent_faults_still_exactly_once(simulator_factory: Callable[..., Simulator]) -> None:
    """
    Given: 15% of requests failing (429, 5xx, dropped connections, slow answers, errors bodies, revoked tokens)
    When: fifty cycles run with live arrivals, then faults stop and the backlog drains
    Then: still exactly once, and no cycle ends in an unhandled exception (failures are error entries)
    """
    faults = FaultPlan(rate=0.15, seed=5, slow_seconds=0.05)
    simulator = simulator_factory(history_days=0.02, seed=12, faults=faults)
    runner = make_runner(simulator, max_fetch="150")
    start = start_collecting(runner)
    simulator.start_arrivals(per_second=30, late_rate=0.05)
    results = fetch_for(runner, 50, pause=0.05)
    simulator.stop_arrivals()
    simulator.config.faults.rate = 0.0
    results += drain(runner)
    outcome = compare(simulator.ground_truth(since=start), pushed(results))
    assert outcome.exact, outcome.summary()
    assert not [result.unhandled for result in results if result.unhandled]
    assert sum(simulator.faults_injected.values()) >= 5 and len(simulator.faults_injected) >= 3


def test_token_expiring_and_revoked_mid_run(simulator_factory: Callable[..., Simulator]) -> None:
    """
    Given: tokens that live one second, some revoked before they expire, and a backlog to page through
    When: cycles run across several token lifetimes
    Then: the integration renews as needed and every record still arrives once
    """
    faults = FaultPlan(rate=0.1, seed=2, kinds=("revoke",), endpoints=("audit",))
    simulator = simulator_factory(history_days=0.3, history_per_day=4000, token_lifetime=1.0, faults=faults)
    runner = make_runner(simulator, max_fetch="400")
    start = simulator.store.snapshot()[0].time
    runner.start_fetch_at(start)
    results = fetch_for(runner, 6, pause=0.6, between=lambda number: number == 3 and simulator.revoke_all_tokens())
    results += drain(runner)
    outcome = compare(simulator.ground_truth(since=start), pushed(results))
    assert outcome.exact, outcome.summary()
    assert simulator.calls["token"] >= 3 and simulator.faults_injected["revoke"] >= 1


def test_domain_api_down_for_one_cycle(simulator: Simulator) -> None:
    """
    Given: a working first cycle, then the Domain API down for one cycle, with and without a cached domain
    When: cycles run
    Then: the cached domain carries one cycle through; without it the cycle fails cleanly and the next recovers
    """
    runner = make_runner(simulator)
    start = start_collecting(runner)
    simulator.store.add_random(datetime.now(UTC), 5)
    first = runner.run("fetch-events")
    simulator.domain_api_down = True
    simulator.store.add_random(datetime.now(UTC), 3)
    cached = runner.run("fetch-events")
    runner.context.pop("domain")
    simulator.store.add_random(datetime.now(UTC), 4)
    uncached = runner.run("fetch-events")
    simulator.domain_api_down = False
    recovered = runner.run("fetch-events")
    assert not first.errors and not cached.errors and cached.calls["domain"] == 0
    assert uncached.errors and "domain discovery" in uncached.errors[0] and not uncached.unhandled
    assert not recovered.errors and recovered.calls["domain"] == 1
    outcome = compare(simulator.ground_truth(since=start), pushed([first, cached, uncached, recovered]))
    assert outcome.exact, outcome.summary()


def test_max_fetch_smaller_than_the_backlog(simulator_factory: Callable[..., Simulator]) -> None:
    """
    Given: about 2,400 records waiting and max_fetch 500
    When: the first cycle runs, then cycles until caught up
    Then: the first asks for the next run at once (nextTrigger), and the backlog drains exactly once
    """
    simulator = simulator_factory(history_days=0.6, history_per_day=4000, seed=3)
    runner = make_runner(simulator, max_fetch="500")
    start = simulator.store.snapshot()[0].time
    runner.start_fetch_at(start)
    results = drain(runner)
    assert results[0].wants_next_run_now and results[0].last_run is not None
    assert results[0].last_run["nextTrigger"] == "0" and len(results[0].pushed) == 500
    assert len(results) >= len(simulator.store) // 500
    outcome = compare(simulator.ground_truth(since=start), pushed(results))
    assert outcome.exact, outcome.summary()


def test_untrusted_certificate_fails_clearly_and_works_with_insecure(simulator: Simulator, tmp_path: Any) -> None:
    """
    Given: an engine that does not trust the simulator's certificate authority
    When: test-module runs with verification on, then with 'Trust any certificate'
    Then: the first names a TLS failure, the second succeeds
    """
    other_authority = tmp_path / "other-ca.pem"
    __import__("trustme").CA().cert_pem.write_to_path(str(other_authority))
    strict = make_runner(simulator, env={"REQUESTS_CA_BUNDLE": str(other_authority)})
    message = strict.run("test-module").entries[0]
    assert message.startswith("Test failed at the domain discovery stage. TLS failure reaching the Domain API host")
    insecure = make_runner(simulator, env={"REQUESTS_CA_BUNDLE": str(other_authority)}, insecure=True)
    assert insecure.run("test-module").entries == ["ok"]


def test_proxy_parameter_routes_through_a_loopback_proxy(simulator: Simulator) -> None:
    """
    Given: a CONNECT proxy on loopback in HTTPS_PROXY
    When: test-module runs with 'Use system proxy settings' on, then off
    Then: on, every connection goes through the proxy; off, none does
    """
    proxy = ConnectProxy()
    try:
        through = make_runner(simulator, env={"HTTPS_PROXY": proxy.url}, proxy=True)
        assert through.run("test-module").entries == ["ok"]
        assert proxy.targets and set(proxy.targets) == {simulator.host}
        seen = len(proxy.targets)
        direct = make_runner(simulator, env={"HTTPS_PROXY": proxy.url}, proxy=False)
        assert direct.run("test-module").entries == ["ok"]
        assert len(proxy.targets) == seen
    finally:
        proxy.stop()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("unknown_account", "Test failed at the domain discovery stage. The Domain API does not know this account"),
        ("unreachable_domain_api", "Test failed at the domain discovery stage. Domain API unreachable (127.0.0.1:"),
        (
            "bad_secret",
            "Test failed at the token request stage. The authorization server refused the client credentials",
        ),
        ("forbidden", "Test failed at the audit trail query stage. LivePerson refused the Audit Trail query (HTTP 403"),
        ("timeout", "Test failed at the audit trail query stage. Timeout reaching the account's Audit Trail domain"),
    ],
)
def test_module_names_the_failing_stage(simulator: Simulator, setup: str, expected: str) -> None:
    """
    Given: one stage broken against the real HTTPS simulator
    When: test-module runs
    Then: its message names the stage and the reason
    """
    params: dict[str, Any] = {}
    budgets = None
    if setup == "unknown_account":
        params["account_id"] = "99999999"
    elif setup == "unreachable_domain_api":
        params["domain_api_host"] = f"127.0.0.1:{closed_port()}"
    elif setup == "bad_secret":
        params["credentials"] = {"identifier": simulator.config.client_id, "password": "wrong-secret"}
    elif setup == "forbidden":
        simulator.audit_forbidden = True
    else:
        budgets = __import__("LivePerson").TimeBudgets(request=0.3)
        simulator.config.faults = FaultPlan(rate=1.0, kinds=("slow",), endpoints=("audit",), slow_seconds=1.0)
    result = make_runner(simulator, budgets=budgets, **params).run("test-module")
    assert not result.unhandled
    assert str(result.entries[0]).startswith(expected)
