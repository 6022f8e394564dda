"""A seeded, realistic Audit Trail: who changed which user, skill, group, profile or campaign.

Records are kept in UTC with 100 ms resolution (LivePerson's sample renders one fractional digit),
or 1 ms for a reading that renders milliseconds. The
generator deliberately produces the hard cases: bursts of records in one second (bulk edits),
byte-identical twins, changes by LivePerson staff (LPA) and automatic updates (both hidden by
the API's defaults), and records on both sides of midnight UTC.
"""

from __future__ import annotations

import bisect
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

ACCOUNT_ID = "12345678"

# The background is routine work only. Access-control changes (permission profiles, creating or deleting a
# user, a user's profiles, password, enabled state, login, e-mail or API access) and links in customer-facing
# text are what the detection rules look for, so only devtools/simulator/scenarios.py adds them: random
# records never raise an alert, and the expected alert counts stay exact. Few names per object type keep
# background deletions far below the mass-deletion threshold (distinct objects per user and window).
# The lists keep their earlier lengths, and make_fields draws as before, so each seed gives the same times,
# bursts, twins and late records as it did before the vocabulary changed.
OBJECTS: dict[str, list[tuple[str, list[str]]]] = {
    "Users": [
        ("agent.smith", ["Max number of live chats", "Skills", "Agent group", "Nickname", "Employee ID"]),
        ("mia.chen", ["Max number of live chats", "Skills", "Nickname", "Agent group"]),
        ("raj.patel", ["Skills", "Agent group", "Nickname"]),
        ("lena.novak", ["Skills", "Max number of live chats"]),
    ],
    "Skills": [
        ("Billing", ["Name", "Description", "Max wait time", "Transfer to skill"]),
        ("Sales EMEA", ["Working hours", "Special occasions"]),
        ("VIP Support", ["Max wait time", "Lobby"]),
    ],
    "Agent Groups": [("Tier 1", ["Members", "Parent group"]), ("Night shift", ["Members"])],
    "Content Categories": [("Billing answers", ["Name", "Order"]), ("Greetings", ["Name", "Order"])],
    "Campaigns": [("Spring promo", ["Status", "Goal", "Engagement window"]), ("Retention", ["Status"])],
    "Predefined Content": [("Greeting", ["Text", "Categories"]), ("Refund policy", ["Text"])],
    "LOBs": [("Consumer", ["Name"]), ("Business", ["Name"])],
}
ACTIONS = ("Add new", "Edit", "Edit", "Edit", "Edit", "Delete")
EDIT_ONLY_OBJECTS = frozenset({"Users"})  # agents are edited all day; adding or deleting one is an access change
ADMINS = [
    ("Ada Admin", "ada.admin", "1000001"),
    ("Grace Ops", "grace.ops", "1000002"),
    ("Linus Lead", "linus.lead", "1000003"),
]
LPA = ("LivePerson Admin", "lpa.support", "lpa-77")
AUTOMATIC = ("Automatic update", "system", "0")
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15",
    "LivePerson-API-Client/2.1",
)


@dataclass(order=True)
class StoredRecord:
    """One audit record; sorted by time, then by insertion order (the order ties are served in unshuffled).

    `committed` is when queries start to see it (a store that indexes late shows records after their time).
    """

    time: datetime
    seq: int
    fields: dict[str, Any] = field(compare=False)
    lpa: bool = field(default=False, compare=False)
    automatic: bool = field(default=False, compare=False)
    committed: datetime = field(default=datetime.min.replace(tzinfo=UTC), compare=False)


class AuditStore:
    """The ground truth: every record that exists, thread-safe, in serving order."""

    def __init__(
        self,
        account_id: str = ACCOUNT_ID,
        seed: int = 7,
        resolution: timedelta = timedelta(milliseconds=100),
        late_commits: float = 0.0,
    ) -> None:
        self.account_id = account_id
        self.random = random.Random(seed)
        self.late_commits = late_commits  # seconds: each record is committed up to this long after it is added
        self.resolution_us = max(1, int(resolution / timedelta(microseconds=1)))
        self.records: list[StoredRecord] = []
        self.lock = threading.Lock()
        self._seq = 0
        self._lateness = random.Random(seed + 1)

    # ------------------------------------------------------------------ generation

    def make_fields(self, kind: str = "admin") -> tuple[dict[str, Any], bool, bool]:
        rng = self.random
        object_type = rng.choice(list(OBJECTS))
        name, elements = rng.choice(OBJECTS[object_type])
        action = rng.choice(ACTIONS)
        element = "N/A" if action != "Edit" else rng.choice(elements)
        old_value = "" if action == "Add new" else str(rng.randint(1, 9))
        new_value = "" if action == "Delete" else str(rng.randint(1, 9))
        if object_type in EDIT_ONLY_OBJECTS and action != "Edit":  # after the draws, so the stream is unchanged
            action, element = "Edit", elements[0]
            old_value, new_value = old_value or "0", new_value or "0"
        who = {"admin": rng.choice(ADMINS), "lpa": LPA, "automatic": AUTOMATIC}[kind]
        fields = {
            "accountId": self.account_id,
            "objectType": object_type,
            "objectName": name,
            "actionType": action,
            "element": element,
            "oldValue": old_value,
            "newValue": new_value,
            "originator": who[0],
            "originatorLoginName": who[1],
            "originatorUserId": who[2],
            "originatorUserAgent": rng.choice(USER_AGENTS) if kind != "automatic" else "",
            "originatorAuthType": "auth1" if kind == "admin" else ("sso" if kind == "lpa" else "internal"),
            "originatorIsLpa": kind == "lpa",
        }
        return fields, kind == "lpa", kind == "automatic"

    def add(self, moment: datetime, fields: dict[str, Any], lpa: bool = False, automatic: bool = False) -> StoredRecord:
        """Stores a record; with late commits, queries see it up to `late_commits` seconds after its time.

        The lateness is drawn from its own random stream, so each seed gives the same records as before.
        """
        moment = moment.astimezone(UTC)
        moment = moment.replace(microsecond=(moment.microsecond // self.resolution_us) * self.resolution_us)
        committed = datetime.min.replace(tzinfo=UTC)
        if self.late_commits:  # stamped `moment`, seen from a random while after it, and never before being added
            lateness = timedelta(seconds=self._lateness.uniform(0, self.late_commits))
            committed = max(datetime.now(UTC), moment + lateness)
        with self.lock:
            self._seq += 1
            stored = StoredRecord(moment, self._seq, dict(fields), lpa, automatic, committed)
            self._insert(stored)
        return stored

    def _insert(self, stored: StoredRecord) -> None:
        # New records almost always belong at the end; only late ones need a search.
        if not self.records or self.records[-1] <= stored:
            self.records.append(stored)
            return
        low, high = 0, len(self.records)
        while low < high:
            middle = (low + high) // 2
            if self.records[middle] <= stored:
                low = middle + 1
            else:
                high = middle
        self.records.insert(low, stored)

    def add_random(self, moment: datetime, count: int = 1, twin_rate: float = 0.0) -> list[StoredRecord]:
        """`count` records in the same instant (a bulk change), some of them identical twins."""
        added: list[StoredRecord] = []
        for _ in range(count):
            roll = self.random.random()
            kind = "lpa" if roll < 0.05 else ("automatic" if roll < 0.10 else "admin")
            fields, lpa, automatic = self.make_fields(kind)
            added.append(self.add(moment, fields, lpa, automatic))
            if self.random.random() < twin_rate:
                added.append(self.add(moment, fields, lpa, automatic))
        return added

    def seed_history(self, end: datetime, days: float = 3.0, per_day: int = 3000) -> int:
        """Fills `days` before `end`: a steady trickle, bulk bursts, twins and both sides of midnight."""
        rng = self.random
        start = end - timedelta(days=days)
        total_seconds = int((end - start).total_seconds())
        target = int(per_day * days)
        produced = 0
        while produced < target:
            moment = start + timedelta(seconds=rng.randrange(total_seconds), milliseconds=100 * rng.randrange(10))
            burst = rng.choice([1, 1, 1, 1, 2, 3, 25]) if rng.random() < 0.9 else rng.randint(60, 250)
            produced += len(self.add_random(moment, burst, twin_rate=0.02))
        midnight = end.replace(hour=0, minute=0, second=0, microsecond=0)
        while midnight > start:
            produced += len(self.add_random(midnight - timedelta(milliseconds=100), 3, twin_rate=0.5))
            produced += len(self.add_random(midnight, 3, twin_rate=0.5))
            midnight -= timedelta(days=1)
        return produced

    # ------------------------------------------------------------------ reading

    def count_since(self, since: datetime) -> int:
        """How many records exist at or after `since`."""
        with self.lock:
            return len(self.records) - bisect.bisect_left(self.records, since, key=lambda stored: stored.time)

    def snapshot(self) -> list[StoredRecord]:
        with self.lock:
            return list(self.records)

    def last_commit(self) -> datetime | None:
        """When the last record becomes visible (None without late commits)."""
        with self.lock:
            return max((stored.committed for stored in self.records), default=None) if self.late_commits else None

    def visible(self, now: datetime) -> list[StoredRecord]:
        """What a query made at `now` sees: the records committed by then, in serving order."""
        with self.lock:
            if not self.late_commits:
                return list(self.records)
            return [stored for stored in self.records if stored.committed <= now]

    def __len__(self) -> int:
        with self.lock:
            return len(self.records)


class LiveArrivals:
    """Adds records at the current time in a background thread, as a busy account would."""

    def __init__(
        self,
        store: AuditStore,
        per_second: float = 20.0,
        late_rate: float = 0.05,
        late_seconds: float = 2.0,
        clock: Any = None,
    ) -> None:
        self.store = store
        self.per_second = per_second
        self.late_rate = late_rate
        self.late_seconds = late_seconds
        self.clock = clock or (lambda: datetime.now(UTC))
        self.added = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> int:
        """One burst of arrivals (also callable directly for deterministic tests)."""
        rng = self.store.random
        count = max(1, int(rng.expovariate(1.0) * self.per_second / 10))
        moment = self.clock()
        if rng.random() < self.late_rate:
            moment -= timedelta(seconds=rng.uniform(0.1, self.late_seconds))
        added = len(self.store.add_random(moment, count, twin_rate=0.05))
        self.added += added
        return added

    def start(self) -> LiveArrivals:
        def run() -> None:
            while not self._stop.wait(0.1):
                self.tick()

        self._thread = threading.Thread(target=run, name="live-arrivals", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
