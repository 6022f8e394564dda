"""Checks what demisto/content expects and `demisto-sdk validate` cannot check offline.

For every pack: pack_metadata.json, README.md, .pack-ignore and .secrets-ignore. For every
integration folder ``Packs/<Pack>/Integrations/<Name>/``: the files named after the folder
(``<Name>.yml``, ``.py``, ``_test.py``, ``_description.md``, ``_image.png``, ``README.md``)
and a pinned ``demisto/`` docker image (DO104, the SDK's own check, needs Docker Hub).

For the detection content (what the SDK's graph validators GR103/PB131/PB133 would cover, and what no
validator covers):

* correlation rules, dashboards and reports are named ``<Pack>_...``; every query parses in the XQL
  subset of our XQL library ``devtools/xql/``, reads the raw dataset ``liveperson_liveengage_raw`` and names only
  fields of the modeling schema, ``_time``/``_insert_time``, or fields it creates; a rule's alert name,
  description, alert fields and suppression fields name columns its query outputs;
* a dashboard or report has its ``<stem>_image.png``; each layout cell shows a widget that exists, with
  the widget's query; a widget's ``viewOptions`` say what its ``view graph`` clause says;
* a playbook has its ``<stem>_README.md`` and ``doc_files/<stem>.png``; every integration command it
  calls exists in one of the pack's integration YAMLs, with every argument it passes;
* a trigger names a playbook of the pack, its alert-name filters match rules' alert names, and every
  rule's alert is picked up by a trigger.

Exit status 1 and one line per problem when anything is off.

Layer: a check in tools/; imports devtools.xql, and nothing in devtools/ imports it.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

if __package__ in (None, ""):  # run as `python tools/check_content_layout.py`: make `devtools` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devtools.xql import DATASET, TIME_FIELDS, XqlError, load_rule, parse  # noqa: E402

PACK_FILES = ("pack_metadata.json", "README.md", ".pack-ignore", ".secrets-ignore")
INTEGRATION_SUFFIXES = (".yml", ".py", "_test.py", "_description.md", "_image.png")
DOCKER_IMAGE = re.compile(r"^demisto/[a-z0-9_.-]+:[A-Za-z0-9_.-]+$")
# Platform built-ins a playbook may call, with the arguments we allow (None: any).
BUILTIN_COMMANDS: dict[str, set[str] | None] = {
    "closeInvestigation": {"closeReason", "closeNotes", "id"},
    "setAlert": None,
}
# Arguments the platform accepts on any command task.
SYSTEM_ARGUMENTS = {"extend-context", "ignore-outputs", "execution-timeout", "retry-count", "retry-interval", "using"}


def integration_problems(folder: Path) -> list[str]:
    name = folder.name
    expected = [f"{name}{suffix}" for suffix in INTEGRATION_SUFFIXES] + ["README.md"]
    problems = [f"{folder}: missing {file_name}" for file_name in expected if not (folder / file_name).is_file()]
    yml = folder / f"{name}.yml"
    if yml.is_file():
        document = yaml.safe_load(yml.read_text(encoding="utf-8")) or {}
        image = str((document.get("script") or {}).get("dockerimage") or "")
        if not DOCKER_IMAGE.match(image) or image.endswith(":latest"):
            problems.append(f"{yml}: dockerimage {image!r} is not a pinned demisto/<image>:<tag>")
    return problems


def layout_problems(root: Path) -> list[str]:
    problems: list[str] = []
    for pack in sorted(path for path in (root / "Packs").iterdir() if path.is_dir()):
        problems += [f"{pack}: missing {name}" for name in PACK_FILES if not (pack / name).is_file()]
        integrations = pack / "Integrations"
        if integrations.is_dir():
            for folder in sorted(path for path in integrations.iterdir() if path.is_dir()):
                problems += integration_problems(folder)
        problems += detection_problems(pack)
    return problems


# ------------------------------------------------------------------------------------------ detection


def read_json(path: Path, problems: list[str]) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        problems.append(f"{path}: unreadable JSON ({error})")
        return {}
    return document if isinstance(document, dict) else {}


def read_yaml(path: Path, problems: list[str]) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        problems.append(f"{path}: unreadable YAML ({error})")
        return {}
    return document if isinstance(document, dict) else {}


def raw_fields(pack: Path) -> list[str]:
    """The raw dataset's fields from the pack's modeling-rule schemas, plus _time and _insert_time."""
    names: list[str] = []
    for schema in sorted(pack.glob("ModelingRules/*/*_schema.json")):
        document = json.loads(schema.read_text(encoding="utf-8"))
        names += [name for name in document.get(DATASET, {}) if name not in names]
    return names + [name for name in TIME_FIELDS if name not in names] if names else []


def named_after_pack(path: Path, pack: Path) -> list[str]:
    return [] if path.name.startswith(f"{pack.name}_") else [f"{path}: the file name must start with '{pack.name}_'"]


def query_problems(where: str, phrase: Any, available: list[str]) -> list[str]:
    try:
        query = parse(str(phrase or ""))
    except XqlError as error:
        return [f"{where}: {error}"]
    problems = [f"{where}: {problem}" for problem in query.analyse(available)[0]]
    if query.dataset != DATASET:
        problems.append(f"{where}: queries dataset '{query.dataset}', not '{DATASET}'")
    return problems


def view_problems(where: str, data: dict[str, Any]) -> list[str]:
    """The widget's viewOptions must say what its phrase's `view graph` clause says."""
    try:
        view = parse(str(data.get("phrase") or "")).view
    except XqlError:
        return []  # reported by query_problems
    options = data.get("viewOptions") or {}
    if view is None:
        return [] if options.get("type", "table") == "table" else [f"{where}: viewOptions say a graph, the phrase none"]
    commands = {
        str((item.get("command") or {}).get("name")): str((item.get("command") or {}).get("value"))
        for item in options.get("commands") or []
    }
    wanted = {key: value for key, value in view.items() if key != "type"}
    if options.get("type") != view["type"] or commands != wanted:
        return [f"{where}: viewOptions {options.get('type')} {commands} differ from the phrase's view {view}"]
    return []


def board_problems(path: Path, pack: Path, available: list[str], boards_key: str) -> list[str]:
    problems = named_after_pack(path, pack)
    image = path.with_name(f"{path.stem}_image.png")
    if not image.is_file():
        problems.append(f"{path}: missing its preview image {image.name}")
    document = read_json(path, problems)
    widgets = {str(widget.get("widget_key")): widget for widget in document.get("widgets_data") or []}
    for widget in widgets.values():
        where = f"{path}: widget '{widget.get('title')}'"
        data = widget.get("data") or {}
        problems += query_problems(where, data.get("phrase"), available) + view_problems(where, data)
    for board in document.get(boards_key) or []:
        for row in board.get("layout") or []:
            for cell in row.get("data") or []:
                key = str(cell.get("key"))
                where = f"{path}: layout {row.get('id')} cell {key}"
                if key not in widgets:
                    problems.append(f"{where} shows no widget of widgets_data")
                elif (cell.get("data") or {}).get("phrase") != (widgets[key].get("data") or {}).get("phrase"):
                    problems.append(f"{where} has a query other than its widget's")
    return problems


def rule_problems(path: Path, pack: Path, available: list[str]) -> list[str]:
    problems = named_after_pack(path, pack)
    try:
        rule = load_rule(path)
    except (XqlError, yaml.YAMLError) as error:
        return problems + [f"{path}: {error}"]
    return problems + [f"{path}: {problem}" for problem in rule.problems(available)]


def integration_commands(pack: Path) -> dict[str, set[str]]:
    """Every command of the pack's integrations, with its argument names."""
    commands: dict[str, set[str]] = {}
    for path in sorted(pack.glob("Integrations/*/*.yml")):
        script = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("script") or {}
        for command in script.get("commands") or []:
            commands[str(command.get("name"))] = {
                str(argument.get("name")) for argument in command.get("arguments") or []
            }
    return commands


def playbook_problems(path: Path, pack: Path, commands: dict[str, set[str]]) -> tuple[list[str], str | None]:
    problems: list[str] = []
    readme = path.with_name(f"{path.stem}_README.md")
    if not readme.is_file() and not (path.parent / "README.md").is_file():
        problems.append(f"{path}: missing its README {readme.name}")
    image = pack / "doc_files" / f"{path.stem.removeprefix('playbook-')}.png"
    if not image.is_file():
        problems.append(f"{path}: missing its image doc_files/{image.name}")
    document = read_yaml(path, problems)
    for number, task in sorted((document.get("tasks") or {}).items()):
        body = task.get("task") or {}
        if not body.get("iscommand"):
            continue
        brand, _, command = str(body.get("script") or "").partition("|||")
        arguments = set(task.get("scriptarguments") or {}) - SYSTEM_ARGUMENTS
        where = f"{path}: task {number} ('{body.get('name')}')"
        if brand == "Builtin":
            allowed = BUILTIN_COMMANDS.get(command, set())
            if command not in BUILTIN_COMMANDS:
                problems.append(f"{where} calls the built-in {command}, which this check does not know")
            elif allowed is not None:
                problems += [
                    f"{where} passes {name} to {command}, which takes no such argument"
                    for name in sorted(arguments - allowed)
                ]
            continue
        if command not in commands:
            problems.append(
                f"{where} calls {command or body.get('script')!r}, which no integration of the pack defines"
            )
            continue
        problems += [
            f"{where} passes '{name}' to {command}, which its integration YAML does not define"
            for name in sorted(arguments - commands[command])
        ]
    return problems, str(document.get("id")) if document.get("id") else None


def alert_name_filters(node: Any) -> list[str]:
    """The values of every alert_name filter in a trigger's alerts_filter (any nesting of AND/OR)."""
    if isinstance(node, list):
        return [value for item in node for value in alert_name_filters(item)]
    if not isinstance(node, dict):
        return []
    if node.get("SEARCH_FIELD") == "alert_name":
        return [str(node.get("SEARCH_VALUE"))]
    return [value for item in node.values() for value in alert_name_filters(item)]


def detection_problems(pack: Path) -> list[str]:
    problems: list[str] = []
    rule_files = sorted(pack.glob("CorrelationRules/*.yml"))
    boards = [(path, "dashboards_data") for path in sorted(pack.glob("XSIAMDashboards/*.json"))]
    boards += [(path, "templates_data") for path in sorted(pack.glob("XSIAMReports/*.json"))]
    available = raw_fields(pack)
    if (rule_files or boards) and not available:
        problems.append(f"{pack}: detection content but no modeling schema for {DATASET}")
    for path in rule_files:
        problems += rule_problems(path, pack, available)
    for path, key in boards:
        problems += board_problems(path, pack, available, key)
    commands = integration_commands(pack)
    playbook_ids = set()
    for path in sorted(pack.glob("Playbooks/*.yml")):
        found, playbook_id = playbook_problems(path, pack, commands)
        problems += found
        playbook_ids |= {playbook_id} if playbook_id else set()
    # From the YAML itself, so a rule whose query fails is still known to the triggers (no knock-on problems).
    alert_names = {str(read_yaml(path, []).get("alert_name")): path for path in rule_files}
    attached: set[str] = set()
    for path in sorted(pack.glob("Triggers/*.json")):
        document = read_json(path, problems)
        playbook_id = document.get("playbook_id")
        if playbook_id and playbook_id not in playbook_ids:
            problems.append(f"{path}: playbook_id '{playbook_id}' is not the id of a playbook in {pack.name}")
        for value in alert_name_filters(document.get("alerts_filter")):
            if value not in alert_names:
                problems.append(f"{path}: filters on alert_name '{value}', which no correlation rule raises")
            attached.add(value)
    for name, path in alert_names.items():
        if name not in attached:
            problems.append(f"{path}: no trigger picks up its alert '{name}'")
    return problems


def main() -> int:
    problems = layout_problems(Path("."))
    for problem in problems:
        print(problem)
    print(f"content layout: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
