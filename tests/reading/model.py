"""An in-memory LivePerson account for the reading tests: the simulator's answers without HTTP.

The account answers the integration's queries with `answer_query`, the same function the HTTP
simulator uses, under any `Reading`. `Collector` plays the XSIAM engine around the integration's
reading core: it keeps `lastRun` as JSON and the learned page size between runs, and counts the
calls of each run, so a test can run hundreds of fetches across midnights in well under a second.
"""

from __future__ import annotations

import bisect
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import LivePerson as integration

from devtools.simulator.dataset import AuditStore
from devtools.simulator.readings import Reading, answer_query, render_record
from devtools.truth import compare


@dataclass
class ModelAccount:
    """A LivePerson account: the stored records and the reading its Audit Trail follows."""

    reading: Reading = field(default_factory=Reading)
    seed: int = 1
    store: AuditStore = field(init=False)
    queries: list[dict[str, Any]] = field(default_factory=list)
    between_reads: Callable[[AuditStore], None] | None = None  # runs after each answer: records committed meanwhile
    _snapshot: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.store = AuditStore(seed=self.seed, resolution=self.reading.resolution)

    def records(self) -> list[Any]:
        """The stored records, in serving order (records are only ever added, so a length check will do)."""
        if len(self._snapshot) != len(self.store):
            self._snapshot = self.store.snapshot()
        return self._snapshot

    def source(self, window: integration.Window, offset: int, first: int) -> list[dict[str, Any]]:
        """The integration's PageSource: the arguments its query sends, answered by the simulator's rules."""
        arguments = {
            "fromDate": window.from_day.isoformat(),
            "toDate": window.to_day.isoformat(),
            "first": first,
            "offset": offset,
            "orderBy": ["changeTimestamp"],
            "orderDirection": ["ASC"],
            "timezone": "UTC",
            "lpa": True,
            "automaticUpdates": True,
        }
        self.queries.append({"window": str(window), "offset": offset, "first": first})
        records = answer_query(self.records(), arguments, self.reading).records
        if self.between_reads is not None:
            self.between_reads(self.store)
        return records

    def count_since(self, since: datetime) -> int:
        """How many records exist at or after `since` (cheap: a bisection)."""
        records = self.records()
        return len(records) - bisect.bisect_left(records, since, key=lambda stored: stored.time)

    def truth(self, since: datetime, until: datetime | None = None) -> list[dict[str, Any]]:
        return [
            render_record(stored, UTC, self.reading.precision)
            for stored in self.records()
            if stored.time >= since and (until is None or stored.time <= until)
        ]


@dataclass
class RunReport:
    """One fetch run, as the engine sees it."""

    now: datetime
    events: list[dict[str, Any]]
    next_trigger: bool
    audit_calls: int
    search_reads: int
    consumed: int
    window_moved: bool
    last_run: dict[str, Any]


@dataclass
class Collector:
    """Runs the reading core as fetch-events does, keeping `lastRun` (as JSON) and the learned page size."""

    account: ModelAccount
    max_fetch: int = 5000
    last_run: dict[str, Any] = field(default_factory=dict)
    knowledge: integration.PageKnowledge = field(default_factory=integration.PageKnowledge)
    runs: list[RunReport] = field(default_factory=list)

    def start_at(self, moment: datetime) -> None:
        self.last_run = integration.Cursor.starting_at(moment).to_last_run()

    def fetch(self, now: datetime) -> RunReport:
        cursor = integration.Cursor.from_last_run(self.last_run) or integration.Cursor.starting_at(
            now - integration.FIRST_FETCH_LOOKBACK
        )
        before = len(self.account.queries)
        rules = integration.ReadRules(limit=self.max_fetch, now=now)
        outcome = integration.read_audit_trail(
            self.account.source, cursor, self.knowledge, rules, integration.NO_DEADLINE
        )
        assert outcome.error is None, outcome.error
        state = json.loads(json.dumps(integration.next_run_of(outcome)))
        report = RunReport(
            now=now,
            events=[dict(event) for event in outcome.events],
            next_trigger=state.get("nextTrigger") == "0",
            audit_calls=len(self.account.queries) - before,
            search_reads=outcome.search_reads,
            consumed=outcome.counts.delivered + outcome.counts.filtered + outcome.counts.known + outcome.counts.older,
            window_moved=self.last_run.get("window") != state.get("window"),
            last_run=state,
        )
        self.last_run, self.knowledge = state, outcome.knowledge
        self.runs.append(report)
        return report

    def delivered(self) -> list[dict[str, Any]]:
        return [event for run in self.runs for event in run.events]


Arrivals = Callable[[AuditStore, datetime, timedelta, random.Random], None]


def busy_account(store: AuditStore, now: datetime, step: timedelta, rng: random.Random) -> None:
    """Records since the last run (`step` ago): a trickle, bulk changes in one instant, twins, late commits."""
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
    arrivals: Arrivals = busy_account,
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
        arrivals(collector.account.store, now, step, rng)
        report = collector.fetch(now)
        if on_quiet_run is not None and not report.next_trigger:
            on_quiet_run(report)
        now += step
    for _ in range(10_000):
        if not collector.fetch(now).next_trigger:
            break
        now += timedelta(seconds=1)


def ceil_div(numerator: int, denominator: int) -> int:
    return math.ceil(numerator / denominator)


__all__ = ["Collector", "ModelAccount", "compare", "run_schedule"]
