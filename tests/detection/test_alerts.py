"""devtools/alerts.py (the alert preview) and devtools/simulator/scenarios.py (records that should alert)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devtools.alerts import RulePreview, format_preview, preview_alerts
from devtools.simulator.dataset import AuditStore, LiveArrivals
from devtools.simulator.scenarios import RULES, seed_detection_scenarios
from devtools.simulator.server import render_record
from devtools.xql import CorrelationRule, load_rules

RULES_BY_NAME = {rule.name: rule for rule in load_rules()}
MTLS = RULES_BY_NAME["LivePerson - mTLS Certificate or Account Mapping Changed"]
DELETION = RULES_BY_NAME["LivePerson - Mass Deletion by One User"]
T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a Monday


def event(moment: datetime, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "accountId": "12345678",
        "objectType": "Users",
        "objectName": "x",
        "actionType": "Edit",
        "element": "N/A",
        "oldValue": "",
        "newValue": "",
        "changeDate": moment.strftime("%Y-%m-%d %H:%M:%S.0"),
        "originator": "Ada Admin",
        "originatorLoginName": "ada.admin",
        "originatorUserId": "1000001",
        "originatorUserAgent": "",
        "originatorAuthType": "auth1",
        "originatorIsLpa": False,
        "_time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "source_log_type": "audit",
    }
    record.update(fields)
    return record


def pushed(store: AuditStore) -> list[dict[str, Any]]:
    """The store's records as the collector pushes them: the API rendering in UTC, plus _time and source_log_type."""
    events = []
    for stored in store.snapshot():
        record = render_record(stored, UTC)
        record["_time"] = stored.time.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        record["source_log_type"] = "audit"
        events.append(record)
    return events


def only(rule: CorrelationRule, events: list[dict[str, Any]]) -> RulePreview:
    return preview_alerts(events, [rule])[0]


def mtls_change(minutes: float, name: str = "crm.example.com") -> dict[str, Any]:
    return event(T0 + timedelta(minutes=minutes), objectType="MTLS account mapping", objectName=name)


def test_real_time_alerts_per_record_minus_suppression() -> None:
    """
    Given: changes to one mTLS mapping at 0, 20, 50 and 100 minutes, one to another mapping, and an unrelated change
    When: the mTLS rule (REAL_TIME, suppressed 1 hour per object) is previewed
    Then: the mapping alerts at 0 and 100 minutes only (a suppressed alert does not extend the suppression),
          the other mapping alerts once, and the alert texts carry the record's fields
    """
    events = [mtls_change(m) for m in (50, 0, 100, 20)] + [mtls_change(5, "erp"), event(T0, objectType="Skills")]
    preview = only(MTLS, events)
    assert [(alert.time - T0, alert.row["objectName"]) for alert in preview.alerts] == [
        (timedelta(0), "crm.example.com"),
        (timedelta(minutes=5), "erp"),
        (timedelta(minutes=100), "crm.example.com"),
    ]
    assert preview.suppressed == 2 and preview.mode == "REAL_TIME"
    assert preview.alerts[0].name == MTLS.name
    assert 'ada.admin (Ada Admin, LivePerson staff: False) made the change "Edit"' in preview.alerts[0].description


def test_real_time_without_suppression_alerts_every_record() -> None:
    """
    Given: the mTLS rule with suppression switched off, and three changes to one mapping within the hour
    When: it is previewed
    Then: every change alerts
    """
    rule = copy.deepcopy(MTLS)
    rule.document["suppression_enabled"] = False
    assert only(rule, [mtls_change(m) for m in (0, 1, 2)]).count == 3


def deletions(start: datetime, count: int, who: str = "mallory.ops", spacing: timedelta = timedelta(minutes=1)) -> list:
    return [
        event(start + index * spacing, actionType="Delete", objectName=f"agent.{index:02d}", originatorLoginName=who)
        for index in range(count)
    ]


def test_scheduled_runs_overlap_and_suppression_deduplicates() -> None:
    """
    Given: 12 users deleted by one originator from 10:05 to 10:16
    When: the mass-deletion rule (every 30 minutes over the last hour, suppressed 1 hour) is previewed
    Then: the 10:30 run alerts, the 11:00 run finds the same burst and is suppressed, and the alert
          describes the deletions; without suppression both runs would alert
    """
    preview = only(DELETION, deletions(T0 + timedelta(minutes=5), 12))
    assert [alert.time for alert in preview.alerts] == [T0 + timedelta(minutes=30)]
    assert preview.suppressed == 1 and preview.runs == 2  # the 10:30 and 11:00 windows reach the burst
    assert preview.alerts[0].row["deleted_objects"] == 12
    assert preview.alerts[0].description.startswith("mallory.ops deleted 12 distinct Users objects")
    rule = copy.deepcopy(DELETION)
    rule.document["suppression_enabled"] = False
    assert [alert.time for alert in only(rule, deletions(T0 + timedelta(minutes=5), 12)).alerts] == [
        T0 + timedelta(minutes=30),
        T0 + timedelta(hours=1),
    ]


def test_scheduled_burst_across_a_run_is_seen_whole() -> None:
    """
    Given: 12 deletions from 10:25 to 10:36, across the 10:30 run
    When: the mass-deletion rule is previewed
    Then: the 10:30 run sees 5 and stays quiet, the 11:00 run sees all 12 and alerts once
    """
    preview = only(DELETION, deletions(T0 + timedelta(minutes=25), 12))
    assert [alert.time for alert in preview.alerts] == [T0 + timedelta(hours=1)]


def test_scheduled_spread_out_deletions_never_alert() -> None:
    """
    Given: 12 deletions one every 15 minutes, and 9 deletions each by two people in the same minutes
    When: the mass-deletion rule is previewed
    Then: no run sees 10 distinct objects by one originator, so nothing alerts
    """
    spread = deletions(T0, 12, spacing=timedelta(minutes=15))
    pair = deletions(T0, 9, who="ada.admin") + deletions(T0, 9, who="grace.ops")
    assert only(DELETION, spread + pair).count == 0


def test_format_preview() -> None:
    """
    Given: previews of two rules, one with alerts
    When: they are formatted with and without expectations
    Then: the table lists rule, severity, mode and counts, and marks each rule OK or MISMATCH against what was expected
    """
    previews = preview_alerts([mtls_change(0), mtls_change(1)], [MTLS, DELETION])
    plain = format_preview(previews).splitlines()
    assert plain[0].split() == ["Rule", "Severity", "Mode", "Alerts", "Suppressed"]
    assert plain[2].split()[-4:] == ["Medium", "REAL_TIME", "1", "1"]
    table = format_preview(previews, {MTLS.name: 1, DELETION.name: 2, "LivePerson - Gone": 1}).splitlines()
    assert table[2].endswith("1  OK") and table[3].endswith("2  MISMATCH")
    assert table[4].startswith("LivePerson - Gone") and table[4].endswith("MISMATCH (no such rule)")


@pytest.mark.parametrize(
    "end",
    [
        pytest.param(datetime(2026, 12, 4, 12, 30, tzinfo=UTC), id="friday-noon-least-business-time"),
        pytest.param(datetime(2026, 12, 7, 0, 0, tzinfo=UTC), id="monday-midnight-after-a-weekend"),
        pytest.param(datetime(2026, 12, 1, 8, 59, 59, 900000, tzinfo=UTC), id="tuesday-before-nine"),
    ],
)
def test_demo_dataset_raises_exactly_the_expected_alerts(end: datetime) -> None:
    """
    Given: the demo's simulator data (seed 7, three days of 4000 records a day before `end`), then the scenarios
    When: every rule is previewed on the records as the collector pushes them, then again after live arrivals
    Then: the background alone raises nothing, every rule alerts, and each rule raises exactly the returned count
    """
    store = AuditStore(seed=7)
    store.seed_history(end, 3, 4000)
    assert [preview.count for preview in preview_alerts(pushed(store))] == [0] * len(RULES_BY_NAME)
    expected = seed_detection_scenarios(store, end, 3)
    assert set(expected) == set(RULES_BY_NAME) == set(RULES)
    assert all(count > 0 for count in expected.values())
    previews = preview_alerts(pushed(store))
    assert {preview.rule: preview.count for preview in previews} == expected, format_preview(previews, expected)
    arrivals = LiveArrivals(store, per_second=30, clock=lambda: end + timedelta(seconds=5))
    for _ in range(50):
        arrivals.tick()
    assert arrivals.added > 50
    assert {preview.rule: preview.count for preview in preview_alerts(pushed(store))} == expected


def test_scenario_alerts_come_from_the_scenario_records() -> None:
    """
    Given: scenarios seeded on an empty store
    When: the rules are previewed
    Then: the deletion alerts name the scenario's deleter and object types, and the after-hours ones its night admin
    """
    end = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
    store = AuditStore(seed=1)
    expected = seed_detection_scenarios(store, end, 3)
    previews = {preview.rule: preview for preview in preview_alerts(pushed(store))}
    assert {preview.rule: preview.count for preview in previews.values()} == expected
    deletion_rows = [alert.row for alert in previews[DELETION.name].alerts]
    assert sorted((row["deleted_by"], row["objectType"]) for row in deletion_rows) == [
        ("mallory.ops", "Skills"),
        ("mallory.ops", "Users"),
    ]
    after_hours = previews["LivePerson - Access Change Outside Business Hours"].alerts
    assert {alert.row["originatorLoginName"] for alert in after_hours} == {"oscar.night"}
    assert all(alert.time >= end - timedelta(days=3) and alert.time < end for alert in after_hours)


def test_scenarios_need_enough_days() -> None:
    """
    Given: a window of one day
    When: the scenarios are seeded
    Then: ValueError says the window is too short, rather than expectations that could not hold
    """
    with pytest.raises(ValueError, match="too short"):
        seed_detection_scenarios(AuditStore(), datetime(2026, 12, 4, 18, 0, tzinfo=UTC), 1)
