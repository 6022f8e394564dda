"""`python -m tools.xql_eval`: the correlation rules' examples check, and a query run on events.

``--check-examples`` shows, per shipped rule, that its query selects its positive examples and none of
its negative ones (``tests/detection/test_data/<rule file stem>.json``); ``--query`` runs one query on
JSON-lines events and prints the rows. The XQL itself (the subset, and how we read it) is devtools/xql/.

Layer: a check in tools/; imports devtools.xql, and nothing in devtools/ imports it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devtools.xql import (
    RULES_DIR,
    SCHEMA_PATH,
    CorrelationRule,
    Row,
    XqlError,
    as_timestamp,
    load_rule,
    parse,
    schema_fields,
)

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "tests" / "detection" / "test_data"


@dataclass
class ExampleResult:
    rule: str
    positives: int
    positives_selected: int
    negatives: int
    negatives_selected: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            not self.problems
            and self.positives > 0
            and self.negatives > 0
            and self.positives_selected == self.positives
            and self.negatives_selected == 0
        )

    def line(self) -> str:
        verdict = "OK" if self.ok else "MISMATCH"
        text = (
            f"{verdict:8} {self.rule}: positives selected {self.positives_selected}/{self.positives}, "
            f"negatives selected {self.negatives_selected}/{self.negatives}"
        )
        return text + "".join(f"\n         - {problem}" for problem in self.problems)


def example_cases(document: dict[str, Any], kind: str) -> list[tuple[str, list[Row]]]:
    return [(str(case.get("name")), list(case.get("records") or [])) for case in document.get(kind) or []]


def check_rule_examples(rule: CorrelationRule, examples: Path, available: Sequence[str]) -> ExampleResult:
    """A case is selected when the query returns a row for its records (one record for REAL_TIME rules;
    for SCHEDULED rules, the records of one search window)."""
    result = ExampleResult(rule.name, 0, 0, 0, 0)
    if not examples.is_file():
        result.problems.append(f"no examples file {examples}")
        return result
    document = json.loads(examples.read_text(encoding="utf-8"))
    for kind in ("positives", "negatives"):
        for name, records in example_cases(document, kind):
            result.problems += case_problems(rule, name, records, available)
            try:
                selected = bool(rule.query.run(records))
            except XqlError as error:
                result.problems.append(f"{kind[:-1]} '{name}': {error}")
                continue
            if kind == "positives":
                result.positives += 1
                result.positives_selected += selected
                if not selected:
                    result.problems.append(f"positive '{name}' is not selected")
            else:
                result.negatives += 1
                result.negatives_selected += selected
                if selected:
                    result.problems.append(f"negative '{name}' is selected")
    return result


def case_problems(rule: CorrelationRule, name: str, records: list[Row], available: Sequence[str]) -> list[str]:
    """Example records must have exactly the raw shape, and a case must fit the rule's execution."""
    problems = []
    raw = set(available) - {"_insert_time"}
    for record in records:
        if set(record) != raw:
            odd = sorted(set(record) ^ raw)
            problems.append(f"case '{name}': a record is not in the raw shape (differs in {', '.join(odd)})")
    if not records:
        problems.append(f"case '{name}' has no records")
    elif not rule.scheduled and len(records) != 1:
        problems.append(f"case '{name}': a REAL_TIME case is one record")
    elif rule.scheduled:
        try:
            times = [as_timestamp(record.get("_time"), "_time") for record in records]
            known = [moment for moment in times if moment is not None]
            if known and max(known) - min(known) >= rule.search_window:
                problems.append(f"case '{name}' spans more than the search window")
        except XqlError as error:
            problems.append(f"case '{name}': {error}")
    return problems


def check_examples(
    rules_dir: Path = RULES_DIR, examples_dir: Path = EXAMPLES_DIR, schema: Path = SCHEMA_PATH
) -> list[ExampleResult]:
    available = schema_fields(schema)
    results = []
    for path in sorted(rules_dir.glob("*.yml")):
        try:
            rule = load_rule(path)
        except XqlError as error:
            results.append(ExampleResult(path.stem, 0, 0, 0, 0, [str(error)]))
            continue
        results.append(check_rule_examples(rule, examples_dir / f"{path.stem}.json", available))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.xql_eval", description=__doc__.splitlines()[0])
    parser.add_argument("--check-examples", action="store_true", help="run every rule on its example records")
    parser.add_argument("--rules-dir", type=Path, default=RULES_DIR)
    parser.add_argument("--examples-dir", type=Path, default=EXAMPLES_DIR)
    parser.add_argument("--query", help="a query to run on --events (JSON lines), printing the rows")
    parser.add_argument("--events", type=Path)
    options = parser.parse_args(argv)
    if options.query:
        lines = options.events.read_text(encoding="utf-8").splitlines() if options.events else []
        for row in parse(options.query).run(json.loads(line) for line in lines if line.strip()):
            print(json.dumps(row, default=str))
        return 0
    if not options.check_examples:
        parser.print_usage()
        return 2
    results = check_examples(options.rules_dir, options.examples_dir)
    for result in results:
        print(result.line())
    failed = [result for result in results if not result.ok]
    print(f"{len(results)} rule(s), {len(failed)} mismatch(es)")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
