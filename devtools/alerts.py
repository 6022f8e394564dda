"""Which alerts the pack's correlation rules would raise on a set of pushed events: a local preview.

Every rule in ``Packs/LivePerson/CorrelationRules`` is run with our XQL library (``devtools/xql/``)
on events shaped as the collector pushes them (the raw record fields, ``_time`` as ISO 8601 UTC, and
``source_log_type``). How the platform is modelled:

REAL_TIME rules
    Each event the query selects is one candidate alert, timed at the event's ``_time`` (as if every
    record arrived when it happened: steady collection, not a backfill ingested at once, which the
    platform would suppress harder because it times suppression by arrival). Candidates are taken in
    time order. With ``suppression_enabled``, the key is the values of ``suppression_fields`` (comma-
    separated column names); a candidate is dropped when an alert with the same key was raised less than
    ``suppression_duration`` before it. Only raised alerts open a suppression period.

SCHEDULED rules
    The rule runs at every time its ``crontab`` (UTC) fires, from just after the first event until the
    first run whose ``search_window`` no longer reaches the last event, so every window holding events is
    run once (later runs than now included: they would happen). A run at ``t`` evaluates the query on the
    events with ``t - search_window <= _time < t``; each row is a candidate alert timed ``t``. Windows
    overlap when the window is longer than the interval between runs, and the same burst is then found
    by two runs: suppression (as above, timed by run) is what de-duplicates it, as on the platform.
    Without suppression, overlapping runs alert twice, which the preview shows.

The preview answers "how many alerts, and which", so the counts can be compared with what a scenario
expects (``format_preview``).

Layer: on the XQL library; imports devtools.xql only. The runner and the demo import it for their summaries.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from devtools.xql import CorrelationRule, as_timestamp, load_rules


@dataclass
class PreviewAlert:
    time: datetime
    name: str
    description: str
    row: dict[str, Any]


@dataclass
class RulePreview:
    rule: str
    severity: str
    mode: str
    alerts: list[PreviewAlert] = field(default_factory=list)
    suppressed: int = 0
    runs: int = 0

    @property
    def count(self) -> int:
        return len(self.alerts)


class Suppressor:
    """Drops a candidate whose key had an alert less than `duration` before it (None: nothing is dropped)."""

    def __init__(self, fields: Sequence[str], duration: timedelta | None) -> None:
        self.fields = list(fields)
        self.duration = duration
        self.last_raised: dict[tuple[Any, ...], datetime] = {}

    def admit(self, row: dict[str, Any], moment: datetime) -> bool:
        if self.duration is None:
            return True
        key = tuple(str(row.get(name)) for name in self.fields)
        previous = self.last_raised.get(key)
        if previous is not None and moment - previous < self.duration:
            return False
        self.last_raised[key] = moment
        return True


def event_time(event: dict[str, Any]) -> datetime:
    moment = as_timestamp(event.get("_time"), "_time")
    if moment is None:
        raise ValueError(f"an event has no _time: {event}")
    return moment


def preview_rule(rule: CorrelationRule, events: list[dict[str, Any]]) -> RulePreview:
    preview = RulePreview(rule.name, rule.severity, "SCHEDULED" if rule.scheduled else "REAL_TIME")
    suppressor = Suppressor(rule.suppression_fields, rule.suppression_duration)
    timed = sorted(((event_time(event), index, event) for index, event in enumerate(events)), key=lambda item: item[:2])
    candidates: list[tuple[datetime, dict[str, Any]]] = []
    if not rule.scheduled:
        preview.runs = 1
        rows = rule.query.run(event for _, _, event in timed)
        candidates = [(event_time(row), row) for row in rows]
        candidates.sort(key=lambda item: item[0])
    elif timed:
        times = [moment for moment, _, _ in timed]
        window = rule.search_window
        for run_at in rule.cron.times(times[0], times[-1] + window):
            low = bisect.bisect_left(times, run_at - window)
            high = bisect.bisect_left(times, run_at)
            preview.runs += 1
            if low < high:
                candidates += [(run_at, row) for row in rule.query.run(event for _, _, event in timed[low:high])]
    for moment, row in candidates:
        if suppressor.admit(row, moment):
            preview.alerts.append(
                PreviewAlert(moment, rule.render("alert_name", row), rule.render("alert_description", row), row)
            )
        else:
            preview.suppressed += 1
    return preview


def preview_alerts(events: list[dict[str, Any]], rules: Sequence[CorrelationRule] | None = None) -> list[RulePreview]:
    """The alerts every shipped rule (or the `rules` given) would raise on these pushed events."""
    return [preview_rule(rule, events) for rule in (load_rules() if rules is None else rules)]


def format_preview(previews: Sequence[RulePreview], expected: dict[str, int] | None = None) -> str:
    """A small table: rule, severity, mode, alerts (and suppressed), expected and OK/MISMATCH when given."""
    headers = ["Rule", "Severity", "Mode", "Alerts", "Suppressed"] + (["Expected", "Result"] if expected else [])
    lines = []
    for preview in previews:
        cells = [preview.rule, preview.severity, preview.mode, str(preview.count), str(preview.suppressed)]
        if expected is not None:
            wanted = expected.get(preview.rule)
            verdict = "OK" if wanted == preview.count else "MISMATCH"
            cells += ["-" if wanted is None else str(wanted), verdict]
        lines.append(cells)
    if expected is not None:
        unknown = sorted(set(expected) - {preview.rule for preview in previews})
        lines += [[name, "-", "-", "-", "-", str(expected[name]), "MISMATCH (no such rule)"] for name in unknown]
    widths = [max(len(row[column]) for row in [headers, *lines]) for column in range(len(headers))]
    numeric = {"Alerts", "Suppressed", "Expected"}

    def render(row: list[str]) -> str:
        parts = [
            cell.rjust(width) if headers[column] in numeric else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule_line = "  ".join("-" * width for width in widths)
    return "\n".join([render(headers), rule_line, *(render(row) for row in lines)])
