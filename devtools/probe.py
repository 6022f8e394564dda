"""`python -m devtools.runner probe`: what this LivePerson account does where the docs are silent.

Read-only, about 15 Audit Trail calls (plus one Domain API and one token call). Each finding says
what was asked, what the account did, the evidence (counts and times), and whether the collector's
handling covers that answer. The exit status is 1 when an answer contradicts something the collector
relies on (the token is refused, the query is refused, results are not in the zone asked for, a
changeDate it cannot read, records out of order, offsets that do not page), else 0.

The first question is the query's syntax, which LivePerson does not document (fact sheet §8
question 3). The probe asks its first page the way the collector does, through the integration's
own negotiation (`AuditQueries`: the ordering arguments as lists of strings, lists of enum values,
single strings or single enum values; a smaller `first`; without an optional argument the account
does not know; another form when an answer comes newest first), reports the dialect it settled on
and what finding it cost, and asks every later question in that dialect.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from devtools.runtime import load_integration

CHANGE_DATE_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.(?P<fraction>\d+))?$")
OTHER_ZONE = "Asia/Tokyo"  # +09:00 all year: a zone far from UTC and from US/Eastern, without DST
CANDIDATE_ZONES = (
    "UTC",
    "US/Eastern",
    "US/Central",
    "US/Mountain",
    "US/Pacific",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Jerusalem",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
)
WEST_HOURS, EAST_HOURS = 12, 14  # the collector trusts any day-filter zone from UTC-12 to UTC+14 (its A1)

RESULT_WINDOW_PROBE = 10_000  # where search indexes commonly stop paging (fact sheet §8 question 11)


@dataclass
class Finding:
    """One open question, answered for this account."""

    question: str
    answer: str
    evidence: str
    covered: bool  # the collector's handling covers this answer
    relied_on: bool = False  # when not covered, the collector cannot work correctly: exit 1


@dataclass
class Sample:
    """One record as the probe saw it: its changeDate text, parsed time, and identity (the other fields)."""

    text: str
    time: datetime
    identity: tuple[Any, ...]


class Probe:
    """Asks the account, through the integration's own client, and keeps count of the calls."""

    def __init__(self, integration: Any, client: Any, today: date) -> None:
        self.lp = integration
        self.client = client
        self.today = today
        self.audit_calls = 0
        self.findings: list[Finding] = []
        self.results_in_utc = True
        self.dialect = integration.DEFAULT_DIALECT
        self.negotiation_calls = 0  # the Audit Trail calls spent finding a query the account accepts

    # ------------------------------------------------------------------ asking

    def window(self, first_day: date, last_day: date) -> Any:
        return self.lp.Window(first_day, last_day)

    def ask(
        self, window: Any, first: int, offset: int = 0, descending: bool = False, zone: str = "UTC"
    ) -> tuple[list[dict[str, Any]], int | None]:
        """One query through the integration's client: (records, X-Total-Count when it is a number)."""
        self.audit_calls += 1
        query = probe_query(self.lp, window, first, offset, descending, zone, self.dialect)
        return self.client.fetch_audit_page(query)

    def one(self, window: Any, descending: bool = False, zone: str = "UTC", offset: int = 0) -> Sample | None:
        records, _total = self.ask(window, 1, offset, descending, zone)
        return sample(self.lp, records[0], zone) if records else None

    def add(self, question: str, answer: str, evidence: str, covered: bool, relied_on: bool = False) -> None:
        self.findings.append(Finding(question, answer, evidence, covered, relied_on))

    # ------------------------------------------------------------------ the questions

    def run(self) -> list[Finding]:
        if not self.connect():
            return self.findings
        recent = self.window(self.today - timedelta(days=3), self.today + timedelta(days=2))
        page = self.first_page(recent)
        if page is None:
            return self.findings
        if not page:
            recent = self.window(self.today - timedelta(days=30), self.today + timedelta(days=2))
            page, _total = self.ask(recent, self.dialect.first)
        if not page:
            self.add("Records to probe with", "none in the last 30 days", "0 records", True)
            return self.findings
        self.page_size(recent, page)
        self.change_date_format(page)
        if not self.order_and_offsets(recent, page):
            return self.findings
        newest = self.results_zone(recent)
        self.total_count(recent, len(page))
        self.result_window(recent)
        if newest is not None:  # two days back: whole local days on both sides, whatever the zone
            day = newest.time.date() - timedelta(days=2)
            self.filter_zone(day, self.to_date(day))
        return self.findings

    def connect(self) -> bool:
        try:
            self.client.get_domain()
            self.client.get_token()
        except self.lp.LivePersonError as error:
            self.add("Domain discovery and OAuth 2.0 token", "failed", str(error), False, relied_on=True)
            return False
        return True

    def first_page(self, window: Any) -> list[dict[str, Any]] | None:
        """The collector's first page, in the dialect its own negotiation settles on; None when there is none."""
        queries = self.lp.AuditQueries(self.client, self.lp.NO_DEADLINE, self.lp.DEFAULT_DIALECT)
        try:
            page = self.lp.read_first_page(queries, window)
        except self.lp.NotOrdered as error:
            self.add("Oldest first with orderDirection ASC", "no", str(error), False, relied_on=True)
            return None
        except self.lp.LivePersonError as error:
            if error.status in (401, 403):
                self.add("Audit Trail accepts the OAuth 2.0 token", "no", str(error), False, relied_on=True)
            else:
                self.add("Query syntax the account accepts", "none found", str(error), False, relied_on=True)
            return None
        finally:
            self.negotiation_calls = queries.extra_calls
            self.audit_calls += queries.extra_calls + 1
        self.dialect = queries.dialect
        self.add("Audit Trail accepts the OAuth 2.0 token", "yes", "the query answered 200", True)
        evidence = (
            "the collector's first query answered"
            if not self.negotiation_calls
            else f"{self.negotiation_calls} extra call(s) before it answered oldest first; the collector "
            "negotiates the same way on first contact and keeps the result"
        )
        self.add("Query syntax the account accepts", self.dialect.describe(), evidence, True, relied_on=True)
        for name in self.dialect.dropped:
            lost = self.lp.OPTIONAL_ARGUMENTS[name][1]
            evidence = f"a query with it is refused; not collected without it: {lost}"
            self.add(f"Argument {name} known", "no", evidence, False)
        return page

    def page_size(self, window: Any, page: list[dict[str, Any]]) -> None:
        asked, got = self.dialect.first, len(page)
        if got >= asked and asked < self.lp.PAGE_REQUEST:  # what a refused `first` of PAGE_REQUEST left
            evidence = f"first: {self.lp.PAGE_REQUEST} is refused; first: {asked} answered {got}"
            self.add("Largest page", f"{asked}: a larger first is refused", evidence, True)
            return
        if got >= asked:
            self.add("Largest page", f"{asked} or more", f"asked for {asked}, got {got}", True)
            return
        beyond, _total = self.ask(window, 1, got)
        if beyond:
            self.add("Largest page", f"{got} records a call", f"asked for {asked}, got {got}; more followed", True)
        else:
            self.add("Largest page", f"at least {got}", f"asked for {asked}; the window held only {got}", True)

    def change_date_format(self, page: list[dict[str, Any]]) -> None:
        texts = [str(record.get("changeDate")) for record in page]
        shapes = [CHANGE_DATE_SHAPE.match(text) for text in texts]
        digits = sorted({len(match["fraction"] or "") for match in shapes if match})
        unreadable = [text for text, match in zip(texts, shapes, strict=True) if not match]
        described = ", ".join("no fraction" if count == 0 else f"{count} fractional digit(s)" for count in digits)
        try:
            for text in texts:
                self.lp.parse_change_date(text)
        except self.lp.LivePersonError:
            unreadable.append(text)
        covered = not unreadable
        evidence = f"{len(texts)} records, e.g. {texts[0]!r}"
        if unreadable:
            evidence += f"; unreadable: {unreadable[:3]}"
        self.add("changeDate format", described or "unrecognised", evidence, covered, relied_on=True)

    def order_and_offsets(self, window: Any, page: list[dict[str, Any]]) -> bool:
        """Whether the answer is oldest first, in the accepted form or another; False ends the probe."""
        times = [self.lp.parse_change_date(record.get("changeDate")) for record in page]
        evidence = f"{len(times)} records from {times[0]:%Y-%m-%d %H:%M:%S} to {times[-1]:%Y-%m-%d %H:%M:%S}"
        ascending = oldest_first(times)
        self.add("Oldest first with orderDirection ASC", "yes" if ascending else "no", evidence, ascending, True)
        if not ascending:
            return False
        if len(page) > 1:
            second = self.one(window, offset=1)
            same = second is not None and second.identity == sample(self.lp, page[1], "UTC").identity
            evidence = "offset 1 returns the page's second record" if same else "offset 1 returns another record"
            self.add("Offsets page the same list", "yes" if same else "no", evidence, same, relied_on=True)
        return True

    def results_zone(self, window: Any) -> Sample | None:
        in_utc = self.one(window, descending=True)
        in_other = self.one(window, descending=True, zone=OTHER_ZONE)
        if in_utc is None or in_other is None or in_utc.identity != in_other.identity:
            self.add("Results follow the timezone argument", "not determined", "the newest record changed", True)
            return in_utc
        shift = naive(in_other.text) - naive(in_utc.text)
        follows = shift == timedelta(hours=9)
        self.results_in_utc = follows
        self.add(
            "Results follow the timezone argument",
            "yes" if follows else f"no (shifted by {shift})",
            f"newest record: {in_utc.text!r} with UTC, {in_other.text!r} with {OTHER_ZONE}",
            follows,
            relied_on=True,
        )
        return in_utc

    def total_count(self, window: Any, page_length: int) -> None:
        _records, header = self.ask(window, 1)
        if header is None:
            answer = "not sent (or not a number)"
        elif page_length > 1 and header == 1:
            answer = "the page's count"
        else:
            answer = "the number of matching records" if header > 1 else "unclear"
        evidence = (
            f"X-Total-Count {header} for first: 1 (the window holds at least {page_length}); the collector only "
            "aims its search with it when it is not the page's count"
        )
        self.add("What X-Total-Count counts", answer, evidence, True)

    def result_window(self, window: Any) -> None:
        """Whether `offset + first` has a ceiling at RESULT_WINDOW_PROBE: one record asked for just past it.

        A search index refuses by the arguments, whatever the window holds, so one call tells. A ceiling
        elsewhere is not looked for.
        """
        question = f"Offsets past {RESULT_WINDOW_PROBE:,} answered"
        try:
            records, _total = self.ask(window, 1, RESULT_WINDOW_PROBE)
        except self.lp.LivePersonError as error:
            named = re.findall(r"\[(\d+)\]|less than or equal to:? ?(\d+)", str(error))
            ceiling = next((int(a or b) for a, b in named), None)
            answer = f"no: offset + first above {ceiling} refused" if ceiling else "no: refused"
            evidence = (
                f"offset {RESULT_WINDOW_PROBE}, first 1: {error}; past it the collector reads a window of up to "
                f"{self.lp.MAX_WINDOW_DAYS} days from its newest end, and gives up, with a warning, what lies "
                "deeper than the ceiling from both ends"
            )
            self.add(question, answer, evidence, False, relied_on=True)
            return
        self.add(question, "yes", f"offset {RESULT_WINDOW_PROBE}, first 1 answered {len(records)} record(s)", True)

    def to_date(self, day: date) -> bool:
        same_day = self.one(self.window(day, day))
        next_day = self.one(self.window(day + timedelta(days=1), day + timedelta(days=1)))
        if same_day is None and next_day is None:
            evidence = f"fromDate = toDate = {day} and = {day + timedelta(days=1)}: both empty"
            self.add("toDate inclusive", "no (exclusive)", evidence, True)
            return False
        evidence = f"fromDate = toDate = {day}: {'a record' if same_day else 'empty'}; next day: " + (
            "a record" if next_day else "empty"
        )
        self.add("toDate inclusive", "yes", evidence, True)
        return True

    def filter_zone(self, day: date, inclusive: bool) -> None:
        last_day = day if inclusive else day + timedelta(days=1)
        first = self.one(self.window(day, last_day))
        last = self.one(self.window(day, last_day), descending=True)
        before = self.one(self.window(day - timedelta(days=1), last_day - timedelta(days=1)), descending=True)
        after = self.one(self.window(day + timedelta(days=1), last_day + timedelta(days=1)))
        if first is None or last is None or not self.results_in_utc:
            why = f"no records on {day}" if self.results_in_utc else "results are not in the zone asked for"
            self.add("Zone of the day filters", "not determined", why, True)
            return
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        end = start + timedelta(days=1)
        # The zone's day starts at start - u: after `before`, at or before `first`; it ends at end - u,
        # after `last`, at or before `after`. Hence bounds on u, the zone's offset east of UTC.
        unbounded = timedelta(hours=EAST_HOURS + 10)
        low = max(start - first.time, end - after.time if after else -unbounded)
        high = min(start - before.time if before else unbounded, end - last.time)
        follows = self.filters_follow_argument(day, last_day, first)
        names = [name for name in CANDIDATE_ZONES if low <= offset_at(name, day) <= high]
        quarters = [
            minutes for minutes in range(-24 * 60, 24 * 60 + 1, 15) if low <= timedelta(minutes=minutes) <= high
        ]
        if len(quarters) == 1:  # zones sit on quarter hours: one fits the evidence
            answer = f"UTC{signed(timedelta(minutes=quarters[0]))}"
        else:
            answer = f"between UTC{signed(low)} and UTC{signed(high)}"
        # A fixed offset and a zone that has it that day cannot be told apart from one day's records.
        answer += f" (as {', '.join(names)} on {day:%b %d})" if names else ""
        if follows:
            answer = "the timezone argument (UTC)"
        within_spread = bool(quarters) and all(-WEST_HOURS * 60 <= minutes <= EAST_HOURS * 60 for minutes in quarters)
        covered = follows or within_spread
        evidence = (
            f"offset between {signed(low)} and {signed(high)}; "
            f"{day}: first record {first.text}, last {last.text}; day before ends {before.text if before else '-'}, "
            f"day after starts {after.text if after else '-'}; with timezone {OTHER_ZONE} the day "
            + ("moved" if follows else "did not move")
        )
        self.add("Zone of the day filters", answer, evidence, covered, relied_on=True)

    def filters_follow_argument(self, day: date, last_day: date, first_in_utc: Sample) -> bool:
        first_other = self.one(self.window(day, last_day), zone=OTHER_ZONE)
        return first_other is not None and first_other.identity != first_in_utc.identity


def probe_query(
    integration: Any, window: Any, first: int, offset: int, descending: bool, zone: str, dialect: Any
) -> str:
    """The collector's query in `dialect`, with what only the probe asks for: newest first, results in another zone.

    The collector itself always asks oldest first in UTC; the probe needs the other direction and
    zones to tell which reading of the open questions the account follows.
    """
    query = integration.build_audit_query(window, first, offset, dialect, descending)
    return query.replace('timezone: "UTC"', f'timezone: "{zone}"')


def oldest_first(times: list[datetime]) -> bool:
    return all(earlier <= later for earlier, later in zip(times, times[1:], strict=False))


def sample(integration: Any, record: dict[str, Any], zone: str) -> Sample:
    text = str(record.get("changeDate"))
    moment = naive(text).replace(tzinfo=zone_of(zone)).astimezone(UTC)
    identity = tuple(sorted((key, str(value)) for key, value in record.items() if key != "changeDate"))
    return Sample(text, moment, identity)


def naive(text: str) -> datetime:
    return datetime.fromisoformat(text)


def zone_of(name: str) -> tzinfo:
    return UTC if name == "UTC" else ZoneInfo(name)


def offset_at(name: str, day: date) -> timedelta:
    """The zone's offset east of UTC at the local midnight that starts `day`."""
    return datetime(day.year, day.month, day.day, tzinfo=zone_of(name)).utcoffset() or timedelta(0)


def signed(offset: timedelta) -> str:
    """An offset east of UTC, rounded to the minute, as '+05:30' or '-05:00'."""
    minutes = round(offset.total_seconds() / 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def table(findings: list[Finding]) -> str:
    rows = [("question", "what the account did", "covered", "evidence")]
    rows += [(item.question, item.answer, "yes" if item.covered else "NO", item.evidence) for item in findings]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = [f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]}" for row in rows]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def probe_account(params: dict[str, Any], today: date | None = None) -> tuple[list[Finding], Probe]:
    """Runs every question against the account `params` describe (the integration's instance params)."""
    integration, _demisto = load_integration()
    settings = integration.Settings.from_params(params)
    client = integration.Client(settings, use_cache=False)
    probe = Probe(integration, client, today or datetime.now(UTC).date())
    return probe.run(), probe


def run_probe(params: dict[str, Any], env: dict[str, str | None]) -> int:
    """The command-line probe: prints the findings; 1 when one contradicts what the collector relies on."""
    for name, value in env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    findings, probe = probe_account(params)
    print(table(findings))
    calls = probe.client.calls
    print(f"\n{probe.audit_calls} Audit Trail call(s), {sum(calls.values())} in all (domain and token included).")
    extra = probe.negotiation_calls
    print(f"Query syntax: {probe.dialect.describe()}; finding it took {extra} extra Audit Trail call(s).")
    broken = [item for item in findings if item.relied_on and not item.covered]
    if broken:
        print("NOT COVERED: " + "; ".join(item.question for item in broken) + ". See the README's Troubleshooting.")
        return 1
    print("Every answer is one the collector handles.")
    return 0
