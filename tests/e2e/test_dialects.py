"""First contact with accounts that read the query's undocumented syntax another way (issue 17).

The simulator types the ordering arguments as enums or single values, refuses a `first` above its
maximum (with a GraphQL error naming it or not, or an HTTP 400), or does not know `lpa`. The
unchanged integration runs the schedule of test_readings (every hour for 28 hours from 21:00 UTC,
across both midnights, on a controlled clock): every record arrives exactly once, the negotiation
costs a few calls on the first run and none afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine

from devtools.runner import RunResult
from devtools.simulator import Reading, Simulator
from devtools.truth import RESULT_WINDOW_WARNING, compare, given_up_to_the_result_window, missing_outside
from tests.e2e.conftest import make_runner
from tests.e2e.test_readings import START, run_schedule

NEGOTIATED = re.compile(r"(\d+) to negotiate the query")


def negotiation_calls(result: RunResult) -> int:
    """The extra Audit Trail calls a fetch spent on the negotiation, as its summary line reports them."""
    counts = [int(found[1]) for _level, line in result.logs if (found := NEGOTIATED.search(line))]
    assert len(counts) == 1, result.logs
    return counts[0]


DIALECTS = [
    pytest.param(Reading(ordering="enum-list"), 1, id="ordering-as-enum-lists"),
    pytest.param(Reading(ordering="string"), 2, id="ordering-as-single-strings"),
    pytest.param(Reading(ordering="enum"), 3, id="ordering-as-single-enums"),
    pytest.param(Reading(max_first=120, first_refusal="graphql"), 1, id="first-above-120-graphql-error"),
    pytest.param(Reading(max_first=120, first_refusal="graphql-bare"), 3, id="first-above-120-unnamed-maximum"),
    pytest.param(Reading(max_first=120, first_refusal="http"), 1, id="first-above-120-http-400"),
    pytest.param(Reading(unknown_arguments=("lpa",)), 1, id="lpa-unknown"),
    pytest.param(
        Reading(
            ordering="enum",
            max_first=100,
            first_refusal="http",
            unknown_arguments=("lpa",),
            page_cap=100,
            filter_zone="US/Eastern",
        ),
        5,
        id="enum-first-100-lpa-cap-100-eastern",
    ),
]


@pytest.mark.parametrize(("reading", "first_contact"), DIALECTS)
def test_exactly_once_in_the_negotiated_dialect(
    reading: Reading, first_contact: int, simulator_factory: Callable[..., Simulator]
) -> None:
    """
    Given: the simulator reading the query's syntax as `reading` says, with history and arrivals
    When: fetch runs every hour for 28 hours across both midnights
    Then: every record arrives exactly once; the first run spends `first_contact` extra calls on the
          negotiation, the second and every later run none
    """
    simulator = simulator_factory(reading=reading)
    results = run_schedule(simulator, make_runner(simulator, max_fetch="1000"))
    costs = [negotiation_calls(result) for result in results]
    print(f"[dialects] {reading.describe()}: negotiation cost {costs[0]} on the first run, {costs[1]} on the second")
    assert costs[0] == first_contact
    assert costs[1:] == [0] * (len(costs) - 1)


def test_an_account_that_ignores_the_ordering_gets_nothing_pushed_and_the_state_kept(
    simulator_factory: Callable[..., Simulator],
) -> None:
    """
    Given: an account that accepts the ordering arguments but answers newest first whatever they say
    When: a fetch runs from a saved state
    Then: it fails saying the ordering is not applied, naming every form; nothing is pushed and
          lastRun is what it was
    """
    simulator = simulator_factory(reading=Reading(ordering="ignored"))
    runner = make_runner(simulator)
    with time_machine.travel(START, tick=False):
        for index in range(50):
            simulator.store.add_random(START - timedelta(minutes=30) + timedelta(seconds=20 * index), 1)
        runner.start_fetch_at(START - timedelta(hours=1))
        before = dict(runner.last_run)
        result = runner.run("fetch-events")
    print(f"[dialects] ordering ignored: {result.errors[0][:400]}")
    assert result.errors and "newest first" in result.errors[0]
    assert all(form in result.errors[0] for form in ("lists of strings", "single strings", "lists of enum values"))
    assert result.pushed == []
    assert runner.last_run == before


def test_a_new_instance_backfills_from_its_first_fetch_time_within_max_fetch(
    simulator_factory: Callable[..., Simulator],
) -> None:
    """
    Given: three days of history, and a new instance with First fetch time '2 days' and max_fetch 1000
    When: fetches run back to back until none asks for the next run at once, with arrivals in between
    Then: every record from two days back arrives exactly once, no run pushes more than 1000, and
          every run but the last asks for the next one at once
    """
    simulator = simulator_factory(reading=Reading(page_cap=100, filter_zone="US/Eastern"))
    runner = make_runner(simulator, max_fetch="1000", first_fetch="2 days")
    with time_machine.travel(START, tick=False) as traveller:
        for index in range(3 * 24 * 60):
            simulator.store.add_random(START - timedelta(days=3) + timedelta(minutes=index), 1)
        results: list[RunResult] = []
        for minute in range(60):
            results.append(runner.run("fetch-events"))
            assert not results[-1].errors, results[-1].errors
            if not results[-1].wants_next_run_now:
                break
            traveller.move_to(START + timedelta(minutes=minute + 1))
            simulator.store.add_random(START + timedelta(minutes=minute, seconds=30), 2)
        traveller.move_to(START + timedelta(hours=1))
        results.append(runner.run("fetch-events"))
    events = [event for result in results for event in result.pushed]
    outcome = compare(simulator.ground_truth(since=START - timedelta(days=2)), events)
    sizes = [len(result.pushed) for result in results]
    print(f"[first fetch] 2 days: {outcome.summary()}; {len(results)} runs, largest {max(sizes)}")
    assert outcome.exact, outcome.summary()
    assert max(sizes) <= 1000
    assert [result.wants_next_run_now for result in results[:-2]] == [True] * (len(results) - 2)


def busy_day_under_a_result_window(
    simulator_factory: Callable[..., Simulator], first_fetch: str | None
) -> tuple[Simulator, list[RunResult]]:
    """1,000 records in the ten hours before START under a result window of 200, then a new instance's runs.

    Six runs a minute apart, 20 records arriving before each, then a run an hour later.
    """
    simulator = simulator_factory(reading=Reading(result_window=200))
    params: dict[str, Any] = {"max_fetch": "1000"} | ({"first_fetch": first_fetch} if first_fetch else {})
    runner = make_runner(simulator, **params)
    results: list[RunResult] = []
    with time_machine.travel(START, tick=False) as traveller:
        for index in range(1000):
            simulator.store.add_random(START - timedelta(hours=10) + timedelta(seconds=36 * index), 1)
        for minute in range(6):
            traveller.move_to(START + timedelta(minutes=minute))
            results.append(runner.run("fetch-events"))
            for second in range(0, 60, 3):
                simulator.store.add_random(START + timedelta(minutes=minute, seconds=second + 1), 1)
        traveller.move_to(START + timedelta(hours=1))
        results.append(runner.run("fetch-events"))
    return simulator, results


def test_a_new_instance_under_a_result_window_starts_on_a_busy_day(
    simulator_factory: Callable[..., Simulator],
) -> None:
    """
    Given: an account refusing offset + first above 200, with 1,000 records earlier the same day
    When: a new instance (First fetch time: one minute) runs six times a minute apart, then an hour later
    Then: no run fails; every record from one minute before the first run arrives exactly once; only the
          first run spends a call learning the ceiling, and nothing is warned about
    """
    simulator, results = busy_day_under_a_result_window(simulator_factory, first_fetch=None)
    events = [event for result in results for event in result.pushed]
    outcome = compare(simulator.ground_truth(since=START - timedelta(minutes=1)), events)
    costs = [negotiation_calls(result) for result in results]
    print(f"[result window] new instance, ceiling 200: {outcome.summary()}; negotiation cost {costs[0]}, {costs[1]}")
    assert [result.errors for result in results] == [[]] * len(results)
    assert outcome.exact, outcome.summary()
    assert outcome.delivered == 121
    assert costs == [1] + [0] * (len(results) - 1)
    assert given_up_to_the_result_window([line for result in results for _level, line in result.logs]) == []


def test_a_first_fetch_deeper_than_a_result_window_warns_once_with_what_it_could_not_read(
    simulator_factory: Callable[..., Simulator],
) -> None:
    """
    Given: the same account, and a new instance whose First fetch time (12 hours) lies before all 1,000 records
    When: the same runs
    Then: no run fails; one run warns once, naming the ceiling and the day, with a count of records not
          collected that is exactly what is missing; nothing is duplicated, and everything else arrives
    """
    simulator, results = busy_day_under_a_result_window(simulator_factory, first_fetch="12 hours")
    events = [event for result in results for event in result.pushed]
    outcome = compare(simulator.ground_truth(since=START - timedelta(hours=12)), events)
    warnings = [line for result in results for _level, line in result.logs if RESULT_WINDOW_WARNING.search(line)]
    print(f"[result window] first fetch 12 hours, ceiling 200: {outcome.summary()}; warned: {warnings}")
    assert [result.errors for result in results] == [[]] * len(results)
    [warning] = warnings
    [stretch] = given_up_to_the_result_window(warnings)
    assert "past record 200" in warning and START.date().isoformat() in warning
    assert (outcome.missing, outcome.duplicated, outcome.unexpected) == (stretch.count, 0, 0)
    assert missing_outside(simulator.ground_truth(since=START - timedelta(hours=12)), events, [stretch]) == 0
    assert 0 < outcome.missing < 1000
