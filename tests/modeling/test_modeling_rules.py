"""The modeling rules, their schema and test data stay true to each other and to what the collector sends."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from devtools.xql import XqlError
from tools.check_modeling_rules import RULES_DIR, check_all, events_from_the_integration

Events = tuple[list[dict[str, Any]], str, str]


@pytest.fixture(scope="module")
def integration_events() -> Events:
    """Events exactly as the integration pushes them, read from the simulator over HTTPS."""
    return events_from_the_integration(limit=300)


@pytest.fixture
def scratch_rules(tmp_path: Path) -> Path:
    copy = tmp_path / "ModelingRules"
    shutil.copytree(RULES_DIR, copy)
    return copy


def edit_schema(rules: Path, folder: str, change: Any) -> None:
    path = rules / folder / f"{folder}_schema.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document["liveperson_liveengage_raw"])
    path.write_text(json.dumps(document), encoding="utf-8")


def edit_xif(rules: Path, folder: str, old: str, new: str) -> None:
    path = rules / folder / f"{folder}.xif"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_the_shipped_rules_pass(integration_events: Events) -> None:
    """
    Given: the modeling rules as committed, and 300 events pushed by the integration from the simulator
    When: the consistency check runs
    Then: it finds nothing, and the events really exercise the rules (LPA and non-LPA, several object types)
    """
    events, vendor, product = integration_events
    assert check_all(events, vendor, product) == []
    assert {event["originatorIsLpa"] for event in events} == {True, False}
    assert len({event["objectType"] for event in events}) >= 4


def test_removing_a_schema_field_fails(integration_events: Events, scratch_rules: Path) -> None:
    """
    Given: a scratch copy whose schema lost originatorUserId
    When: the check runs
    Then: it reports both that the .xif reads it and that the collector sends it
    """
    edit_schema(scratch_rules, "LivePerson", lambda fields: fields.pop("originatorUserId"))
    problems = check_all(*integration_events, rules_dir=scratch_rules)
    assert "LivePerson.xif reads originatorUserId, which is not in the schema" in problems
    assert "LivePerson_schema.json lacks originatorUserId, which the collector sends" in problems


def test_renaming_the_dataset_fails(integration_events: Events, scratch_rules: Path) -> None:
    """
    Given: a scratch copy whose 8.15 rule reads another dataset
    When: the check runs
    Then: it names the mismatch with the collector's vendor and product
    """
    edit_xif(scratch_rules, "LivePerson_2_11", "dataset=liveperson_liveengage_raw", "dataset=liveperson_audit_raw")
    problems = check_all(*integration_events, rules_dir=scratch_rules)
    assert (
        "LivePerson_2_11.xif: dataset liveperson_audit_raw is not the collector's liveperson_liveengage_raw" in problems
    )


def test_a_wrong_schema_type_fails(integration_events: Events, scratch_rules: Path) -> None:
    """
    Given: a schema calling originatorIsLpa a string
    When: the check runs
    Then: the type the collector really sends (boolean) is named
    """
    edit_schema(scratch_rules, "LivePerson", lambda fields: fields["originatorIsLpa"].update(type="string"))
    problems = check_all(*integration_events, rules_dir=scratch_rules)
    assert "LivePerson_schema.json: originatorIsLpa is string, the collector sends {'boolean'}" in problems


def test_an_unknown_xdm_field_fails(integration_events: Events, scratch_rules: Path) -> None:
    """
    Given: a rule writing xdm.source.user.display_name, which is not an XDM field
    When: the check runs
    Then: it is reported
    """
    edit_xif(scratch_rules, "LivePerson", "xdm.source.user.first_name", "xdm.source.user.display_name")
    problems = check_all(*integration_events, rules_dir=scratch_rules)
    assert "LivePerson.xif writes xdm.source.user.display_name, which is not an XDM field this check knows" in problems


def test_an_array_field_given_a_string_fails(integration_events: Events, scratch_rules: Path) -> None:
    """
    Given: xdm.source.user.groups given a plain string
    When: the check runs on events with LPA changes
    Then: the type is reported
    """
    edit_xif(scratch_rules, "LivePerson", 'arraycreate("LivePerson staff (LPA)")', '"LivePerson staff (LPA)"')
    problems = check_all(*integration_events, rules_dir=scratch_rules)
    assert any(problem.startswith("LivePerson.xif: xdm.source.user.groups must be an array") for problem in problems)


def test_identity_mirror_and_variant_drift_fail(integration_events: Events, scratch_rules: Path) -> None:
    """
    Given: an 8.15 rule whose identity.username no longer mirrors user.username, and a changed mapping
    When: the check runs
    Then: both the mirror and the drift from the older variant are reported, and the test data no longer matches
    """
    edit_xif(
        scratch_rules,
        "LivePerson_2_11",
        "xdm.source.identity.username = coalesce(originatorLoginName, originator)",
        "xdm.source.identity.username = originator",
    )
    edit_xif(
        scratch_rules, "LivePerson_2_11", "xdm.target.resource.type = objectType", "xdm.target.resource.type = element"
    )
    problems = check_all(*integration_events, rules_dir=scratch_rules)
    assert any("xdm.source.user.username is not mirrored by xdm.source.identity.username" in item for item in problems)
    assert "LivePerson_2_11.xif: xdm.target.resource.type differs from LivePerson.xif or is missing" in problems
    assert any("expected_values are not what LivePerson_2_11.xif gives" in item for item in problems)


def test_a_type_clash_on_the_collectors_events_is_reported(integration_events: Events, scratch_rules: Path) -> None:
    """
    Given: a rule concatenating originatorIsLpa (a boolean the collector sends) into the description
    When: the check runs
    Then: the clash the XQL library finds is one problem line naming the rule, not a traceback
    """
    edit_xif(scratch_rules, "LivePerson", '" - ", actionType,', '" - ", originatorIsLpa,')
    problems = check_all(*integration_events, rules_dir=scratch_rules)
    clash = "LivePerson.xif fails on an event the collector sends: concat needs a string, got boolean"
    assert sum(problem.startswith(clash) for problem in problems) == 1


def test_a_rule_outside_the_subset_is_an_error_naming_its_file(integration_events: Events, scratch_rules: Path) -> None:
    """
    Given: a rule using a constant the XQL library does not know
    When: the check runs
    Then: it stops with an error naming the .xif and the constant, rather than guessing a value
    """
    edit_xif(scratch_rules, "LivePerson_2_11", "XDM_CONST.OUTCOME_SUCCESS", "XDM_CONST.OUTCOME_MAYBE")
    with pytest.raises(XqlError, match="LivePerson_2_11.xif: unknown constant XDM_CONST.OUTCOME_MAYBE"):
        check_all(*integration_events, rules_dir=scratch_rules)
