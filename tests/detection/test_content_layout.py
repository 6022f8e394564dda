"""tools/check_content_layout.py on the detection content: a good fixture passes, each kind of breakage is caught."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.check_content_layout import detection_problems, layout_problems

ROOT = Path(__file__).resolve().parents[2]
PACK = "LivePerson"
RULE = "CorrelationRules/LivePerson_mTLS_Certificate_Or_Mapping_Changed.yml"
SCHEDULED_RULE = "CorrelationRules/LivePerson_Mass_Deletion_By_One_User.yml"
DASHBOARD = "XSIAMDashboards/LivePerson_Audit_Trail_Dashboard.json"
REPORT = "XSIAMReports/LivePerson_Weekly_Audit_Trail_Report.json"
PLAYBOOK = "Playbooks/LivePerson_-_Review_Audit_Trail_Changes.yml"
TRIGGER = "Triggers/LivePerson_-_Review_Audit_Trail_Changes.json"
GET_EVENTS_ARGUMENTS = [
    "limit",
    "start_time",
    "end_time",
    "should_push_events",
    "originator",
    "object_types",
    "action_types",
]


def write_integration(pack: Path, arguments: list[str]) -> None:
    """A stand-in integration YAML, so the fixture does not depend on the integration's state in the working tree."""
    document = {
        "commonfields": {"id": PACK, "version": -1},
        "name": PACK,
        "script": {
            "dockerimage": "demisto/python3:3.12.12.6947692",
            "commands": [{"name": "liveperson-get-events", "arguments": [{"name": name} for name in arguments]}],
        },
    }
    (pack / "Integrations" / PACK / f"{PACK}.yml").write_text(yaml.safe_dump(document), encoding="utf-8")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "Packs" / PACK, tmp_path / "Packs" / PACK)
    write_integration(tmp_path / "Packs" / PACK, GET_EVENTS_ARGUMENTS)
    return tmp_path


def pack_of(root: Path) -> Path:
    return root / "Packs" / PACK


def change_yaml(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def change_json(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document), encoding="utf-8")


def set_query(query: str) -> Callable[[dict[str, Any]], None]:
    return lambda document: document.update(xql_query=query)


def first_widget(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    return lambda document: change(document["widgets_data"][0])


def test_the_fixture_passes(root: Path) -> None:
    """
    Given: a copy of the pack with an integration YAML defining every argument the playbook passes
    When: the layout and detection checks run
    Then: they find nothing
    """
    assert layout_problems(root) == []


BASE = "dataset = liveperson_liveengage_raw"
FIELDS = "| fields _time, objectType, objectName, suppression_key"
KEY = '| alter suppression_key = concat(coalesce(objectType, ""), " | ", coalesce(objectName, ""))'


def rule_change(change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    return lambda pack: change_yaml(pack / RULE, change)


def remove(relative: str) -> Callable[[Path], None]:
    return lambda pack: (pack / relative).unlink()


def trigger_change(change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    return lambda pack: change_json(pack / TRIGGER, change)


def playbook_task(number: str, change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    return lambda pack: change_yaml(pack / PLAYBOOK, lambda document: change(document["tasks"][number]))


BREAKAGES = [
    pytest.param(
        trigger_change(lambda doc: doc.update(playbook_id="LivePerson - Missing")),
        "playbook_id 'LivePerson - Missing' is not the id of a playbook in LivePerson",
        id="trigger-playbook-missing",
    ),
    pytest.param(
        trigger_change(lambda doc: doc["alerts_filter"]["filter"]["OR"].pop()),
        "no trigger picks up its alert",
        id="rule-not-attached",
    ),
    pytest.param(
        trigger_change(lambda doc: doc["alerts_filter"]["filter"]["OR"][0].update(SEARCH_VALUE="LivePerson - Typo")),
        "filters on alert_name 'LivePerson - Typo', which no correlation rule raises",
        id="trigger-unknown-alert",
    ),
    pytest.param(
        remove("Playbooks/LivePerson_-_Review_Audit_Trail_Changes_README.md"),
        "missing its README",
        id="playbook-readme",
    ),
    pytest.param(
        remove("doc_files/LivePerson_-_Review_Audit_Trail_Changes.png"),
        "missing its image doc_files/",
        id="playbook-image",
    ),
    pytest.param(
        remove("XSIAMDashboards/LivePerson_Audit_Trail_Dashboard_image.png"),
        "missing its preview image",
        id="dashboard-image",
    ),
    pytest.param(
        remove("XSIAMReports/LivePerson_Weekly_Audit_Trail_Report_image.png"),
        "missing its preview image",
        id="report-image",
    ),
    pytest.param(
        lambda pack: write_integration(pack, [name for name in GET_EVENTS_ARGUMENTS if name != "originator"]),
        "passes 'originator' to liveperson-get-events, which its integration YAML does not define",
        id="argument-not-in-integration",
    ),
    pytest.param(
        playbook_task("2", lambda task: task["task"].update(script="|||liveperson-get-audit")),
        "calls 'liveperson-get-audit', which no integration of the pack defines",
        id="unknown-command",
    ),
    pytest.param(
        playbook_task("9", lambda task: task["task"].update(script="Builtin|||deleteAlert")),
        "calls the built-in deleteAlert, which this check does not know",
        id="unknown-builtin",
    ),
    pytest.param(
        playbook_task("9", lambda task: task["scriptarguments"].update(reason={"simple": "x"})),
        "passes reason to closeInvestigation",
        id="builtin-argument",
    ),
    pytest.param(
        rule_change(set_query(f'{BASE} | filter nosuch = "x" {KEY} {FIELDS}')),
        "names unknown field 'nosuch'",
        id="rule-unknown-field",
    ),
    pytest.param(
        rule_change(set_query(f"dataset = xdr_data {KEY} {FIELDS}")),
        "queries dataset 'xdr_data', not 'liveperson_liveengage_raw'",
        id="rule-other-dataset",
    ),
    pytest.param(rule_change(set_query(f"{BASE} | dedup objectName")), "unsupported stage 'dedup'", id="rule-stage"),
    pytest.param(
        rule_change(set_query(f"{BASE} {KEY} | comp count() as n by _time, objectType, objectName, suppression_key")),
        "REAL_TIME rules may only use dataset, filter, alter, fields; found comp",
        id="real-time-comp",
    ),
    pytest.param(
        rule_change(set_query(f"{BASE} {KEY} | fields objectType, objectName, suppression_key")),
        "a REAL_TIME rule must keep _time in its output",
        id="real-time-without-time",
    ),
    pytest.param(
        rule_change(lambda doc: doc.update(alert_description="Changed by $changed_by")),
        "alert_description names 'changed_by', which the query does not output",
        id="alert-description-column",
    ),
    pytest.param(
        rule_change(lambda doc: doc.update(suppression_fields="originatorLoginName, nosuch")),
        "suppression_fields names 'nosuch'",
        id="suppression-column",
    ),
    pytest.param(
        rule_change(lambda doc: doc.update(severity="SEV_099_DOOM")), "unknown severity 'SEV_099_DOOM'", id="severity"
    ),
    pytest.param(
        lambda pack: change_yaml(pack / SCHEDULED_RULE, lambda doc: doc.update(crontab="every hour")),
        "crontab needs five fields",
        id="scheduled-crontab",
    ),
    pytest.param(
        lambda pack: (pack / RULE).rename(pack / "CorrelationRules" / "mTLS_Changed.yml"),
        "the file name must start with 'LivePerson_'",
        id="rule-file-name",
    ),
    pytest.param(
        lambda pack: change_json(
            pack / DASHBOARD,
            first_widget(lambda widget: widget["data"].update(phrase=f"{BASE} | comp count() as n by nosuch")),
        ),
        "names unknown field 'nosuch'",
        id="widget-unknown-field",
    ),
    pytest.param(
        lambda pack: change_json(
            pack / REPORT,
            first_widget(lambda widget: widget["data"].update(phrase=f"{BASE} | windowcomp count() as n")),
        ),
        "unsupported stage 'windowcomp'",
        id="report-widget-stage",
    ),
    pytest.param(
        lambda pack: change_json(
            pack / DASHBOARD, first_widget(lambda widget: widget["data"]["viewOptions"].update(type="pie"))
        ),
        "differ from the phrase's view",
        id="view-options-drift",
    ),
    pytest.param(
        lambda pack: change_json(
            pack / DASHBOARD, lambda doc: doc["dashboards_data"][0]["layout"][0]["data"][0].update(key="xql_1")
        ),
        "cell xql_1 shows no widget of widgets_data",
        id="layout-unknown-widget",
    ),
    pytest.param(
        lambda pack: change_json(
            pack / DASHBOARD,
            lambda doc: doc["dashboards_data"][0]["layout"][0]["data"][0]["data"].update(phrase=f"{BASE} | limit 1"),
        ),
        "has a query other than its widget's",
        id="layout-query-drift",
    ),
]


@pytest.mark.parametrize("breakage, complaint", BREAKAGES)
def test_each_breakage_is_caught(root: Path, breakage: Callable[[Path], None], complaint: str) -> None:
    """
    Given: the good fixture with one thing broken
    When: the detection checks run on the pack
    Then: the problem is reported, naming what is wrong
    """
    breakage(pack_of(root))
    problems = detection_problems(pack_of(root))
    assert any(complaint in problem for problem in problems), problems


def test_main_reports_and_fails(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """
    Given: the fixture with the trigger pointing at a missing playbook
    When: the script's main runs from the fixture's root
    Then: it prints the problem and a count, and exits 1
    """
    from tools import check_content_layout

    trigger_change(lambda doc: doc.update(playbook_id="Nope"))(pack_of(root))
    monkeypatch.chdir(root)
    assert check_content_layout.main() == 1
    output = capsys.readouterr().out
    assert "playbook_id 'Nope' is not the id of a playbook" in output
    assert output.rstrip().endswith("content layout: 1 problem(s)")


def test_a_rule_that_does_not_parse_is_reported_once(root: Path) -> None:
    """
    Given: the fixture with one rule's query using an unsupported stage
    When: the detection checks run
    Then: that is the only problem: the trigger still knows the rule's alert name, so nothing else is blamed
    """
    change_yaml(pack_of(root) / RULE, set_query(f"{BASE} | dedup objectName"))
    problems = detection_problems(pack_of(root))
    assert len(problems) == 1 and "unsupported stage 'dedup'" in problems[0]
