"""Keeps the LivePerson modeling rules, their schema, their test data and the collector true to each other.

What it checks, for every folder under Packs/LivePerson/ModelingRules/:
- the dataset in the .xif header, the schema and the test data is the collector's `<vendor>_<product>_raw`;
- every raw field the .xif reads is in the schema;
- the schema covers every field the collector sends, with the type it sends (events are given by the caller);
- every XDM field written is a real XDM field (the catalogue below, with types), and gets a value of that type;
- in the 8.15+ variant every xdm.source.user.* field is mirrored on xdm.source.identity.* with the same expression,
  and every mapping of the older variant is there unchanged;
- the test data's expected values are what the .xif gives for its events.

The .xif is read and evaluated on sample events by our XQL library (devtools/xql/, `parse_model`), the
same that runs the correlation rules, dashboard and report, so XQL semantics are written once.

Layer: a check in tools/; imports devtools.xql, and devtools.runner and devtools.simulator for the events.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python tools/check_modeling_rules.py`: make `devtools` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devtools.xql import Model, XqlError, parse_model  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RULES_DIR = ROOT / "Packs" / "LivePerson" / "ModelingRules"
TIME_FIELD = "_time"

# The XDM fields these rules may write, with their types: string, array (of strings) or enum.
XDM_FIELDS: dict[str, str] = {
    "xdm.event.type": "string",
    "xdm.event.operation_sub_type": "string",
    "xdm.event.outcome": "enum",
    "xdm.event.description": "string",
    "xdm.observer.name": "string",
    "xdm.observer.type": "string",
    "xdm.observer.unique_identifier": "string",
    "xdm.source.user.identifier": "string",
    "xdm.source.user.username": "string",
    "xdm.source.user.first_name": "string",
    "xdm.source.user.groups": "array",
    "xdm.source.identity.identifier": "string",
    "xdm.source.identity.username": "string",
    "xdm.source.identity.first_name": "string",
    "xdm.source.identity.groups": "array",
    "xdm.source.user_agent": "string",
    "xdm.auth.auth_method": "string",
    "xdm.target.resource.type": "string",
    "xdm.target.resource.name": "string",
    "xdm.target.resource.sub_type": "string",
    "xdm.target.resource_before.value": "string",
    "xdm.target.resource.value": "string",
}
ENUM_VALUES = {"xdm.event.outcome": {"SUCCESS", "FAILED", "PARTIAL", "UNKNOWN"}}
SCHEMA_TYPES = {str: "string", bool: "boolean", int: "int", float: "float", dict: "nested_json", list: "nested_json"}


@dataclass
class ModelingRule:
    folder: Path
    model: Model


def read_rule(folder: Path) -> ModelingRule:
    path = folder / f"{folder.name}.xif"
    try:
        return ModelingRule(folder, parse_model(path.read_text(encoding="utf-8")))
    except XqlError as error:
        raise XqlError(f"{path.name}: {error}") from None


# ------------------------------------------------------------------------------- the checks


def observed_types(events: list[dict[str, Any]]) -> dict[str, set[str]]:
    types: dict[str, set[str]] = {}
    for event in events:
        for name, value in event.items():
            if value is not None and name != TIME_FIELD:
                types.setdefault(name, set()).add(SCHEMA_TYPES[type(value)])
    return types


def check_rule(rule: ModelingRule, dataset: str, events: list[dict[str, Any]]) -> list[str]:
    name = rule.folder.name
    problems: list[str] = []
    schema_document = json.loads((rule.folder / f"{name}_schema.json").read_text(encoding="utf-8"))
    if rule.model.dataset != dataset:
        problems.append(f"{name}.xif: dataset {rule.model.dataset} is not the collector's {dataset}")
    if list(schema_document) != [dataset]:
        problems.append(f"{name}_schema.json: datasets {list(schema_document)} are not [{dataset}]")
    schema = schema_document.get(dataset, {})
    sent = observed_types(events)
    for field_name in sorted(rule.model.reads()):
        if field_name not in schema:
            problems.append(f"{name}.xif reads {field_name}, which is not in the schema")
    for field_name, types in sorted(sent.items()):
        if field_name not in schema:
            problems.append(f"{name}_schema.json lacks {field_name}, which the collector sends")
        elif {schema[field_name]["type"]} != types:
            problems.append(
                f"{name}_schema.json: {field_name} is {schema[field_name]['type']}, the collector sends {types}"
            )
    reported = [target for target in rule.model.assignments if target not in XDM_FIELDS]
    problems += [f"{name}.xif writes {target}, which is not an XDM field this check knows" for target in reported]
    for event in events:
        try:
            values = rule.model.run(event)
        except XqlError as error:
            return problems + [f"{name}.xif fails on an event the collector sends: {error}"]
        for target, value in values.items():
            problem = None if target in reported else wrong_type(target, value)
            if problem:
                problems.append(f"{name}.xif: {target} {problem}")
                reported.append(target)
    return problems


def wrong_type(target: str, value: Any) -> str | None:
    if value is None:
        return None
    kind = XDM_FIELDS[target]
    if kind == "array" and not (isinstance(value, list) and all(isinstance(item, str) for item in value)):
        return f"must be an array of strings, got {value!r}"
    if kind == "string" and not isinstance(value, str):
        return f"must be a string, got {value!r}"
    if kind == "enum" and value not in ENUM_VALUES[target]:
        return f"must be one of {sorted(ENUM_VALUES[target])}, got {value!r}"
    return None


def check_identity_mirror(rule: ModelingRule) -> list[str]:
    """The 8.15+ rule: each xdm.source.user.X appears as often as xdm.source.identity.X, with the same expression."""
    problems = []
    assignments = rule.model.assignments
    for target, expression in assignments.items():
        for mine, other in ((".user.", ".identity."), (".identity.", ".user.")):
            if mine in target:
                twin = target.replace(mine, other, 1)
                if assignments.get(twin) != expression:
                    problems.append(
                        f"{rule.folder.name}.xif: {target} is not mirrored by {twin} with the same expression"
                    )
    return problems


def check_variants(older: ModelingRule, newer: ModelingRule) -> list[str]:
    """Expressions are compared parsed, so layout and comments may differ between the variants."""
    newer_assignments = newer.model.assignments
    return [
        f"{newer.folder.name}.xif: {target} differs from {older.folder.name}.xif or is missing"
        for target, expression in older.model.assignments.items()
        if newer_assignments.get(target) != expression
    ]


def human_time(moment: str) -> str:
    """The `_time` rendering `demisto-sdk modeling-rules test` compares with, e.g. 'Oct 21st 2023 03:42:05'."""
    parsed = datetime.strptime(moment, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    day = parsed.day
    suffix = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return parsed.strftime(f"%b {day}{suffix} %Y %H:%M:%S")


def expected_values(rule: ModelingRule, event: dict[str, Any]) -> dict[str, Any]:
    values = {target: value for target, value in rule.model.run(event).items() if value is not None}
    return {TIME_FIELD: human_time(event[TIME_FIELD]), **values}


def check_test_data(rule: ModelingRule, dataset: str, vendor: str, product: str) -> list[str]:
    path = rule.folder / f"{rule.folder.name}_testdata.json"
    if not path.exists():
        return [f"{path.name} is missing"]
    problems = []
    for item in json.loads(path.read_text(encoding="utf-8"))["data"]:
        label = f"{path.name} {item.get('test_data_event_id')}"
        if (item.get("dataset"), item.get("vendor"), item.get("product")) != (dataset, vendor, product):
            problems.append(f"{label}: dataset/vendor/product are not {dataset}/{vendor}/{product}")
        try:
            expected = expected_values(rule, item["event_data"])
        except XqlError as error:
            problems.append(f"{label}: {error}")
            continue
        if item.get("expected_values") != expected:
            problems.append(f"{label}: expected_values are not what {rule.folder.name}.xif gives for event_data")
    return problems


def check_all(events: list[dict[str, Any]], vendor: str, product: str, rules_dir: Path = RULES_DIR) -> list[str]:
    dataset = f"{vendor}_{product}_raw".lower()
    folders = sorted(path for path in rules_dir.iterdir() if path.is_dir())
    rules = {folder.name: read_rule(folder) for folder in folders}
    problems: list[str] = []
    for rule in rules.values():
        problems += check_rule(rule, dataset, events)
        problems += check_test_data(rule, dataset, vendor, product)
        if rule.folder.name.endswith("_2_11"):
            problems += check_identity_mirror(rule)
            older = rules.get(rule.folder.name[: -len("_2_11")])
            if older is not None:
                problems += check_variants(older, rule)
    return problems


def events_from_the_integration(limit: int = 500) -> tuple[list[dict[str, Any]], str, str]:
    """Events exactly as the integration pushes them, from the simulator's dataset: (events, vendor, product)."""
    from devtools.runner import runner_for
    from devtools.simulator import Simulator, SimulatorConfig

    with Simulator(SimulatorConfig(history_days=1)) as simulator:
        runner = runner_for(simulator)
        arguments = {"limit": str(limit), "start_time": "2 days", "should_push_events": "true"}
        pushed = runner.run("liveperson-get-events", arguments).pushed
    return pushed, runner.integration.VENDOR, runner.integration.PRODUCT


def write_test_data(events: list[dict[str, Any]], vendor: str, product: str, rules_dir: Path = RULES_DIR) -> None:
    """Writes <rule>_testdata.json from a varied handful of events: admin, staff (LPA), automatic, add and delete."""
    picks: list[dict[str, Any]] = []
    for wanted in (
        lambda event: event["actionType"] == "Edit" and not event["originatorIsLpa"],
        lambda event: event["originatorIsLpa"],
        lambda event: event["originatorUserAgent"] == "",
        lambda event: event["actionType"] == "Add new",
        lambda event: event["actionType"] == "Delete",
    ):
        picks.append(next(event for event in events if wanted(event) and event not in picks))
    for folder in sorted(path for path in rules_dir.iterdir() if path.is_dir()):
        rule = read_rule(folder)
        data = [
            {
                "test_data_event_id": f"liveperson-{index + 1:02d}",
                "vendor": vendor,
                "product": product,
                "dataset": f"{vendor}_{product}_raw".lower(),
                "tenant_timezone": "UTC",
                "event_data": event,
                "expected_values": expected_values(rule, event),
            }
            for index, event in enumerate(picks)
        ]
        document = {"data": data, "ignored_validations": []}
        (folder / f"{folder.name}_testdata.json").write_text(json.dumps(document, indent=4) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    events, vendor, product = events_from_the_integration()
    if "--write-testdata" in arguments:
        write_test_data(events, vendor, product)
    problems = check_all(events, vendor, product)
    for problem in problems:
        print(problem)
    print(f"modeling rules: {len(problems)} problem(s), checked against {len(events)} events from the integration")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
