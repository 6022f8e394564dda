"""Exactly once over real HTTPS under every reading of what LivePerson leaves undocumented.

The simulator answers as one reading of each open question (page cap, zone of the day filters,
toDate inclusive or not, changeDate precision, what X-Total-Count counts, records committed late,
ties in a new order on every answer), and the unchanged
integration runs through the local runner on a clock the test controls (time-machine): fetch runs
every hour for 28 hours from 21:00 UTC, so every test crosses a UTC midnight and, whatever the
zone, the server's own midnight, at any hour the suite happens to run.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from devtools.runner import LocalRunner, RunResult
from devtools.simulator import Reading, Simulator
from devtools.truth import compare
from tests.e2e.conftest import make_runner
from tests.reading.model import busy_account

START = datetime(2026, 3, 6, 21, 0, tzinfo=UTC)  # US daylight saving time starts 8 March, 07:00 UTC
STEP = timedelta(hours=1)
DURATION = timedelta(hours=28)


def expected_time(change_date: str) -> str:
    """`_time` worked out independently of the integration, for any number of fractional digits."""
    day_and_time, _, fraction = change_date.partition(".")
    return f"{day_and_time.replace(' ', 'T')}.{fraction.ljust(3, '0')[:3]}Z"


def run_schedule(simulator: Simulator, runner: LocalRunner, seed: int = 4) -> list[RunResult]:
    """History before START, then a fetch every STEP with arrivals before each, then a drain."""
    rng = random.Random(seed)
    results: list[RunResult] = []
    since = START - timedelta(hours=6)
    with time_machine.travel(START, tick=False) as traveller:
        for index in range(600):
            simulator.store.add_random(START - timedelta(hours=20) + timedelta(minutes=2 * index), 1, twin_rate=0.02)
        runner.start_fetch_at(since)
        now = START
        while now < START + DURATION:
            busy_account(simulator.store, now, STEP, rng)
            result = runner.run("fetch-events")
            assert not (result.errors or result.unhandled), result.errors or result.unhandled
            results.append(result)
            if not result.wants_next_run_now:
                delivered = sum(len(item.pushed) for item in results)
                hides = simulator.config.reading.hides  # what an argument the account does not know would add
                visible = sum(1 for item in simulator.store.visible(now) if item.time >= since and not hides(item))
                assert delivered == visible, f"fell behind at {now}"
            now += STEP
            traveller.move_to(now)
        traveller.move_to(now + timedelta(minutes=10))  # past every late commit
        for _ in range(50):
            results.append(runner.run("fetch-events"))
            if not results[-1].wants_next_run_now:
                break
    events = [event for result in results for event in result.pushed]
    outcome = compare(simulator.ground_truth(since=since), events)
    assert outcome.exact, outcome.summary()
    audit_calls = sum(result.calls["audit"] for result in results)
    reading = simulator.config.reading.describe()
    print(f"[readings] {reading}: {outcome.summary()}; {len(results)} runs, {audit_calls} audit calls")
    assert all(event["_time"] == expected_time(event["changeDate"]) for event in events)
    return results


READINGS = [
    pytest.param(Reading(page_cap=100), id="page-cap-100"),
    pytest.param(Reading(page_cap=37), id="page-cap-37"),
    pytest.param(Reading(filter_zone="US/Eastern"), id="filters-in-us-eastern"),
    pytest.param(Reading(filter_zone="+14:00", to_date_inclusive=False), id="filters-at-utc-plus-14-exclusive"),
    pytest.param(Reading(filter_zone="-12:00"), id="filters-at-utc-minus-12"),
    pytest.param(Reading(to_date_inclusive=False), id="to-date-exclusive"),
    pytest.param(Reading(precision="millis"), id="change-date-millis"),
    pytest.param(Reading(precision="seconds"), id="change-date-seconds"),
    pytest.param(Reading(total_count="page"), id="total-count-is-page-count"),
    pytest.param(
        Reading(page_cap=100, filter_zone="US/Eastern", to_date_inclusive=False),
        id="cap-100-eastern-filters-exclusive-to-date",
    ),
    pytest.param(Reading(late_commits=240), id="records-committed-up-to-4-minutes-late"),
    pytest.param(Reading(shuffle_ties=True), id="ties-in-a-new-order-on-every-answer"),
    pytest.param(
        Reading(page_cap=100, filter_zone="US/Eastern", late_commits=240, shuffle_ties=True),
        id="cap-100-eastern-filters-late-commits-shuffled-ties",
    ),
]


@pytest.mark.parametrize("reading", READINGS)
def test_exactly_once_across_both_midnights(reading: Reading, simulator_factory: Callable[..., Simulator]) -> None:
    """
    Given: the simulator answering under `reading`, with 20 hours of history and arrivals between runs
           (bulk changes in one instant, identical twins, records committed late)
    When: fetch runs every hour for 28 hours from 21:00 UTC, through UTC and server midnights
    Then: every record reaches XSIAM exactly once with the right _time, and no run that did not ask for
          the next run at once had fallen behind
    """
    simulator = simulator_factory(reading=reading)
    run_schedule(simulator, make_runner(simulator, max_fetch="1000"))


def test_steady_runs_make_one_audit_call(simulator_factory: Callable[..., Simulator]) -> None:
    """
    Given: a server capped at 100 records a call, and a collector that has run once (and learned the cap)
    When: a run follows every minute for an hour with a few new records before each
    Then: every run but the hourly page-size check makes exactly one Audit Trail call; none reads the domain
          again, and one token is requested, five minutes before the first one expires
    """
    simulator = simulator_factory(reading=Reading(page_cap=100))
    runner = make_runner(simulator)
    for index in range(400):
        simulator.store.add_random(START - timedelta(hours=3) + timedelta(seconds=27 * index), 1)
    rng = random.Random(2)
    with time_machine.travel(START, tick=False) as traveller:
        runner.start_fetch_at(START - timedelta(hours=3))
        runner.run("fetch-events")
        results = []
        for minute in range(1, 61):
            traveller.move_to(START + timedelta(minutes=minute))
            simulator.store.add_random(
                START + timedelta(minutes=minute, seconds=-rng.uniform(1, 59)), rng.randint(1, 4)
            )
            results.append(runner.run("fetch-events"))
    assert sum(result.calls["audit"] == 1 for result in results) >= 59
    assert all(result.calls["audit"] <= 2 for result in results)
    assert sum(result.calls["domain"] for result in results) == 0
    assert [minute for minute, result in enumerate(results, start=1) if result.calls["token"]] == [55]
