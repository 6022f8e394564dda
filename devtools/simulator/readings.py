"""How the simulated Audit Trail answers a query, under each reading of what LivePerson leaves open.

LivePerson documents the query's arguments but not: the largest page it returns, the zone it reads
`fromDate`/`toDate` in, whether `toDate` is inclusive, how many fractional digits `changeDate` has,
what `X-Total-Count` counts, whether results really follow the `timezone` argument, how late a
record may be committed after its changeDate, whether ties keep their order from one answer to
the next, the GraphQL types of the ordering arguments and whether they are applied at all, how a
`first` above the maximum is refused, which optional arguments the account knows, and whether
`offset + first` has a ceiling (a search index's "result window"). A `Reading`
fixes one answer to each; every combination is a LivePerson the docs allow. `answer_query` is pure,
so the HTTP simulator and fast in-memory tests share it.
"""

from __future__ import annotations

import bisect
import itertools
import random
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from graphql import GraphQLError

from devtools.simulator.schema import OPTIONAL_ARGUMENTS, ORDERING_TYPES, RECORD_FIELDS

PRECISIONS = ("tenths", "millis", "seconds")
TOTAL_COUNT_MEANINGS = ("total", "page")
ORDERINGS = tuple(ORDERING_TYPES)
# How a `first` above the maximum is refused: a GraphQL error naming the maximum, one naming only
# the argument, or an HTTP 400 whose body names both.
FIRST_REFUSALS = ("graphql", "graphql-bare", "http")
DEFAULT_ZONE = "US/Eastern"  # LivePerson's documented default for `timezone`
FIXED_OFFSET = re.compile(r"^(?:UTC)?(?P<sign>[+-])(?P<hours>\d{1,2}):?(?P<minutes>\d{2})?$")


def zone_named(name: str) -> tzinfo:
    """An IANA zone ('US/Eastern'), 'UTC', or a fixed offset ('+14:00', '-12:00', 'UTC+5')."""
    match = FIXED_OFFSET.match(name.strip())
    if match:
        minutes = int(match["hours"]) * 60 + int(match["minutes"] or 0)
        if minutes > 14 * 60:
            raise ValueError(f"offset {name!r} is beyond +/-14:00")
        return timezone(timedelta(minutes=minutes if match["sign"] == "+" else -minutes))
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}: give an IANA name such as US/Eastern, or +14:00") from None


@dataclass(frozen=True)
class Reading:
    """One LivePerson the docs allow. The defaults are the reading the simulator always modelled."""

    page_cap: int | None = None  # at most this many records a call; None: as many as `first` asks for
    filter_zone: str | None = None  # the zone of fromDate/toDate; None: the query's `timezone` argument
    to_date_inclusive: bool = True
    precision: str = "tenths"  # changeDate '.S' (LivePerson's sample), '.SSS' (millis) or no fraction
    total_count: str = "total"  # X-Total-Count: every matching record, or the records in this page
    results_zone: str | None = None  # the zone changeDate is rendered in; None: the `timezone` argument
    max_first: int = 500  # `first` above this is refused, as `first_refusal` says
    late_commits: float = 0.0  # seconds: a record is seen up to this long after its changeDate
    shuffle_ties: bool = False  # records sharing a changeDate come in a new order on every answer
    ordering: str = "string-list"  # the GraphQL types of orderBy/orderDirection, or "ignored" (newest first)
    first_refusal: str = "graphql"
    unknown_arguments: tuple[str, ...] = ()  # optional arguments the account does not know (a validation error)
    result_window: int | None = None  # `offset + first` above this is refused

    def __post_init__(self) -> None:
        if self.page_cap is not None and self.page_cap < 1:
            raise ValueError("page_cap must be at least 1")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}")
        if self.late_commits < 0:
            raise ValueError("late_commits must not be negative")
        if self.total_count not in TOTAL_COUNT_MEANINGS:
            raise ValueError(f"total_count must be one of {', '.join(TOTAL_COUNT_MEANINGS)}")
        if self.ordering not in ORDERINGS:
            raise ValueError(f"ordering must be one of {', '.join(ORDERINGS)}")
        if self.first_refusal not in FIRST_REFUSALS:
            raise ValueError(f"first_refusal must be one of {', '.join(FIRST_REFUSALS)}")
        if self.max_first < 1:
            raise ValueError("max_first must be at least 1")
        unknown = [name for name in self.unknown_arguments if name not in OPTIONAL_ARGUMENTS]
        if unknown:
            raise ValueError(f"unknown_arguments may name only {', '.join(OPTIONAL_ARGUMENTS)}, not {unknown[0]}")
        if self.result_window is not None and self.result_window < 1:
            raise ValueError("result_window must be at least 1")
        for name in (self.filter_zone, self.results_zone):
            if name is not None:
                zone_named(name)

    @property
    def resolution(self) -> timedelta:
        """The finest time step stored: a millisecond when rendered with milliseconds, else 100 ms."""
        return timedelta(milliseconds=1 if self.precision == "millis" else 100)

    def describe(self) -> str:
        return (
            f"page cap {self.page_cap or 'none'}, day filters in {self.filter_zone or 'the timezone argument'}, "
            f"toDate {'inclusive' if self.to_date_inclusive else 'exclusive'}, changeDate {self.precision}, "
            f"X-Total-Count = {self.total_count}, results in {self.results_zone or 'the timezone argument'}"
            + (f", records committed up to {self.late_commits:g} s late" if self.late_commits else "")
            + (", ties in a new order on every answer" if self.shuffle_ties else "")
            + (f", ordering arguments {ORDERING_WORDS[self.ordering]}" if self.ordering != "string-list" else "")
            + (
                f", first above {self.max_first} refused ({self.first_refusal})"
                if (self.max_first, self.first_refusal) != (500, "graphql")
                else ""
            )
            + (f", {' and '.join(self.unknown_arguments)} unknown" if self.unknown_arguments else "")
            + (f", offset + first above {self.result_window} refused" if self.result_window else "")
        )

    def hides(self, stored: Any) -> bool:
        """True for a record no query can get: left out by default, and the account does not know the switch."""
        return (stored.lpa and "lpa" in self.unknown_arguments) or (
            stored.automatic and "automaticUpdates" in self.unknown_arguments
        )


ORDERING_WORDS = {
    "string-list": "lists of strings",
    "enum-list": "lists of enum values",
    "string": "single strings",
    "enum": "single enum values",
    "ignored": "ignored (newest first)",
}


class Refusal(Exception):  # noqa: N818 - it is an answer, not a failure of the simulator
    """An HTTP error answer to a query (the simulator's server sends `status` with `message`)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def render_change_date(moment: datetime, precision: str = "tenths") -> str:
    """LivePerson's 'yyyy-MM-dd HH:mm:ss.S' in the zone of `moment`, with the reading's fraction."""
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    if precision == "tenths":
        return f"{text}.{moment.microsecond // 100_000}"
    if precision == "millis":
        return f"{text}.{moment.microsecond // 1000:03d}"
    return text


@dataclass(frozen=True)
class Answer:
    """One page of the Audit Trail's answer, and the X-Total-Count header that goes with it."""

    records: list[dict[str, Any]]
    total_count: int


def answer_query(
    stored: list[Any], arguments: dict[str, Any], reading: Reading, ties: random.Random | None = None
) -> Answer:
    """The page a query gets, from the store's records (UTC `time`, in serving order).

    With `reading.shuffle_ties`, `ties` orders the records of each changeDate the page touches anew.

    Raises GraphQLError for arguments LivePerson would refuse (`first` above `max_first`, a negative
    offset, `offset + first` past the result window, an unknown zone, a date that is not yyyy-MM-dd,
    an unknown orderBy column), or Refusal where the reading refuses with an HTTP status.
    """
    first = arguments.get("first", 50)
    offset = arguments.get("offset", 0) or 0
    if first is None or first < 0 or first > reading.max_first:
        refuse_first(reading)
    if offset < 0:
        raise GraphQLError("Argument 'offset' must not be negative")
    if reading.result_window is not None and offset + first > reading.result_window:
        raise GraphQLError(
            f"Result window is too large, offset + first must be less than or equal to: [{reading.result_window}] "
            f"but was [{offset + first}]"
        )
    arguments = ordering_applied(arguments, reading)
    argument_zone = _graphql_zone(arguments.get("timezone") or DEFAULT_ZONE)
    filter_zone = zone_named(reading.filter_zone) if reading.filter_zone else argument_zone
    results_zone = zone_named(reading.results_zone) if reading.results_zone else argument_zone
    size = first if reading.page_cap is None else min(first, reading.page_cap)
    low, high = date_range(stored, arguments, filter_zone, reading.to_date_inclusive)
    if _everything_oldest_first(arguments):  # the collector's query: a slice, without copying the window
        start, end = min(high, low + offset), min(high, low + offset + size)
        page = shuffled_slice(stored, start, end, ties) if reading.shuffle_ties else stored[start:end]
        total = high - low
    else:
        selected = select(stored[low:high], arguments)
        page, total = selected[offset : offset + size], len(selected)
    records = [render_record(item, results_zone, reading.precision) for item in page]
    return Answer(records, total if reading.total_count == "total" else len(records))


def refuse_first(reading: Reading) -> None:
    """Refuses a `first` above the maximum, the way the reading says."""
    if reading.first_refusal == "http":
        raise Refusal(400, f"Bad Request: first must not be greater than {reading.max_first}")
    if reading.first_refusal == "graphql-bare":
        raise GraphQLError("Argument 'first' has an invalid value")
    raise GraphQLError(f"Argument 'first' must be between 0 and {reading.max_first}")


def ordering_applied(arguments: dict[str, Any], reading: Reading) -> dict[str, Any]:
    """The arguments with orderBy/orderDirection as lists, or without them where the reading ignores them."""
    if reading.ordering == "ignored":
        return {name: value for name, value in arguments.items() if name not in ("orderBy", "orderDirection")}
    shaped = dict(arguments)
    for name in ("orderBy", "orderDirection"):
        value = arguments.get(name)
        if value is not None and not isinstance(value, list):
            shaped[name] = [value]
    return shaped


def shuffled_slice(stored: list[Any], start: int, end: int, ties: random.Random | None) -> list[Any]:
    """stored[start:end] with the records of each changeDate it touches in a new order (whole changeDates shuffled)."""
    if start >= end:
        return []
    rng = ties or random.Random()
    first = bisect.bisect_left(stored, stored[start].time, key=lambda item: item.time)
    last = bisect.bisect_right(stored, stored[end - 1].time, key=lambda item: item.time)
    reordered: list[Any] = []
    for _moment, group in itertools.groupby(stored[first:last], key=lambda item: item.time):
        same = list(group)
        rng.shuffle(same)
        reordered += same
    return reordered[start - first : end - first]


def date_range(stored: list[Any], arguments: dict[str, Any], zone: tzinfo, to_date_inclusive: bool) -> tuple[int, int]:
    """The slice of `stored` (in time order) that `fromDate`/`toDate` select when read in `zone`."""
    low, high = 0, len(stored)
    if arguments.get("fromDate"):
        start = datetime.combine(_day(arguments["fromDate"]), datetime.min.time(), zone)
        low = bisect.bisect_left(stored, start.astimezone(UTC), key=lambda item: item.time)
    if arguments.get("toDate"):
        last_day = _day(arguments["toDate"]) + timedelta(days=1 if to_date_inclusive else 0)
        end = datetime.combine(last_day, datetime.min.time(), zone)
        high = max(low, bisect.bisect_left(stored, end.astimezone(UTC), key=lambda item: item.time))
    return low, high


def _everything_oldest_first(arguments: dict[str, Any]) -> bool:
    directions = arguments.get("orderDirection") or ["DESC"]
    return (
        bool(arguments.get("lpa"))
        and bool(arguments.get("automaticUpdates"))
        and not arguments.get("users")
        and (arguments.get("orderBy") or ["changeTimestamp"])[0] == "changeTimestamp"
        and str(directions[0]).upper() == "ASC"
    )


def select(window: list[Any], arguments: dict[str, Any]) -> list[Any]:
    """The records of a date range the other arguments keep, in the order asked for."""
    if not arguments.get("lpa", False):
        window = [item for item in window if not item.lpa]
    if not arguments.get("automaticUpdates", False):
        window = [item for item in window if not item.automatic]
    users = arguments.get("users")
    if users:
        window = [item for item in window if item.fields["originatorUserId"] in users]
    order_by = arguments.get("orderBy") or ["changeTimestamp"]
    directions = arguments.get("orderDirection") or ["DESC"]
    if order_by[0] != "changeTimestamp":
        raise GraphQLError(f"Unsupported orderBy column '{order_by[0]}'")
    if str(directions[0]).upper() == "DESC":
        window.reverse()
    return window


def render_record(stored: Any, zone: tzinfo, precision: str = "tenths") -> dict[str, Any]:
    """A stored record as the API returns it: every documented field, changeDate in `zone`."""
    record = {name: stored.fields.get(name) for name in RECORD_FIELDS if name != "changeDate"}
    record["changeDate"] = render_change_date(stored.time.astimezone(zone), precision)
    return {name: record[name] for name in RECORD_FIELDS}


def _graphql_zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise GraphQLError(f"Unknown timezone '{name}'") from None


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise GraphQLError(f"Invalid date '{text}', expected yyyy-MM-dd") from None
