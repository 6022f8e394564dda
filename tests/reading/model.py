"""The reading tests' account and collector, on the one in-memory model of the Audit Trail.

`Account` is `AuditTrail` (the unit tests' model, in LivePerson_test.py) filled with realistic
records: the simulator's vocabulary of objects, originators, LPA changes and automatic updates,
bulk changes in one instant and identical twins, rendered with the precision a reading of
LivePerson may use. `Collector` plays the XSIAM engine around the reading core: it keeps
`lastRun` as JSON and the largest page between runs and counts each run's calls, so a test can run
hundreds of fetches across midnights in well under a second.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import LivePerson as integration
from LivePerson_test import AuditTrail, canonical

from devtools.simulator.dataset import AuditStore
from devtools.simulator.readings import render_change_date


@dataclass
class Account:
    """An account's records and how its Audit Trail answers (see AuditTrail's knobs)."""

    trail: AuditTrail = field(default_factory=AuditTrail)
    precision: str = "tenths"
    seed: int = 1

    def __post_init__(self) -> None:
        self.fields = AuditStore(seed=self.seed)  # only its record vocabulary and random stream are used
        self.resolution = timedelta(milliseconds=1 if self.precision == "millis" else 100)

    def add_random(self, moment: datetime, count: int = 1, twin_rate: float = 0.0) -> None:
        """`count` records in one instant (a bulk change), some of them identical twins, as AuditStore.add_random."""
        moment = moment.astimezone(UTC)
        moment -= timedelta(microseconds=moment.microsecond % (self.resolution // timedelta(microseconds=1)))
        rendered = render_change_date(moment, self.precision)
        for _ in range(count):
            roll = self.fields.random.random()
            kind = "lpa" if roll < 0.05 else ("automatic" if roll < 0.10 else "admin")
            values, _lpa, _automatic = self.fields.make_fields(kind)
            item = {**values, "changeDate": rendered}
            self.trail.add(item)
            if self.fields.random.random() < twin_rate:
                self.trail.add(dict(item))

    def count_since(self, since: datetime) -> int:
        return sum(1 for item in self.trail.stored if item.time >= since)

    def exact(self, delivered: list[dict[str, Any]], since: datetime) -> bool:
        return self.trail.delivered_exactly(delivered, since) == (0, 0)


@dataclass
class RunReport:
    """One fetch run, as the engine sees it."""

    now: datetime
    events: list[dict[str, Any]]
    next_trigger: bool
    audit_calls: int
    search_calls: int
    window_moved: bool
    last_run: dict[str, Any]


@dataclass
class Collector:
    """Runs the reading core as fetch-events does, keeping `lastRun` (as JSON) and the largest page."""

    account: Account
    max_fetch: int = 5000
    late_commit: timedelta = integration.DEFAULT_LATE_COMMIT
    last_run: dict[str, Any] = field(default_factory=dict)
    largest: int = 0
    runs: list[RunReport] = field(default_factory=list)

    def start_at(self, moment: datetime) -> None:
        self.last_run = integration.Cursor.starting_at(moment).to_last_run()

    def fetch(self, now: datetime) -> RunReport:
        cursor = integration.Cursor.from_last_run(self.last_run) or integration.Cursor.starting_at(
            now - integration.FIRST_FETCH_LOOKBACK
        )
        trail = self.account.trail
        trail.clock = lambda: now
        before = len(trail.queries)
        rules = integration.ReadRules(limit=self.max_fetch, now=now, late_commit=self.late_commit)
        outcome = integration.read_audit_trail(trail.source, cursor, rules, integration.NO_DEADLINE, self.largest)
        assert outcome.error is None, outcome.error
        state = json.loads(json.dumps(integration.next_run_of(outcome)))
        report = RunReport(
            now=now,
            events=[dict(event) for event in outcome.events],
            next_trigger=state.get("nextTrigger") == "0",
            audit_calls=len(trail.queries) - before,
            search_calls=outcome.search_calls,
            window_moved=self.last_run.get("window") != state.get("window"),
            last_run=state,
        )
        self.last_run, self.largest = state, outcome.largest
        self.runs.append(report)
        return report

    def delivered(self) -> list[dict[str, Any]]:
        return [event for run in self.runs for event in run.events]


def busy_account(store: Any, now: datetime, step: timedelta, rng: random.Random) -> None:
    """Records since the last run (`step` ago): a trickle, bulk changes in one instant, twins, late commits.

    `store` is an Account or the simulator's AuditStore (both add_random).
    """
    seconds = step.total_seconds()
    for _ in range(rng.randint(0, 8)):
        store.add_random(now - timedelta(seconds=rng.uniform(0, seconds)), 1, twin_rate=0.05)
    if rng.random() < 0.2:
        store.add_random(now - timedelta(seconds=rng.uniform(0, seconds)), rng.randint(10, 60), twin_rate=0.1)
    if rng.random() < 0.3:  # committed late: stamped just before the previous run read its neighbours
        store.add_random(now - step - timedelta(seconds=rng.uniform(0, 2)), 1)


def run_schedule(
    collector: Collector,
    start: datetime,
    end: datetime,
    step: timedelta,
    arrivals: Callable[[Account, datetime, timedelta, random.Random], None] = busy_account,
    seed: int = 3,
    on_quiet_run: Callable[[RunReport], None] | None = None,
) -> None:
    """Fetch runs every `step` from `start` to `end` (records arriving before each), then drains.

    `on_quiet_run` is called after every run that did not ask for the next run at once: everything
    that exists at that moment should have been delivered by then.
    """
    rng = random.Random(seed)
    now = start
    while now < end:
        arrivals(collector.account, now, step, rng)
        report = collector.fetch(now)
        if on_quiet_run is not None and not report.next_trigger:
            on_quiet_run(report)
        now += step
    for _ in range(10_000):
        if not collector.fetch(now).next_trigger:
            break
        now += timedelta(seconds=1)


def zone_of(name: str | None) -> tzinfo:
    """The filter zone of a reading: an IANA name, a fixed offset, or UTC when it follows the timezone argument."""
    from devtools.simulator.readings import zone_named

    return UTC if name is None else zone_named(name)


def ceil_div(numerator: int, denominator: int) -> int:
    return math.ceil(numerator / denominator)


__all__ = ["Account", "Collector", "RunReport", "busy_account", "canonical", "run_schedule", "zone_of"]
