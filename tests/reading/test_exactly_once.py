"""Exactly once under every reading of what LivePerson leaves undocumented (in memory, fast).

Each test runs the integration's reading core (`read_audit_trail`, as fetch-events does) against an
`Account` (the one in-memory model of the Audit Trail) on a clock the test controls: runs every 30
minutes for three and a half days from 21:00 UTC, so every schedule crosses several UTC midnights
and the server's own midnights whatever its zone, and the window moves at least once. Records
arrive between runs: a trickle, bulk changes sharing one instant, identical twins and records
committed late behind the previous run's resume point.
"""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta

import LivePerson as integration
import pytest
from LivePerson_test import AuditTrail

from tests.reading.model import Account, Collector, RunReport, run_schedule, zone_of

START = datetime(2026, 3, 6, 21, 0, tzinfo=UTC)
STEP = timedelta(minutes=30)
DAYS = timedelta(days=3.5)
# Each DST zone starts two days before its own clock change of 2026, so the schedule crosses it.
DST_STARTS = {
    "US/Eastern": datetime(2026, 3, 6, 21, 0, tzinfo=UTC),  # 8 March, 07:00 UTC
    "Europe/London": datetime(2026, 3, 27, 21, 0, tzinfo=UTC),  # 29 March, 01:00 UTC
    "Australia/Sydney": datetime(2026, 4, 2, 21, 0, tzinfo=UTC),  # 4 April, 16:00 UTC
}


def account(
    cap: int | None = None,
    zone: str | None = None,
    inclusive: bool = True,
    precision: str = "tenths",
    start: datetime = START,
    history: int = 2000,
) -> Account:
    """An account with `history` records in the 40 hours before `start`, one every 72 s."""
    trail = AuditTrail(cap=cap, filter_zone=zone_of(zone), to_date_inclusive=inclusive)
    made = Account(trail, precision=precision)
    for index in range(history):
        made.add_random(start - timedelta(hours=40) + timedelta(seconds=72 * index), 1)
    return made


LARGEST_BURST = 70  # busy_account's bulk changes, twins included


def collect(made: Account, start: datetime = START, max_fetch: int = 1000, seed: int = 3) -> Collector:
    """Runs the whole schedule; after every run that did not ask for more, checks it kept up.

    That check holds when a page is larger than a burst: a twin split across the pages of a recent
    changeDate larger than a page waits until that changeDate is final (WindowScan's docstring).
    """
    collector = Collector(made, max_fetch=max_fetch)
    since = start - timedelta(hours=6)
    collector.start_at(since)
    pages_hold_bursts = made.trail.cap is None or made.trail.cap > LARGEST_BURST

    def kept_up(report: RunReport) -> None:
        delivered = sum(len(run.events) for run in collector.runs)
        assert delivered == made.count_since(since), f"run at {report.now} did not ask for more yet fell behind"

    run_schedule(collector, start, start + DAYS, STEP, seed=seed, on_quiet_run=kept_up if pages_hold_bursts else None)
    assert made.exact(collector.delivered(), since)
    assert max(len(json.dumps(run.last_run)) for run in collector.runs) <= integration.MARKS_BUDGET_BYTES + 4096
    return collector


@pytest.mark.parametrize("cap", [pytest.param(cap, id=f"cap-{cap}") for cap in (1, 7, 50, 100, 137, 500)])
def test_any_page_cap_is_read_exactly_once(cap: int) -> None:
    """
    Given: a server that returns at most `cap` records a call, whatever `first` asks for
    When: fetch runs every 30 minutes for 3.5 days, with a 6-hour backlog at the start
    Then: every record arrives exactly once, every quiet run had caught up, the window moved, and the
          collector ends knowing pages hold `cap` records
    """
    collector = collect(account(cap=cap, start=START), start=START)
    assert collector.largest == cap
    assert sum(1 for run in collector.runs if run.search_calls) >= 2, "the window never moved"


@pytest.mark.parametrize("cap", [pytest.param(cap, id=f"cap-{cap}") for cap in (1, 7, 50, 100, 137, 500)])
@pytest.mark.parametrize("twin_rate", [pytest.param(0.0, id="no-twins"), pytest.param(0.1, id="twins")])
def test_a_backlog_costs_at_most_ceil_n_over_k_plus_two_calls(cap: int, twin_rate: float) -> None:
    """
    Given: 1,500 records older than L waiting in bursts of up to five, with or without identical twins, a server
           capped at `cap`, a placed cursor
    When: one run reads them all
    Then: at most ceil(N/K) + 2 Audit Trail calls, plus two for each page boundary that split twins (that
          changeDate is read again whole, its two parts cannot tell twins from a repeat, and the page after the
          re-read starts where it ends); no re-read without twins
    """
    made = account(cap=cap, history=0)
    rng = random.Random(cap)
    since = START - timedelta(hours=3)
    while made.count_since(since) < 1500:
        made.add_random(since + timedelta(seconds=rng.uniform(0, 7000)), rng.choice([1, 1, 2, 5]), twin_rate)
    window = integration.plan_window(None, since, START + integration.CLOCK_SKEW)
    offset = sum(1 for item in made.trail.window_answer(window) if item.time < since)
    collector = Collector(made, max_fetch=100_000)
    collector.last_run = integration.Cursor(since=since, window=window, offset=offset).to_last_run()
    report = collector.fetch(START)
    assert len(report.events) == made.count_since(since)
    offsets = [query["offset"] for query in made.trail.queries]
    read_again = sum(1 for earlier, later in zip(offsets, offsets[1:], strict=False) if later < earlier)
    assert read_again == 0 or twin_rate > 0
    assert report.audit_calls <= math.ceil(len(report.events) / cap) + 2 + 2 * read_again


@pytest.mark.parametrize(
    "zone",
    [
        pytest.param(None, id="follows-timezone-argument"),
        pytest.param("-12:00", id="utc-minus-12"),
        pytest.param("-05:00", id="utc-minus-5"),
        pytest.param("+05:30", id="utc-plus-5-30"),
        pytest.param("+14:00", id="utc-plus-14"),
        pytest.param("US/Eastern", id="us-eastern-dst"),
        pytest.param("Europe/London", id="europe-london-dst"),
        pytest.param("Australia/Sydney", id="australia-sydney-dst"),
    ],
)
@pytest.mark.parametrize("inclusive", [pytest.param(True, id="toDate-inclusive"), pytest.param(False, id="exclusive")])
def test_any_day_filter_zone_is_read_exactly_once(zone: str | None, inclusive: bool) -> None:
    """
    Given: a server reading fromDate/toDate in `zone` (results still in UTC), toDate inclusive or not
    When: fetch runs across several UTC midnights and the server's own (and its DST change, if any)
    Then: every record arrives exactly once and every quiet run had caught up
    """
    start = DST_STARTS.get(zone or "", START)
    collect(account(zone=zone, inclusive=inclusive, start=start), start=start)


@pytest.mark.parametrize("precision", [pytest.param(name, id=name) for name in ("tenths", "millis", "seconds")])
def test_any_change_date_precision_is_read_exactly_once(precision: str) -> None:
    """
    Given: changeDate rendered with one fractional digit, three, or none (more ties within a second)
    When: fetch runs the schedule under a 137-record page cap
    Then: every record arrives exactly once
    """
    collect(account(cap=137, precision=precision))


def test_combination_of_cap_eastern_filters_and_exclusive_to_date() -> None:
    """
    Given: a 100-record cap, day filters in US/Eastern and an exclusive toDate, with seconds-only changeDate
    When: fetch runs the schedule across UTC and Eastern midnights and the US DST change
    Then: every record arrives exactly once
    """
    start = DST_STARTS["US/Eastern"]
    collect(account(cap=100, zone="US/Eastern", inclusive=False, precision="seconds", start=start), start=start)


@pytest.mark.parametrize("cap", [pytest.param(cap, id=f"cap-{cap}") for cap in (50, 137, 500)])
def test_steady_state_is_one_call_per_run(cap: int) -> None:
    """
    Given: a collector that has caught up, on an account with up to four records a minute
    When: runs follow each other every minute for three hours
    Then: every run makes exactly one audit call, and every record arrives once
    """
    made = account(cap=cap)
    collector = Collector(made)
    collector.start_at(START - timedelta(hours=6))
    collector.fetch(START)
    rng = random.Random(5)
    now = START
    for _ in range(180):
        now += timedelta(minutes=1)
        for _ in range(rng.randint(0, 4)):
            made.add_random(now - timedelta(seconds=rng.uniform(0, 59)), 1)
        collector.fetch(now)
    assert all(run.audit_calls == 1 for run in collector.runs[-180:])
    assert made.exact(collector.delivered(), START - timedelta(hours=6))


def run_phases(collector: Collector, caps: tuple[int, ...]) -> None:
    """For each cap: a 700-record burst right after the last run, then 30 runs half an hour apart.

    Every run that does not ask for the next run at once must have caught up.
    """
    made, since = collector.account, START - timedelta(hours=30)
    collector.start_at(since)
    rng = random.Random(8)
    now = START
    for cap in caps:
        made.trail.cap = cap
        made.add_random(now + timedelta(seconds=30), 700)
        for _ in range(30):
            now += STEP
            made.add_random(now - timedelta(seconds=rng.uniform(0, 600)), rng.randint(1, 40))
            report = collector.fetch(now)
            if not report.next_trigger:
                delivered = sum(len(run.events) for run in collector.runs)
                assert delivered == made.count_since(since), f"fell behind at {now} under cap {cap}"
    assert made.exact(collector.delivered(), since)


def test_a_server_whose_cap_changes_is_relearned_at_once() -> None:
    """
    Given: a server capped at 500, then at 60, then at 300, a burst of 700 records after each change
    When: fetch runs every half hour
    Then: exactly once, every quiet run had caught up, and the collector ends knowing pages hold 300
    """
    collector = Collector(account(cap=500), max_fetch=5000)
    run_phases(collector, (500, 60, 300))
    assert collector.largest == 300


def test_a_cap_falling_to_100_is_learned_in_the_run_that_meets_it() -> None:
    """
    Given: a server capped at 500 whose cap drops to exactly 100
    When: fetch runs every half hour after a burst of 700 records
    Then: nothing is lost or duplicated, every quiet run has caught up, knowing pages hold 100
    """
    collector = Collector(account(cap=500), max_fetch=5000)
    run_phases(collector, (500, 100))
    assert collector.largest == 100


def test_moving_the_window_costs_a_logarithmic_search() -> None:
    """
    Given: a caught-up collector and 40,000 records over the last two days
    When: runs continue hourly past the moments the window must drop its oldest day
    Then: each run that moves it reads at most ceil(log2(N/K)) + 2 pages to find its place (N: records in the
          window, at least K = 500), and every record arrives once
    """
    made = account(history=0)
    for index in range(40_000):
        made.add_random(START - timedelta(days=2) + timedelta(seconds=4.32 * index), 1)
    collector = Collector(made)
    collector.start_at(START - timedelta(minutes=1))
    now = START
    for _ in range(72):
        now += timedelta(hours=1)
        made.add_random(now - timedelta(minutes=30), 3)
        collector.fetch(now)
    moves = [run for run in collector.runs[1:] if run.search_calls]
    assert moves, "the window never moved"
    for run in moves:
        window = integration.Window(*(datetime.fromisoformat(day).date() for day in run.last_run["window"]))
        records = len(made.trail.window_answer(window))
        assert run.search_calls <= math.ceil(math.log2(max(1, records / integration.PAGE_REQUEST))) + 2
    assert made.exact(collector.delivered(), START - timedelta(minutes=1))


@pytest.mark.parametrize("cap", [pytest.param(cap, id=f"cap-{cap}") for cap in (100, 500)])
def test_records_committed_behind_the_read_during_a_run(cap: int) -> None:
    """
    Given: a busy account where, after every Audit Trail answer, records may be committed with a time up to
           two seconds before the newest record (behind where the run is reading)
    When: fetch runs every minute for three hours under a page cap that makes runs read several pages
    Then: every record arrives exactly once
    """
    made = account(cap=cap)
    rng = random.Random(11)
    clock = {"now": START}

    def commit_late(_trail: AuditTrail) -> None:
        if rng.random() < 0.3:
            made.add_random(clock["now"] - timedelta(seconds=rng.uniform(0.1, 2.0)), rng.randint(1, 3))

    made.trail.after_answer = commit_late
    collector = Collector(made, max_fetch=5000)
    collector.start_at(START - timedelta(minutes=30))
    now = START
    for _ in range(180):
        made.add_random(now - timedelta(seconds=rng.uniform(2, 59)), rng.randint(5, 40), twin_rate=0.1)
        clock["now"] = now
        collector.fetch(now)
        now += timedelta(minutes=1)
    made.trail.after_answer = None
    while collector.fetch(now).next_trigger:
        now += timedelta(seconds=1)
    assert made.exact(collector.delivered(), START - timedelta(minutes=30))


def test_a_six_day_outage_is_caught_up_window_after_window() -> None:
    """
    Given: records all through six days during which no fetch ran
    When: fetch runs again with max_fetch 500 until nothing is waiting
    Then: it asks for the next run at once until caught up, and every record arrives exactly once
    """
    made = account(cap=250, zone="+14:00", inclusive=False, history=0)
    collector = Collector(made, max_fetch=500)
    collector.start_at(START)
    for index in range(6 * 24 * 12):
        made.add_random(START + timedelta(minutes=5 * index), 1 + index % 3)
    now = START + timedelta(days=6, minutes=1)
    runs = 0
    while collector.fetch(now).next_trigger:
        runs += 1
        assert runs < 100
    assert runs >= 6
    assert len({run.last_run["window"][0] for run in collector.runs}) >= 3, "read in fewer than three windows"
    assert made.exact(collector.delivered(), START)
