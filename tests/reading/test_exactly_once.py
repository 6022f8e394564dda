"""Exactly once under every reading of what LivePerson leaves undocumented (in memory, fast).

Each test runs the integration's reading core (`read_audit_trail`, as fetch-events does) against a
`ModelAccount` answering with the simulator's own rules, on a clock the test controls: runs every
30 minutes for three and a half days from 21:00 UTC, so every schedule crosses several UTC
midnights and the server's own midnights whatever its zone, and the window moves at least once.
Records arrive between runs: a trickle, bulk changes sharing one instant, identical twins and
records committed late behind the previous run's resume point.
"""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta

import LivePerson as integration
import pytest

from devtools.simulator.dataset import AuditStore
from devtools.simulator.readings import Reading
from devtools.truth import compare
from tests.reading.model import Collector, ModelAccount, RunReport, run_schedule

START = datetime(2026, 3, 6, 21, 0, tzinfo=UTC)
STEP = timedelta(minutes=30)
DAYS = timedelta(days=3.5)
# Each DST zone starts two days before its own clock change of 2026, so the schedule crosses it.
DST_STARTS = {
    "US/Eastern": datetime(2026, 3, 6, 21, 0, tzinfo=UTC),  # 8 March, 07:00 UTC
    "Europe/London": datetime(2026, 3, 27, 21, 0, tzinfo=UTC),  # 29 March, 01:00 UTC
    "Australia/Sydney": datetime(2026, 4, 2, 21, 0, tzinfo=UTC),  # 4 April, 16:00 UTC
}


def seeded_account(reading: Reading, start: datetime, history: int = 2000) -> ModelAccount:
    """An account with `history` records in the 40 hours before `start`, one every 72 s."""
    account = ModelAccount(reading)
    for index in range(history):
        account.store.add_random(start - timedelta(hours=40) + timedelta(seconds=72 * index), 1)
    return account


def collect(reading: Reading, start: datetime = START, max_fetch: int = 1000, seed: int = 3) -> Collector:
    """Runs the whole schedule, checking after every run that did not ask for more that it kept up."""
    account = seeded_account(reading, start)
    collector = Collector(account, max_fetch=max_fetch)
    since = start - timedelta(hours=6)
    collector.start_at(since)

    def kept_up(report: RunReport) -> None:
        delivered = sum(len(run.events) for run in collector.runs)
        assert delivered == account.count_since(since), f"run at {report.now} did not ask for more yet fell behind"

    run_schedule(collector, start, start + DAYS, STEP, seed=seed, on_quiet_run=kept_up)
    outcome = compare(account.truth(since), collector.delivered())
    assert outcome.exact, outcome.summary()
    return collector


def assert_call_bounds(collector: Collector, cap: int) -> None:
    """Per run: at most ceil(N/K') + 2 page reads for N new records, plus O(log N) reads when the window moved.

    K' is the cap less the one record a page of recent records re-reads to see records committed
    behind it during the run (K itself for a cap of one, which leaves no room for that).
    """
    per_page = cap - 1 if cap > 1 else 1
    for run in collector.runs[1:]:
        page_reads = run.audit_calls - run.search_reads
        bound = math.ceil(len(run.events) / per_page) + 2
        assert page_reads <= bound, f"{run.now}: {page_reads} reads for {len(run.events)} records"
        if run.search_reads:
            assert run.window_moved
            assert run.search_reads <= 2 * math.ceil(math.log2(len(collector.account.store) + 1)) + 2


def assert_state_small(collector: Collector) -> None:
    assert max(len(json.dumps(run.last_run)) for run in collector.runs) <= 4096


@pytest.mark.parametrize("cap", [pytest.param(cap, id=f"cap-{cap}") for cap in (1, 7, 50, 100, 137, 500)])
def test_any_page_cap_is_read_exactly_once(cap: int) -> None:
    """
    Given: a server that returns at most `cap` records a call, whatever `first` asks for
    When: fetch runs every 30 minutes for 3.5 days, with a 6-hour backlog at the start
    Then: every record arrives exactly once, every quiet run had caught up, calls stay within ceil(N/K) + 2
          (plus a logarithmic search when the window moves), and the cap is learned
    """
    collector = collect(Reading(page_cap=cap))
    assert_call_bounds(collector, cap)
    assert_state_small(collector)
    assert collector.knowledge.size == cap
    assert collector.knowledge.proven
    assert sum(1 for run in collector.runs if run.search_reads) >= 2, "the window never moved"


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
    collector = collect(Reading(filter_zone=zone, to_date_inclusive=inclusive), start=DST_STARTS.get(zone or "", START))
    assert_call_bounds(collector, integration.PAGE_REQUEST)


@pytest.mark.parametrize("precision", [pytest.param(name, id=name) for name in ("tenths", "millis", "seconds")])
def test_any_change_date_precision_is_read_exactly_once(precision: str) -> None:
    """
    Given: changeDate rendered with one fractional digit, three, or none (more ties within a second)
    When: fetch runs the schedule under a 137-record page cap
    Then: every record arrives exactly once
    """
    collect(Reading(precision=precision, page_cap=137))


def test_combination_of_cap_eastern_filters_and_exclusive_to_date() -> None:
    """
    Given: a 100-record cap, day filters in US/Eastern and an exclusive toDate, with seconds-only changeDate
    When: fetch runs the schedule across UTC and Eastern midnights and the US DST change
    Then: every record arrives exactly once, within the call bounds
    """
    reading = Reading(page_cap=100, filter_zone="US/Eastern", to_date_inclusive=False, precision="seconds")
    collector = collect(reading, start=DST_STARTS["US/Eastern"])
    assert_call_bounds(collector, 100)


@pytest.mark.parametrize("cap", [pytest.param(cap, id=f"cap-{cap}") for cap in (50, 137, 500)])
def test_steady_state_is_one_call_per_run(cap: int) -> None:
    """
    Given: a collector that has learned the server's cap, on an account with a few records a minute
    When: runs follow each other every minute for three hours
    Then: each run makes exactly one audit call, except one check of the page size an hour
    """
    account = seeded_account(Reading(page_cap=cap), START)
    collector = Collector(account)
    collector.start_at(START - timedelta(hours=6))
    collector.fetch(START)
    rng = random.Random(5)
    now = START
    for _ in range(180):
        now += timedelta(minutes=1)
        for _ in range(rng.randint(0, 4)):
            account.store.add_random(now - timedelta(seconds=rng.uniform(0, 59)), 1)
        collector.fetch(now)
    steady = collector.runs[-180:]
    assert all(run.audit_calls <= 2 for run in steady)
    assert sum(run.audit_calls == 2 for run in steady) <= 4  # the hourly check
    assert compare(account.truth(START - timedelta(hours=6)), collector.delivered()).exact


def run_phases(collector: Collector, caps: tuple[int, ...], grace: timedelta = timedelta(0)) -> None:
    """For each cap: a 700-record burst right after the last run, then 30 runs half an hour apart.

    Every run that does not ask for the next run at once, `grace` or more after a change, must have caught up.
    """
    account, since = collector.account, START - timedelta(hours=30)
    collector.start_at(since)
    rng = random.Random(8)
    now = START
    for cap in caps:
        account.reading = Reading(page_cap=cap)
        account.store.add_random(now + timedelta(seconds=30), 700)
        changed = now
        for _ in range(30):
            now += STEP
            account.store.add_random(now - timedelta(seconds=rng.uniform(0, 600)), rng.randint(1, 40))
            report = collector.fetch(now)
            if now - changed >= grace and not report.next_trigger:
                delivered = sum(len(run.events) for run in collector.runs)
                assert delivered == account.count_since(since), f"fell behind at {now} under cap {cap}"
    assert compare(account.truth(since), collector.delivered()).exact


def test_a_server_whose_cap_changes_is_relearned_at_once() -> None:
    """
    Given: a server capped at 500, then at 60 (less than the remembered tail), then at 300
    When: fetch runs with a burst of records after each change
    Then: exactly once, every quiet run had caught up, and the collector ends knowing the cap is 300
    """
    collector = Collector(seeded_account(Reading(page_cap=500), START), max_fetch=5000)
    run_phases(collector, (500, 60, 300))
    assert collector.knowledge.size == 300


def test_a_cap_shrinking_to_the_tail_size_is_relearned_within_the_hour() -> None:
    """
    Given: a server capped at 500 whose cap drops to exactly 100, the size of the remembered tail, so that
           a run re-reading its tail cannot tell a capped page from the end of the records
    When: fetch runs every half hour after a burst of 700 records
    Then: nothing is lost or duplicated; the hourly check reads on, sees two full pages of 100 in a row,
          and from an hour after the change every quiet run has caught up, knowing the cap is 100
    """
    collector = Collector(seeded_account(Reading(page_cap=500), START), max_fetch=5000)
    run_phases(collector, (500, 100), grace=timedelta(hours=1))
    assert collector.knowledge.size == 100
    assert collector.knowledge.proven


def test_moving_the_window_costs_a_logarithmic_search() -> None:
    """
    Given: a caught-up collector and 40,000 records over the last two days
    When: runs continue past the moment the window must drop its oldest day
    Then: the run that moves it reads at most 2·log2(N) + 2 single records to find its place, then one page
    """
    account = ModelAccount(Reading())
    for index in range(40_000):
        account.store.add_random(START - timedelta(days=2) + timedelta(seconds=4.32 * index), 1)
    collector = Collector(account)
    collector.start_at(START - timedelta(minutes=1))
    now = START
    for _ in range(72):
        now += timedelta(hours=1)
        account.store.add_random(now - timedelta(minutes=30), 3)
        collector.fetch(now)
    moves = [run for run in collector.runs[1:] if run.search_reads]
    assert moves, "the window never moved"
    bound = 2 * math.ceil(math.log2(len(account.store))) + 2
    assert all(run.search_reads <= bound and run.audit_calls - run.search_reads <= 2 for run in moves)
    assert compare(account.truth(START - timedelta(minutes=1)), collector.delivered()).exact


@pytest.mark.parametrize("cap", [pytest.param(cap, id=f"cap-{cap}") for cap in (100, 500)])
def test_records_committed_behind_the_read_during_a_run(cap: int) -> None:
    """
    Given: a busy account where, after every Audit Trail answer, records are committed with a time up to
           two seconds before the newest record (so they land behind where the run is reading), fewer
           than half a page of records being stamped after them
    When: fetch runs every minute for three hours under a page cap that makes runs read several pages
    Then: every record arrives exactly once: a run that sees the answer move stops and the next one
          re-reads from the floor, where those records lie
    """
    account = seeded_account(Reading(page_cap=cap), START)
    rng = random.Random(11)
    clock = {"now": START}

    def commit_late(store: AuditStore) -> None:
        if rng.random() < 0.3:
            store.add_random(clock["now"] - timedelta(seconds=rng.uniform(0.1, 2.0)), rng.randint(1, 3))

    account.between_reads = commit_late
    collector = Collector(account, max_fetch=5000)
    collector.start_at(START - timedelta(minutes=30))
    now = START
    for _ in range(180):
        account.store.add_random(now - timedelta(seconds=rng.uniform(2, 59)), rng.randint(5, 40), twin_rate=0.1)
        clock["now"] = now
        collector.fetch(now)
        now += timedelta(minutes=1)
    account.between_reads = None
    while collector.fetch(now).next_trigger:
        now += timedelta(seconds=1)
    assert compare(account.truth(START - timedelta(minutes=30)), collector.delivered()).exact


def test_a_six_day_outage_is_caught_up_window_after_window() -> None:
    """
    Given: records all through six days during which no fetch ran
    When: fetch runs again with max_fetch 500 until nothing is waiting
    Then: it asks for the next run at once until caught up, and every record arrives exactly once
    """
    account = ModelAccount(Reading(page_cap=250, filter_zone="+14:00", to_date_inclusive=False))
    collector = Collector(account, max_fetch=500)
    collector.start_at(START)
    store: AuditStore = account.store
    for index in range(6 * 24 * 12):
        store.add_random(START + timedelta(minutes=5 * index), 1 + index % 3)
    now = START + timedelta(days=6, minutes=1)
    runs = 0
    while collector.fetch(now).next_trigger:
        runs += 1
        assert runs < 100
    assert runs >= 6
    assert len({run.last_run["window"][0] for run in collector.runs}) >= 3, "read in fewer than three windows"
    assert compare(account.truth(START), collector.delivered()).exact
