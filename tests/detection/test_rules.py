"""The shipped correlation rules: their examples, their fields, and the examples command that proves them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from devtools.xql import DATASET, RULES_DIR, load_rule, load_rules, schema_fields
from tools.xql_eval import EXAMPLES_DIR, check_examples, main

RULE_FILES = sorted(RULES_DIR.glob("*.yml"))


def test_the_pack_ships_the_rules_the_issue_asks_for() -> None:
    """
    Given: the pack's CorrelationRules folder
    When: the rules are loaded
    Then: the six required detections are there (and one more), each with a severity and a MITRE mapping
    """
    rules = {rule.name: rule for rule in load_rules()}
    assert set(rules) == {
        "LivePerson - Administrative Permission Granted to Profile",
        "LivePerson - Access Change Made by LivePerson Staff",
        "LivePerson - Mass Deletion by One User",
        "LivePerson - Access Change Outside Business Hours",
        "LivePerson - mTLS Certificate or Account Mapping Changed",
        "LivePerson - Link Added to Customer-Facing Content",
        "LivePerson - User Given Administrator Profile or API Access",
    }
    for rule in rules.values():
        assert rule.severity in ("Low", "Medium", "High"), rule.name
        assert rule.document["mitre_defs"], rule.name
        assert rule.document["suppression_enabled"] is True, rule.name
    assert [rule.name for rule in rules.values() if rule.scheduled] == ["LivePerson - Mass Deletion by One User"]


@pytest.mark.parametrize("path", [pytest.param(path, id=path.stem) for path in RULE_FILES])
def test_rule_reads_only_schema_fields_of_the_raw_dataset(path: Path) -> None:
    """
    Given: a shipped rule
    When: its query is analysed against the modeling schema's raw fields plus _time and _insert_time
    Then: it reads the raw dataset, names no unknown field, and its alert texts name only columns it outputs
    """
    rule = load_rule(path)
    assert rule.query.dataset == DATASET
    assert rule.problems(schema_fields()) == []


@pytest.mark.parametrize("path", [pytest.param(path, id=path.stem) for path in RULE_FILES])
def test_rule_selects_exactly_its_positive_examples(path: Path) -> None:
    """
    Given: a shipped rule and its examples in the raw shape (tests/detection/test_data/<rule>.json)
    When: the rule's query runs on each positive and each negative case
    Then: every positive is selected and no negative is, with at least three of each
    """
    result = check_examples()[[p.stem for p in RULE_FILES].index(path.stem)]
    assert result.problems == []
    assert result.positives >= 3 and result.negatives >= 3
    assert (result.positives_selected, result.negatives_selected) == (result.positives, 0)


def test_every_examples_file_belongs_to_a_rule() -> None:
    """
    Given: the examples folder
    When: its files are matched with the rule files
    Then: none is left over (a renamed rule would otherwise lose its examples silently)
    """
    assert sorted(path.stem for path in EXAMPLES_DIR.glob("*.json")) == sorted(path.stem for path in RULE_FILES)


@pytest.fixture
def scratch(tmp_path: Path) -> tuple[Path, Path]:
    rules, examples = tmp_path / "rules", tmp_path / "examples"
    shutil.copytree(RULES_DIR, rules)
    shutil.copytree(EXAMPLES_DIR, examples)
    return rules, examples


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_examples_command_passes_on_the_shipped_rules(capsys: pytest.CaptureFixture[str]) -> None:
    """
    Given: the shipped rules and examples
    When: python -m tools.xql_eval --check-examples runs
    Then: it exits 0 and prints one OK line per rule with its counts
    """
    assert main(["--check-examples"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(RULE_FILES) + 1
    assert all(line.startswith("OK") and "negatives selected 0/" in line for line in lines[:-1])


@pytest.mark.parametrize(
    "rule, old, new, complaint",
    [
        pytest.param(
            "LivePerson_Mass_Deletion_By_One_User",
            "deleted_objects >= 10",
            "deleted_objects >= 9",
            "negative '9 users' is selected",
            id="looser-threshold",
        ),
        pytest.param(
            "LivePerson_Admin_Permission_Granted_To_Profile",
            "|api key administration",
            "",
            "positive 'API key administration switched on' is not selected",
            id="narrower-list",
        ),
        pytest.param(
            "LivePerson_Access_Change_Outside_Business_Hours",
            "change_weekday > 5",
            "change_weekday > 7",
            "positive 'password changed on a Saturday' is not selected",
            id="weekend-dropped",
        ),
        pytest.param(
            "LivePerson_Link_Added_To_Customer_Facing_Content",
            "and links_after != links_before",
            "",
            "negative 'same link kept' is selected",
            id="any-link",
        ),
        pytest.param(
            "LivePerson_mTLS_Certificate_Or_Mapping_Changed",
            "| filter objectType",
            "| dedup objectType",
            "unsupported stage 'dedup'",
            id="unsupported-stage",
        ),
    ],
)
def test_examples_command_fails_when_a_rule_drifts(
    scratch: tuple[Path, Path], capsys: pytest.CaptureFixture[str], rule: str, old: str, new: str, complaint: str
) -> None:
    """
    Given: a scratch copy of the rules where one rule's query was changed
    When: the examples command runs on it
    Then: it exits 1 and the rule's line says MISMATCH, naming the example that now goes the wrong way
    """
    rules, examples = scratch
    edit(rules / f"{rule}.yml", old, new)
    assert main(["--check-examples", "--rules-dir", str(rules), "--examples-dir", str(examples)]) == 1
    output = capsys.readouterr().out
    assert complaint in output
    assert sum(line.startswith("MISMATCH") for line in output.splitlines()) == 1


def test_examples_must_be_in_the_raw_shape(scratch: tuple[Path, Path]) -> None:
    """
    Given: an examples file whose record lacks a raw field, and one with two records in a REAL_TIME case
    When: the examples are checked
    Then: both are reported, even though the query still selects the records
    """
    rules, examples = scratch
    path = examples / "LivePerson_mTLS_Certificate_Or_Mapping_Changed.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    del document["positives"][0]["records"][0]["originatorAuthType"]
    document["negatives"][0]["records"] *= 2
    path.write_text(json.dumps(document), encoding="utf-8")
    result = next(item for item in check_examples(rules, examples) if "mTLS" in item.rule)
    assert not result.ok
    assert any("not in the raw shape (differs in originatorAuthType)" in problem for problem in result.problems)
    assert any("a REAL_TIME case is one record" in problem for problem in result.problems)


def test_a_rule_without_examples_fails(scratch: tuple[Path, Path]) -> None:
    """
    Given: a rule whose examples file is missing
    When: the examples command runs
    Then: the rule is a mismatch and the command exits 1
    """
    rules, examples = scratch
    (examples / "LivePerson_Mass_Deletion_By_One_User.json").unlink()
    assert main(["--check-examples", "--rules-dir", str(rules), "--examples-dir", str(examples)]) == 1


def test_a_broken_search_window_is_reported_not_raised(
    scratch: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """
    Given: the scheduled rule with its search_window emptied
    When: the examples command runs
    Then: it prints the rule as a mismatch naming the bad duration and exits 1, instead of stopping with a traceback
    """
    rules, examples = scratch
    edit(rules / "LivePerson_Mass_Deletion_By_One_User.yml", "search_window: 1 hours", "search_window:")
    assert main(["--check-examples", "--rules-dir", str(rules), "--examples-dir", str(examples)]) == 1
    assert "not a duration like '1 hours': None" in capsys.readouterr().out
