"""Compares what reached XSIAM with what exists: records are equal when every LivePerson field is.

Layer: beside the runner, on the simulator; imports devtools.simulator.schema only.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from devtools.simulator.schema import RECORD_FIELDS


def record_key(event: dict[str, Any]) -> str:
    return json.dumps({name: event.get(name) for name in RECORD_FIELDS}, sort_keys=True)


@dataclass
class Comparison:
    expected: int
    delivered: int
    missing: int
    duplicated: int
    unexpected: int

    @property
    def exact(self) -> bool:
        return self.missing == 0 and self.duplicated == 0 and self.unexpected == 0

    def summary(self) -> str:
        return (
            f"{self.delivered} delivered of {self.expected} expected: {self.missing} missing, "
            f"{self.duplicated} duplicated, {self.unexpected} unexpected"
        )


def compare(expected: list[dict[str, Any]], delivered: list[dict[str, Any]]) -> Comparison:
    """Multiset comparison, so identical twins must arrive exactly as many times as they exist."""
    wanted = Counter(record_key(item) for item in expected)
    got = Counter(record_key(item) for item in delivered)
    return Comparison(
        expected=sum(wanted.values()),
        delivered=sum(got.values()),
        missing=sum((wanted - got).values()),
        duplicated=sum(max(0, got[key] - count) for key, count in wanted.items()),
        unexpected=sum(count for key, count in got.items() if key not in wanted),
    )


RESULT_WINDOW_WARNING = re.compile(
    r"result window.*? from (?P<start>\S+) to (?P<end>\S+) could not be read.*?: "
    r"(?:about (?P<count>[\d,]+)|an unknown number of) record"
)


@dataclass(frozen=True)
class GivenUp:
    """A stretch of changeDates a result-window warning said could not be collected, and how many (None: unknown)."""

    start: datetime
    end: datetime
    count: int | None


def given_up_to_the_result_window(lines: list[str]) -> list[GivenUp]:
    """The stretches the integration's result-window warnings in `lines` gave up."""
    stretches: list[GivenUp] = []
    for line in lines:
        if (found := RESULT_WINDOW_WARNING.search(line)) is not None:
            count = int(found["count"].replace(",", "")) if found["count"] else None
            start, end = datetime.fromisoformat(found["start"]), datetime.fromisoformat(found["end"])
            stretches.append(GivenUp(start, end, count))
    return stretches


def missing_outside(expected: list[dict[str, Any]], delivered: list[dict[str, Any]], stretches: list[GivenUp]) -> int:
    """How many records that were not delivered lie outside every given-up stretch: none may."""
    got = Counter(record_key(item) for item in delivered)
    outside = 0
    for item in expected:
        key = record_key(item)
        if got[key]:
            got[key] -= 1
            continue
        moment = datetime.fromisoformat(str(item["changeDate"])).replace(tzinfo=UTC)
        outside += not any(stretch.start <= moment < stretch.end for stretch in stretches)
    return outside
