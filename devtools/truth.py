"""Compares what reached XSIAM with what exists: records are equal when every LivePerson field is.

Layer: beside the runner, on the simulator; imports devtools.simulator.schema only.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
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
