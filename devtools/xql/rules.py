"""The pack's correlation rules read as XSIAM reads them: query, schedule, suppression and alert texts.

Layer: part of the XQL library (devtools/xql/); imports the library's parser and evaluator, and yaml.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from devtools.xql.evaluator import TIME_FIELDS, Query, Row
from devtools.xql.lexer import XqlError
from devtools.xql.parser import parse

ROOT = Path(__file__).resolve().parents[2]
PACK_DIR = ROOT / "Packs" / "LivePerson"
RULES_DIR = PACK_DIR / "CorrelationRules"
SCHEMA_PATH = PACK_DIR / "ModelingRules" / "LivePerson" / "LivePerson_schema.json"
DATASET = "liveperson_liveengage_raw"
REAL_TIME_STAGES = ("dataset", "filter", "alter", "fields")
SEVERITIES = {
    "SEV_010_INFO": "Informational",
    "SEV_020_LOW": "Low",
    "SEV_030_MEDIUM": "Medium",
    "SEV_040_HIGH": "High",
    "SEV_050_CRITICAL": "Critical",
}


def schema_fields(path: Path = SCHEMA_PATH, dataset: str = DATASET) -> list[str]:
    """The raw dataset's fields from the modeling-rule schema, plus the system time fields."""
    document = json.loads(path.read_text(encoding="utf-8"))
    return list(document[dataset]) + list(TIME_FIELDS)


# ------------------------------------------------------------------------------------- schedules

DURATION_PATTERN = re.compile(r"^\s*(\d+)\s*(minute|minutes|hour|hours|day|days)\s*$", re.IGNORECASE)


def parse_duration(text: Any) -> timedelta:
    """'10 minutes', '1 hours', '1 days' (the correlation-rule spelling) as a timedelta."""
    match = DURATION_PATTERN.match(str(text or ""))
    if match is None:
        raise XqlError(f"not a duration like '1 hours': {text!r}")
    unit = match.group(2).lower().rstrip("s")
    return timedelta(**{f"{unit}s": int(match.group(1))})


@dataclass
class Cron:
    """A five-field crontab (minute hour day-of-month month day-of-week), evaluated in UTC."""

    text: str
    fields: list[set[int]] = field(default_factory=list)
    restricted: list[bool] = field(default_factory=list)

    RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))

    def __post_init__(self) -> None:
        parts = self.text.split()
        if len(parts) != 5:
            raise XqlError(f"crontab needs five fields: {self.text!r}")
        for part, (low, high) in zip(parts, self.RANGES, strict=True):
            self.fields.append(self._field(part, low, high))
            self.restricted.append(part != "*")
        if 7 in self.fields[4]:
            self.fields[4].add(0)  # 7 is Sunday too

    def _field(self, part: str, low: int, high: int) -> set[int]:
        values: set[int] = set()
        for item in part.split(","):
            match = re.fullmatch(r"(\*|\d+(?:-\d+)?)(?:/(\d+))?", item)
            if match is None:
                raise XqlError(f"unsupported crontab field {part!r} in {self.text!r}")
            span, step = match.group(1), int(match.group(2) or 1)
            first, last = (low, high) if span == "*" else (int(span.split("-")[0]), int(span.split("-")[-1]))
            if not low <= first <= last <= high or step < 1:
                raise XqlError(f"crontab field {part!r} is out of range {low}-{high}")
            values.update(range(first, last + 1, step))
        return values

    def matches(self, moment: datetime) -> bool:
        minute, hour, day, month, weekday = self.fields
        if moment.minute not in minute or moment.hour not in hour or moment.month not in month:
            return False
        day_ok, weekday_ok = moment.day in day, moment.isoweekday() % 7 in weekday
        if self.restricted[2] and self.restricted[4]:
            return day_ok or weekday_ok
        return day_ok and weekday_ok

    def times(self, start: datetime, end: datetime) -> list[datetime]:
        """Every firing in (start, end], to the minute."""
        moment = start.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        found = []
        while moment <= end:
            if self.matches(moment):
                found.append(moment)
            moment += timedelta(minutes=1)
        return found


# ------------------------------------------------------------------------------- correlation rules

DOLLAR_NAME = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass
class CorrelationRule:
    path: Path
    document: dict[str, Any]
    query: Query

    @property
    def name(self) -> str:
        return str(self.document.get("name"))

    @property
    def severity(self) -> str:
        return SEVERITIES.get(str(self.document.get("severity")), str(self.document.get("severity")))

    @property
    def scheduled(self) -> bool:
        return self.document.get("execution_mode") == "SCHEDULED"

    @property
    def search_window(self) -> timedelta:
        return parse_duration(self.document.get("search_window"))

    @property
    def cron(self) -> Cron:
        return Cron(str(self.document.get("crontab") or ""))

    @property
    def suppression_fields(self) -> list[str]:
        text = str(self.document.get("suppression_fields") or "")
        return [name.strip() for name in text.split(",") if name.strip()]

    @property
    def suppression_duration(self) -> timedelta | None:
        if not self.document.get("suppression_enabled"):
            return None
        return parse_duration(self.document.get("suppression_duration"))

    def render(self, template_key: str, row: Row) -> str:
        """alert_name / alert_description with each $column replaced by the row's value."""

        def value(match: re.Match[str]) -> str:
            found = row.get(match.group(1))
            if isinstance(found, datetime):
                return found.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            if isinstance(found, list):
                return ", ".join(str(item) for item in found)
            return "" if found is None else str(found)

        return DOLLAR_NAME.sub(value, str(self.document.get(template_key) or ""))

    def problems(self, available: Sequence[str]) -> list[str]:
        """What makes the rule wrong for this pack, beyond the SDK's schema checks."""
        document, found = self.document, []
        if self.query.dataset != DATASET:
            found.append(f"queries dataset '{self.query.dataset}', not '{DATASET}'")
        if document.get("dataset") != "alerts":
            found.append("its 'dataset' (the rule's output) must be 'alerts'")
        query_problems, columns = self.query.analyse(available)
        found += query_problems
        if self.scheduled:
            for check in (lambda: self.search_window, lambda: self.cron):
                try:
                    check()
                except XqlError as error:
                    found.append(str(error))
        else:
            extra = [stage.keyword for stage in self.query.stages if stage.keyword not in REAL_TIME_STAGES]
            if extra:
                found.append(f"REAL_TIME rules may only use {', '.join(REAL_TIME_STAGES)}; found {', '.join(extra)}")
            if "_time" not in columns:
                found.append("a REAL_TIME rule must keep _time in its output")
        if document.get("suppression_enabled"):
            try:
                _ = self.suppression_duration
            except XqlError as error:
                found.append(f"suppression_duration: {error}")
            if not self.suppression_fields:
                found.append("suppression is enabled without suppression_fields")
        named: dict[str, list[str]] = {"suppression_fields": self.suppression_fields}
        named["alert_fields"] = [str(value) for value in (document.get("alert_fields") or {}).values()]
        for key in ("alert_name", "alert_description"):
            named[key] = DOLLAR_NAME.findall(str(document.get(key) or ""))
        if document.get("severity") == "User Defined":
            named["user_defined_severity"] = [str(document.get("user_defined_severity"))]
        elif document.get("severity") not in SEVERITIES:
            found.append(f"unknown severity {document.get('severity')!r}")
        for key, names in named.items():
            found += [f"{key} names '{name}', which the query does not output" for name in names if name not in columns]
        return found


def load_rule(path: Path) -> CorrelationRule:
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(document, dict) or "xql_query" not in document:
        raise XqlError(f"{path.name} has no xql_query")
    try:
        query = parse(str(document["xql_query"]))
    except XqlError as error:
        raise XqlError(f"{path.name}: {error}") from None
    return CorrelationRule(path, document, query)


def load_rules(folder: Path = RULES_DIR) -> list[CorrelationRule]:
    return [load_rule(path) for path in sorted(folder.glob("*.yml"))]
