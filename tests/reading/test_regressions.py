"""One regression test per failure class the reading core rebuild fixed (see the README's reading section).

Each drives fetch-events through main() (tests/reading/engine.py) and asserts what reached XSIAM,
what was saved, and what it cost, across runs. They touch no internals, so they run on the release
before the rebuild as well; there, each of them fails (the closing note of that change says how).
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from LivePerson_test import AuditTrail, record, render

from tests.reading.engine import Engine

START = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)


def made(moment: datetime, name: str) -> dict[str, object]:
    return record(render(moment), objectName=name)


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
