"""One regression test per failure class the reading core rebuild fixed (see the README's reading section).

Each drives fetch-events through main() (tests/reading/engine.py) and asserts what reached XSIAM,
what was saved, and what it cost, across runs. They touch no internals, so they run on the release
before the rebuild as well; there, each of them fails (the closing note of that change says how).
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import LivePerson as integration
from LivePerson_test import AuditTrail, record, render

from tests.reading.engine import Engine

START = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)


def made(moment: datetime, name: str) -> dict[str, object]:
    return record(render(moment), objectName=name)


def commit_after_first_answer(trail: AuditTrail, item: dict[str, object], committed: datetime) -> None:
    """Commits `item` once, right after the next answer: a record committed late between two pages of a run."""

    def commit_once(answered: AuditTrail) -> None:
        answered.after_answer = None
        answered.add(item, committed=committed)

    trail.after_answer = commit_once


def exact(trail: AuditTrail, engine: Engine, since: datetime) -> None:
    missing, duplicated = trail.delivered_exactly(engine.delivered(), since)
    assert (missing, duplicated) == (0, 0), f"{missing} missing, {duplicated} duplicated"


def test_records_committed_late_during_a_backfill_with_live_arrivals_all_arrive() -> None:
    """
    Given: 1,500 records from the last two hours to backfill 200 a run, while 40 new records arrive every ten
           seconds and three more are committed 20 s to 2 minutes after their changeDate (within L), behind records
           already read
    When: fetch runs every ten seconds for five minutes, then until nothing is waiting
    Then: every record arrives exactly once
    """
    rng = random.Random(1)
    trail = AuditTrail()
    trail.add(
        *[made(START - timedelta(hours=2) + timedelta(seconds=4.8 * index), f"h{index}") for index in range(1500)]
    )
    engine = Engine(trail, max_fetch=200)
    engine.start_at(START - timedelta(hours=2))
    now, serial = START, 0
    for _ in range(30):
        for _ in range(40):
            trail.add(made(now - timedelta(seconds=rng.uniform(0, 10)), f"n{serial}"))
            serial += 1
        for _ in range(3):
            trail.add(made(now - timedelta(seconds=rng.uniform(20, 120)), f"late{serial}"), committed=now)
            serial += 1
        engine.fetch(now)
        now += timedelta(seconds=10)
    engine.drain(now)
    exact(trail, engine, START - timedelta(hours=2))


def test_collection_goes_on_when_the_page_cap_falls_below_what_a_run_rereads() -> None:
    """
    Given: a collector caught up on a busy account whose pages held 500 records, then a server that answers at
           most 100 records a call, with 150 new records before each run
    When: fetch runs every minute for twenty minutes
    Then: every run that did not ask for more has delivered everything there is, and every record arrives once
    """
    trail = AuditTrail()
    engine = Engine(trail)
    engine.start_at(START - timedelta(minutes=10))
    trail.add(*[made(START - timedelta(minutes=10) + timedelta(seconds=index), f"b{index}") for index in range(590)])
    engine.fetch(START)
    trail.cap = 100
    now = START
    for minute in range(1, 21):
        now = START + timedelta(minutes=minute)
        trail.add(*[made(now - timedelta(seconds=59 - index * 0.39), f"m{minute}n{index}") for index in range(150)])
        result = engine.fetch(now)
        if not result.wants_next_run_now:
            assert trail.delivered_exactly(engine.delivered(), START - timedelta(minutes=10)) == (0, 0), minute
    engine.drain(now)
    exact(trail, engine, START - timedelta(minutes=10))


def test_ties_returned_in_a_new_order_on_every_answer_arrive_once() -> None:
    """
    Given: a server capped at 100 records a call that returns the records of one second in a new order on every
           answer, and bursts of 20 to 60 records sharing one second, some of them twins
    When: fetch runs every minute for half an hour
    Then: every record arrives exactly once
    """
    rng = random.Random(3)
    trail = AuditTrail(cap=100, shuffle_ties=True, seed=3)
    engine = Engine(trail)
    engine.start_at(START - timedelta(minutes=1))
    now = START
    for minute in range(30):
        now = START + timedelta(minutes=minute)
        for burst in range(4):
            moment = now - timedelta(seconds=50 - 12 * burst)
            batch = [made(moment, f"m{minute}b{burst}n{index}") for index in range(rng.randint(20, 60))]
            trail.add(*batch, *[dict(item) for item in batch[:3]])
        engine.fetch(now)
    engine.drain(now + timedelta(minutes=10))
    exact(trail, engine, START - timedelta(minutes=1))


def test_a_run_that_fails_after_its_first_page_sends_nothing_twice() -> None:
    """
    Given: a collector that read 300 recent records while pages held 500, then a server answering 30 records a
           call that fails from its second answer on (retries included), and 40 new records
    When: that run pushes what it read and saves, and the next runs read on with the server healthy
    Then: every record arrives exactly once
    """
    trail = AuditTrail()
    engine = Engine(trail)
    engine.start_at(START - timedelta(minutes=3))
    trail.add(*[made(START - timedelta(seconds=170 - 0.5 * index), f"a{index}") for index in range(300)])
    engine.fetch(START)
    trail.cap = 30
    trail.add(*[made(START + timedelta(seconds=10 + index / 10), f"b{index}") for index in range(40)])
    calls = len(trail.queries)
    trail.fail = lambda call: call > calls
    assert engine.fetch(START + timedelta(seconds=20)).errors
    trail.fail = None
    engine.drain(START + timedelta(seconds=30))
    exact(trail, engine, START - timedelta(minutes=3))


def test_a_catch_up_over_windows_with_pages_of_varying_length_loses_nothing() -> None:
    """
    Given: six days of records to catch up, and a server whose pages vary between 300 and 500 records (a cap by
           size, not count)
    When: fetch runs until nothing is waiting
    Then: every record arrives exactly once
    """
    trail = AuditTrail(page_length=lambda call: 300 + (call * 71) % 201, total_count=None)
    since = START - timedelta(days=6)
    trail.add(*[made(since + timedelta(seconds=60 * index), f"r{index}") for index in range(6 * 24 * 60)])
    engine = Engine(trail, max_fetch=100_000)
    engine.start_at(since)
    engine.drain(START + timedelta(minutes=1))
    exact(trail, engine, since)


def test_max_fetch_holds_after_a_quiet_spell() -> None:
    """
    Given: a collector that delivered a few records, then three days of hourly runs with nothing new, then 300
           records at once, and max_fetch 10
    When: fetch runs until nothing is waiting
    Then: no run pushes more than 10, and every record arrives exactly once
    """
    trail = AuditTrail()
    engine = Engine(trail, max_fetch=10)
    engine.start_at(START - timedelta(minutes=1))
    trail.add(*[made(START - timedelta(seconds=30 - index), f"early{index}") for index in range(5)])
    engine.fetch(START)
    now = START
    for hour in range(1, 73):
        now = START + timedelta(hours=hour)
        engine.fetch(now)
    trail.add(*[made(now + timedelta(seconds=index / 10), f"burst{index}") for index in range(300)])
    engine.drain(now + timedelta(minutes=1))
    assert max(len(run.pushed) for run in engine.runs) <= 10
    exact(trail, engine, START - timedelta(minutes=1))


def test_a_first_run_on_a_busy_account_costs_a_logarithmic_search() -> None:
    """
    Given: a new instance on an account whose window already holds 20,000 records, three of them new
    When: the first fetch runs
    Then: it pushes those three with at most ceil(log2(N/K)) + 2 audit calls (K = 500)
    """
    trail = AuditTrail()
    trail.add(
        *[made(START - timedelta(hours=13) + timedelta(seconds=2.3 * index), f"r{index}") for index in range(20_000)]
    )
    trail.add(*[made(START - timedelta(seconds=20 + index), f"new{index}") for index in range(3)])
    engine = Engine(trail)
    result = engine.fetch(START)
    assert sorted(event["objectName"] for event in result.pushed) == ["new0", "new1", "new2"]
    assert result.calls["audit"] <= math.ceil(math.log2(20_003 / 500)) + 2


# ---------------------------------------------------------------------- found by review of the rebuilt core


def test_twins_at_the_end_of_a_page_filled_by_one_recent_changedate_are_not_taken_for_a_join() -> None:
    """
    Given: a recent changeDate of 150 records under pages of 100, whose 99th and 100th records are
           identical twins, and a record committed 4 minutes late (within L) before it after the first page
    When: the collector reads it (the next page starts one record early to check that nothing moved)
    Then: the shifted overlap record, a twin of the page's last one, is not taken as proof that the
          pages join: every record arrives once
    """
    now = START
    trail = AuditTrail(cap=100)
    bulk = now - timedelta(minutes=3)
    twin = made(bulk, "twin")
    trail.add(*[made(bulk, f"g{i}") for i in range(98)], twin, dict(twin))
    trail.add(*[made(bulk, f"g{i}") for i in range(100, 150)])
    engine = Engine(trail, max_fetch=5000)
    since = now - timedelta(minutes=4, seconds=30)
    engine.start_at(since)
    commit_after_first_answer(trail, made(now - timedelta(minutes=4), "late"), now)
    engine.fetch(now)
    trail.after_answer = None
    engine.drain(now + timedelta(minutes=10))
    exact(trail, engine, since)


def test_a_changedate_kept_as_a_count_is_not_summed_across_pages_that_did_not_join() -> None:
    """
    Given: a bulk change of 4,500 records in one recent second, delivered in part (max_fetch 4,200) and
           kept as a count (more than the marks hold), then a record committed before it while the next
           run reads it
    When: the runs go on until nothing is waiting
    Then: the offsets that moved between two pages do not make the count re-deliver records: every
          record arrives once
    """
    now = START
    trail = AuditTrail()
    bulk = now - timedelta(minutes=2)
    trail.add(*[made(bulk, f"g{i}") for i in range(4500)])
    engine = Engine(trail, max_fetch=4200)
    since = now - timedelta(minutes=2, seconds=30)
    engine.start_at(since)  # the late record is older than this: not owed, it only moves offsets
    engine.fetch(now)
    commit_after_first_answer(trail, made(now - timedelta(minutes=3), "late"), now + timedelta(seconds=5))
    engine.fetch(now + timedelta(seconds=5))
    trail.after_answer = None
    engine.drain(now + timedelta(minutes=10))
    exact(trail, engine, since)


def test_the_marks_stay_within_their_bound_when_a_big_changedate_did_not_join() -> None:
    """
    Given: L of 30 minutes; a changeDate of 150 records 20 minutes ago under pages of 100, then 3,000
           records of their own changeDates, and a record committed 21 minutes late between two pages
    When: one run reads them
    Then: the saved marks stay within MARKS_BUDGET_BYTES even though the big changeDate's parts may not
          have joined (the covered span shrinks instead, and the run says how far back it still looks)
    """
    now = START
    trail = AuditTrail(cap=100)
    bulk = now - timedelta(minutes=20)
    trail.add(*[made(bulk, f"g{i}") for i in range(150)])
    trail.add(*[made(bulk + timedelta(seconds=1 + 0.3 * i), f"r{i}") for i in range(3000)])
    engine = Engine(trail, max_fetch=5000, late_commit_minutes=30)
    engine.start_at(now - timedelta(minutes=25))
    commit_after_first_answer(trail, made(now - timedelta(minutes=21), "late"), now)
    result = engine.fetch(now)
    assert result.last_run is not None and result.pushed
    assert len(str(result.last_run.get("marks", ""))) <= integration.MARKS_BUDGET_BYTES


def test_with_the_largest_l_records_newer_than_the_window_still_arrive_at_once() -> None:
    """
    Given: L at its largest, collection started a day ago, and a record 15 minutes old lying more than
           22 hours after the day-old one (past what a window placed from L back could trust, had L been a day)
    When: the collector runs a few times
    Then: the new record arrives in the first run, and no run spins through window after window
    """
    day = datetime(2026, 3, 4, tzinfo=UTC)
    trail = AuditTrail()
    trail.add(made(day + timedelta(days=1, hours=11), "old"))
    trail.add(made(day + timedelta(days=2, hours=10, minutes=15), "new"))
    engine = Engine(trail, max_fetch=5000, late_commit_minutes=integration.MAX_LATE_COMMIT_MINUTES)
    engine.start_at(day + timedelta(days=1, hours=10))
    now = day + timedelta(days=2, hours=10, minutes=30)
    first = engine.fetch(now)
    assert [event["objectName"] for event in first.pushed] == ["old", "new"]
    for _ in range(3):
        now += timedelta(seconds=10)
        assert engine.fetch(now).calls["audit"] <= 2
