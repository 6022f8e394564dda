"""An evaluator for the subset of XQL that the LivePerson correlation rules and dashboard widgets use.

It exists so that `make test` can run every shipped query on example records, offline. It is strict
on purpose: a stage, function, operator or regular-expression feature outside the subset below raises
:class:`XqlError`, so a query written beyond what we can check fails its check instead of passing
unchecked.

The subset
    stages     ``dataset = <name>`` (first), ``filter``, ``alter a = <expr>, ...``, ``fields a, b``,
               ``comp <agg>(<field>) as <name>, ... [by f1, f2]``, ``sort asc|desc f [, ...]``,
               ``limit <n>``, ``bin <field> span = <n>s|m|h|d``, and a final ``view graph k = v ...``
               (parsed and kept, not evaluated); ``//`` comments run to the end of the line
    operators  ``and or not``, ``= != < <= > >=``, ``~=`` / ``!~=`` (regular expression, found anywhere
               in the text), ``contains`` / ``not contains`` (a string literal), ``in`` / ``not in``
               (a list of literals), parentheses
    functions  ``lowercase uppercase concat coalesce if extract_time regextract arrayindex
               array_length arraystring``
    aggregates ``count() count_distinct() values() min() max()``

How we read XQL where it matters (a tenant remains the authority; these are the stated assumptions):
    * ``null`` is SQL's unknown: a comparison with a null value is unknown, ``not`` of unknown is unknown,
      and ``filter`` keeps a row only when its condition is true. ``x = null`` / ``x != null`` test for null.
    * Comparisons are case-sensitive and need both sides of one type (string, number, boolean, timestamp);
      comparing a string with a number is an error, as XQL rejects it before running.
    * Regular expressions are RE2 on the platform and Python's ``re`` here; look-around, back-references
      and possessive or atomic groups (RE2 has none of them) are rejected, so a pattern that works here
      also compiles there.
    * In a string literal ``\\"`` is a quote, ``\\\\`` a backslash, and any other backslash is kept, so
      ``"\\s"`` and ``"\\\\s"`` both reach the regular expression as ``\\s``.
    * ``regextract`` returns every match, or every capture when the pattern has one group.
    * ``concat`` of anything null is null (guard with ``coalesce``).
    * ``extract_time`` works in UTC: ``DAYOFWEEK`` is 1 for Monday to 7 for Sunday, ``HOUR`` 0-23.
    * ``_time`` and ``_insert_time`` are timestamps; records give them as ISO 8601 text.

Run ``python -m tools.xql_eval --check-examples`` to see, per shipped rule, that its query selects its
positive examples and none of its negative ones (``tests/detection/test_data/<rule file stem>.json``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
PACK_DIR = ROOT / "Packs" / "LivePerson"
RULES_DIR = PACK_DIR / "CorrelationRules"
SCHEMA_PATH = PACK_DIR / "ModelingRules" / "LivePerson" / "LivePerson_schema.json"
EXAMPLES_DIR = ROOT / "tests" / "detection" / "test_data"
DATASET = "liveperson_liveengage_raw"
TIME_FIELDS = ("_time", "_insert_time")
REAL_TIME_STAGES = ("dataset", "filter", "alter", "fields")
SEVERITIES = {
    "SEV_010_INFO": "Informational",
    "SEV_020_LOW": "Low",
    "SEV_030_MEDIUM": "Medium",
    "SEV_040_HIGH": "High",
    "SEV_050_CRITICAL": "Critical",
}


class XqlError(ValueError):
    """A query outside the supported subset, a malformed one, or one that fails on the data (a type clash)."""


# ---------------------------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class Token:
    kind: str  # string, number, duration, name, op, end
    text: str
    position: int


TOKEN_PATTERN = re.compile(
    r"""
    (?P<space>\s+)
    |(?P<comment>//[^\n]*)
    |(?P<string>"(?:[^"\\]|\\.)*")
    |(?P<duration>\d+[A-Za-z]+)
    |(?P<number>-?\d+(?:\.\d+)?)
    |(?P<name>[A-Za-z_][A-Za-z0-9_.]*)
    |(?P<op>!~=|~=|!=|<=|>=|=|<|>|\(|\)|,|\|)
    """,
    re.VERBOSE,
)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = TOKEN_PATTERN.match(text, position)
        if match is None:
            raise XqlError(f"unexpected character {text[position]!r} at offset {position}")
        kind = match.lastgroup or ""
        if kind not in ("space", "comment"):
            tokens.append(Token(kind, match.group(), position))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def decode_string(literal: str) -> str:
    """The value of a string literal: only a quote and a backslash are escaped; other backslashes stay."""
    body = literal[1:-1]
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body) and body[index + 1] in '"\\':
            out.append(body[index + 1])
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


# RE2 lacks these; Python has them, so a pattern using one would pass here and fail on the tenant.
NOT_RE2 = (
    (re.compile(r"\(\?<?[=!]"), "look-around"),
    (re.compile(r"\(\?>"), "atomic groups"),
    (re.compile(r"\(\?P="), "named back-references"),
    (re.compile(r"\\[1-9]"), "back-references"),
    (re.compile(r"[*+?}]\+"), "possessive quantifiers"),
)


def compile_regex(pattern: str) -> re.Pattern[str]:
    for finder, feature in NOT_RE2:
        if finder.search(pattern):
            raise XqlError(f"regular expression {pattern!r} uses {feature}, which RE2 (XQL) does not support")
    try:
        return re.compile(pattern)
    except re.error as error:
        raise XqlError(f"invalid regular expression {pattern!r}: {error}") from None


# ------------------------------------------------------------------------------------------ values


def kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, datetime):
        return "timestamp"
    if isinstance(value, list):
        return "array"
    raise XqlError(f"unsupported value {value!r}")


def hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def as_timestamp(value: Any, name: str) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise XqlError(f"{name} is not an ISO 8601 time: {value!r}") from None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    raise XqlError(f"{name} is not a time: {value!r}")


def need(value: Any, kind: str, where: str) -> Any:
    if value is not None and kind_of(value) != kind:
        raise XqlError(f"{where} needs a {kind}, got {kind_of(value)} {value!r}")
    return value


def truth(value: Any, where: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise XqlError(f"{where} needs a boolean, got {value!r}")


# ------------------------------------------------------------------------------------- expressions

Row = dict[str, Any]


class Expr:
    def evaluate(self, row: Row) -> Any:
        raise NotImplementedError

    def names(self) -> set[str]:
        return set()


@dataclass
class Literal(Expr):
    value: Any

    def evaluate(self, row: Row) -> Any:
        return self.value


@dataclass
class FieldRef(Expr):
    name: str

    def evaluate(self, row: Row) -> Any:
        return row.get(self.name)

    def names(self) -> set[str]:
        return {self.name}


@dataclass
class Not(Expr):
    operand: Expr

    def evaluate(self, row: Row) -> Any:
        value = truth(self.operand.evaluate(row), "not")
        return None if value is None else not value

    def names(self) -> set[str]:
        return self.operand.names()


@dataclass
class Logical(Expr):
    operator: str  # and, or
    left: Expr
    right: Expr

    def evaluate(self, row: Row) -> Any:
        deciding = self.operator == "or"  # the value that settles the result on its own
        left = truth(self.left.evaluate(row), self.operator)
        if left is deciding:
            return deciding
        right = truth(self.right.evaluate(row), self.operator)
        if right is deciding:
            return deciding
        return None if left is None or right is None else not deciding

    def names(self) -> set[str]:
        return self.left.names() | self.right.names()


ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


@dataclass
class Compare(Expr):
    operator: str
    left: Expr
    right: Expr

    def evaluate(self, row: Row) -> Any:
        left, right = self.left.evaluate(row), self.right.evaluate(row)
        if self.operator in ("=", "!=") and isinstance(self.right, Literal) and self.right.value is None:
            return (left is None) == (self.operator == "=")
        if left is None or right is None:
            return None
        if kind_of(left) != kind_of(right):
            raise XqlError(f"cannot compare {kind_of(left)} {left!r} with {kind_of(right)} {right!r}")
        if kind_of(left) in ("array", "boolean") and self.operator not in ("=", "!="):
            raise XqlError(f"'{self.operator}' does not order {kind_of(left)} values")
        return ORDERING[self.operator](left, right)

    def names(self) -> set[str]:
        return self.left.names() | self.right.names()


@dataclass
class Matches(Expr):
    operand: Expr
    pattern: re.Pattern[str]
    negated: bool

    def evaluate(self, row: Row) -> Any:
        value = need(self.operand.evaluate(row), "string", "~=")
        if value is None:
            return None
        return (self.pattern.search(value) is not None) != self.negated

    def names(self) -> set[str]:
        return self.operand.names()


@dataclass
class Contains(Expr):
    operand: Expr
    text: str
    negated: bool

    def evaluate(self, row: Row) -> Any:
        value = need(self.operand.evaluate(row), "string", "contains")
        if value is None:
            return None
        return (self.text in value) != self.negated

    def names(self) -> set[str]:
        return self.operand.names()


@dataclass
class InList(Expr):
    operand: Expr
    values: list[Any]
    negated: bool

    def evaluate(self, row: Row) -> Any:
        value = self.operand.evaluate(row)
        if value is None:
            return None
        for candidate in self.values:
            if candidate is not None and kind_of(candidate) != kind_of(value):
                raise XqlError(f"'in' compares {kind_of(value)} {value!r} with {kind_of(candidate)} {candidate!r}")
        return (value in self.values) != self.negated

    def names(self) -> set[str]:
        return self.operand.names()


@dataclass
class FunctionSpec:
    minimum: int
    maximum: int | None
    apply: Callable[..., Any]
    literal_strings: tuple[int, ...] = ()  # argument positions that must be string literals


def _concat(*values: Any) -> Any:
    if any(value is None for value in values):
        return None
    return "".join(need(value, "string", "concat") for value in values)


def _coalesce(*values: Any) -> Any:
    return next((value for value in values if value is not None), None)


def _if(*values: Any) -> Any:
    pairs, fallback = values[:-1], values[-1]
    for index in range(0, len(pairs), 2):
        if truth(pairs[index], "if") is True:
            return pairs[index + 1]
    return fallback


def _case(method: str) -> Callable[[Any], Any]:
    def apply(value: Any) -> Any:
        return None if value is None else getattr(need(value, "string", method), method)()

    return apply


TIME_PARTS: dict[str, Callable[[datetime], int]] = {
    "YEAR": lambda moment: moment.year,
    "MONTH": lambda moment: moment.month,
    "DAY": lambda moment: moment.day,
    "DAYOFWEEK": lambda moment: moment.isoweekday(),
    "HOUR": lambda moment: moment.hour,
    "MINUTE": lambda moment: moment.minute,
    "SECOND": lambda moment: moment.second,
}


def _extract_time(value: Any, part: str) -> Any:
    moment = need(value, "timestamp", "extract_time")
    return None if moment is None else TIME_PARTS[part.upper()](moment.astimezone(UTC))


def _regextract(value: Any, pattern: re.Pattern[str]) -> Any:
    text = need(value, "string", "regextract")
    return None if text is None else [str(found) for found in pattern.findall(text)]


def _arrayindex(value: Any, index: Any) -> Any:
    items = need(value, "array", "arrayindex")
    need(index, "number", "arrayindex")
    if items is None or index is None:
        return None
    return items[index] if -len(items) <= index < len(items) else None


def _array_length(value: Any) -> Any:
    items = need(value, "array", "array_length")
    return None if items is None else len(items)


def _arraystring(value: Any, separator: Any) -> Any:
    items = need(value, "array", "arraystring")
    return None if items is None else str(separator).join("" if item is None else str(item) for item in items)


FUNCTIONS: dict[str, FunctionSpec] = {
    "lowercase": FunctionSpec(1, 1, _case("lower")),
    "uppercase": FunctionSpec(1, 1, _case("upper")),
    "concat": FunctionSpec(1, None, _concat),
    "coalesce": FunctionSpec(1, None, _coalesce),
    "if": FunctionSpec(3, None, _if),
    "extract_time": FunctionSpec(2, 2, _extract_time, literal_strings=(1,)),
    "regextract": FunctionSpec(2, 2, _regextract, literal_strings=(1,)),
    "arrayindex": FunctionSpec(2, 2, _arrayindex),
    "array_length": FunctionSpec(1, 1, _array_length),
    "arraystring": FunctionSpec(2, 2, _arraystring, literal_strings=(1,)),
}


@dataclass
class Call(Expr):
    function: str
    arguments: list[Expr]

    def __post_init__(self) -> None:
        spec = FUNCTIONS.get(self.function)
        if spec is None:
            raise XqlError(f"unsupported function '{self.function}()'")
        count = len(self.arguments)
        if count < spec.minimum or (spec.maximum is not None and count > spec.maximum):
            raise XqlError(f"{self.function}() does not take {count} argument(s)")
        if self.function == "if" and count % 2 == 0:
            raise XqlError("if() takes condition/value pairs and a final value")
        for position in spec.literal_strings:
            argument = self.arguments[position]
            if not (isinstance(argument, Literal) and isinstance(argument.value, str)):
                raise XqlError(f"argument {position + 1} of {self.function}() must be a string literal")
        if self.function == "extract_time":
            part = self._literal(1).upper()
            if part not in TIME_PARTS:
                raise XqlError(f"extract_time() part {part!r} is outside the subset {sorted(TIME_PARTS)}")
        self._spec = spec
        self._pattern: re.Pattern[str] | None = None
        if self.function == "regextract":
            self._pattern = compile_regex(self._literal(1))
            if self._pattern.groups > 1:
                raise XqlError("regextract() with more than one capture group is outside the subset")

    def _literal(self, position: int) -> str:
        argument = self.arguments[position]
        assert isinstance(argument, Literal)
        return str(argument.value)

    def evaluate(self, row: Row) -> Any:
        values = [argument.evaluate(row) for argument in self.arguments]
        if self._pattern is not None:
            return _regextract(values[0], self._pattern)
        return self._spec.apply(*values)

    def names(self) -> set[str]:
        return set().union(*(argument.names() for argument in self.arguments))


# ------------------------------------------------------------------------------------------ stages


class Stage:
    keyword = ""

    def run(self, rows: list[Row]) -> list[Row]:
        raise NotImplementedError

    def columns(self, available: list[str]) -> tuple[list[str], list[str]]:
        """(names this stage reads that `available` lacks, the columns after it)."""
        raise NotImplementedError


def missing(names: Iterable[str], available: Sequence[str]) -> list[str]:
    return sorted(set(names) - set(available))


@dataclass
class DatasetStage(Stage):
    name: str
    keyword = "dataset"

    def run(self, rows: list[Row]) -> list[Row]:
        return rows

    def columns(self, available: list[str]) -> tuple[list[str], list[str]]:
        return [], list(available)


@dataclass
class FilterStage(Stage):
    condition: Expr
    keyword = "filter"

    def run(self, rows: list[Row]) -> list[Row]:
        return [row for row in rows if truth(self.condition.evaluate(row), "filter") is True]

    def columns(self, available: list[str]) -> tuple[list[str], list[str]]:
        return missing(self.condition.names(), available), list(available)


@dataclass
class AlterStage(Stage):
    assignments: list[tuple[str, Expr]]
    keyword = "alter"

    def run(self, rows: list[Row]) -> list[Row]:
        out = []
        for row in rows:
            changed = dict(row)
            for name, expression in self.assignments:
                changed[name] = expression.evaluate(changed)
            out.append(changed)
        return out

    def columns(self, available: list[str]) -> tuple[list[str], list[str]]:
        current, lacking = list(available), []
        for name, expression in self.assignments:
            lacking += missing(expression.names(), current)
            if name not in current:
                current.append(name)
        return lacking, current


@dataclass
class FieldsStage(Stage):
    names: list[str]
    keyword = "fields"

    def run(self, rows: list[Row]) -> list[Row]:
        return [{name: row.get(name) for name in self.names} for row in rows]

    def columns(self, available: list[str]) -> tuple[list[str], list[str]]:
        return missing(self.names, available), list(self.names)


@dataclass
class Aggregate:
    function: str
    argument: str | None
    alias: str


AGGREGATES = ("count", "count_distinct", "values", "min", "max")


def aggregate(spec: Aggregate, rows: list[Row]) -> Any:
    if spec.function == "count":
        return len(rows)
    assert spec.argument is not None
    present: list[Any] = [row[spec.argument] for row in rows if row.get(spec.argument) is not None]
    if spec.function == "count_distinct":
        return len({hashable(value) for value in present})
    if spec.function == "values":
        distinct = sorted({hashable(value) for value in present}, key=lambda value: (type(value).__name__, str(value)))
        return [list(value) if isinstance(value, tuple) else value for value in distinct]
    if not present:
        return None
    if len({kind_of(value) for value in present}) > 1:
        raise XqlError(f"{spec.function}({spec.argument}) over values of several types")
    return min(present) if spec.function == "min" else max(present)


@dataclass
class CompStage(Stage):
    aggregates: list[Aggregate]
    by: list[str]
    keyword = "comp"

    def run(self, rows: list[Row]) -> list[Row]:
        groups: dict[tuple[Any, ...], list[Row]] = {}
        for row in rows:
            groups.setdefault(tuple(hashable(row.get(name)) for name in self.by), []).append(row)
        if not self.by and not groups:
            groups[()] = []  # an aggregate over nothing still answers (count() = 0)
        out = []
        for members in groups.values():
            result: Row = {name: members[0].get(name) for name in self.by}
            for spec in self.aggregates:
                result[spec.alias] = aggregate(spec, members)
            out.append(result)
        return out

    def columns(self, available: list[str]) -> tuple[list[str], list[str]]:
        read = list(self.by) + [spec.argument for spec in self.aggregates if spec.argument]
        return missing(read, available), list(self.by) + [spec.alias for spec in self.aggregates]


def field_sort_key(name: str) -> Callable[[Row], tuple[int, Any]]:
    """Nulls first when ascending (and so last when descending), as XQL orders them."""

    def key(row: Row) -> tuple[int, Any]:
        value = row.get(name)
        return (0, 0) if value is None else (1, value)

    return key


@dataclass
class SortStage(Stage):
    keys: list[tuple[str, bool]]  # (field, descending)
    keyword = "sort"

    def run(self, rows: list[Row]) -> list[Row]:
        ordered = list(rows)
        for name, descending in reversed(self.keys):
            kinds = {kind_of(row[name]) for row in ordered if row.get(name) is not None}
            if len(kinds) > 1 or kinds & {"array"}:
                raise XqlError(f"cannot sort by {name}: values of kinds {sorted(kinds)}")
            ordered.sort(key=field_sort_key(name), reverse=descending)
        return ordered

    def columns(self, available: list[str]) -> tuple[list[str], list[str]]:
        return missing([name for name, _ in self.keys], available), list(available)


@dataclass
class LimitStage(Stage):
    count: int
    keyword = "limit"

    def run(self, rows: list[Row]) -> list[Row]:
        return rows[: self.count]

    def columns(self, available: list[str]) -> tuple[list[str], list[str]]:
        return [], list(available)


SPAN_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass
class BinStage(Stage):
    name: str
    seconds: int
    keyword = "bin"

    def run(self, rows: list[Row]) -> list[Row]:
        out = []
        for row in rows:
            moment = need(row.get(self.name), "timestamp", "bin")
            changed = dict(row)
            if moment is not None:
                epoch = int(moment.timestamp())
                changed[self.name] = datetime.fromtimestamp(epoch - epoch % self.seconds, UTC)
            out.append(changed)
        return out

    def columns(self, available: list[str]) -> tuple[list[str], list[str]]:
        return missing([self.name], available), list(available)


@dataclass
class ViewStage(Stage):
    options: dict[str, str]
    keyword = "view"

    def run(self, rows: list[Row]) -> list[Row]:
        return rows

    def columns(self, available: list[str]) -> tuple[list[str], list[str]]:
        axes = [self.options[key] for key in ("xaxis", "yaxis", "series") if key in self.options]
        return missing(axes, available), list(available)


# ------------------------------------------------------------------------------------------ parser


class Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0

    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.peek()
        self.index += 1
        return token

    def at_word(self, *words: str, offset: int = 0) -> bool:
        token = self.peek(offset)
        return token.kind == "name" and token.text.lower() in words

    def at_op(self, *ops: str) -> bool:
        return self.peek().kind == "op" and self.peek().text in ops

    def fail(self, expected: str) -> XqlError:
        token = self.peek()
        found = "the end of the query" if token.kind == "end" else repr(token.text)
        return XqlError(f"expected {expected} at offset {token.position}, found {found}")

    def expect_op(self, op: str) -> None:
        if not self.at_op(op):
            raise self.fail(f"'{op}'")
        self.advance()

    def expect_word(self, word: str) -> None:
        if not self.at_word(word):
            raise self.fail(f"'{word}'")
        self.advance()

    def name(self) -> str:
        if self.peek().kind != "name":
            raise self.fail("a field name")
        return self.advance().text

    def names(self) -> list[str]:
        names = [self.name()]
        while self.at_op(","):
            self.advance()
            names.append(self.name())
        return names

    # -- stages

    def query(self) -> list[Stage]:
        stages = [self.stage()]
        while self.at_op("|"):
            self.advance()
            stages.append(self.stage())
        if self.peek().kind != "end":
            raise self.fail("'|' or the end of the query")
        if not isinstance(stages[0], DatasetStage):
            raise XqlError("a query must start with 'dataset = <name>'")
        for stage in stages[1:]:
            if isinstance(stage, DatasetStage):
                raise XqlError("'dataset' may only start a query")
        for stage in stages[:-1]:
            if isinstance(stage, ViewStage):
                raise XqlError("'view' must be the last stage")
        return stages

    def stage(self) -> Stage:
        if self.peek().kind != "name":
            raise self.fail("a stage")
        keyword = self.advance().text.lower()
        handler = getattr(self, f"stage_{keyword}", None)
        if handler is None:
            raise XqlError(f"unsupported stage '{keyword}'")
        stage: Stage = handler()
        return stage

    def stage_dataset(self) -> Stage:
        self.expect_op("=")
        return DatasetStage(self.name())

    def stage_filter(self) -> Stage:
        return FilterStage(self.expression())

    def stage_alter(self) -> Stage:
        assignments = []
        while True:
            target = self.name()
            self.expect_op("=")
            assignments.append((target, self.expression()))
            if not self.at_op(","):
                return AlterStage(assignments)
            self.advance()

    def stage_fields(self) -> Stage:
        return FieldsStage(self.names())

    def stage_comp(self) -> Stage:
        aggregates = []
        while True:
            function = self.name().lower()
            if function not in AGGREGATES:
                raise XqlError(f"unsupported aggregate '{function}()'")
            self.expect_op("(")
            argument = None if self.at_op(")") else self.name()
            self.expect_op(")")
            if (function == "count") != (argument is None):
                raise XqlError(f"{function}() takes {'no field' if function == 'count' else 'one field'} here")
            self.expect_word("as")
            aggregates.append(Aggregate(function, argument, self.name()))
            if not self.at_op(","):
                break
            self.advance()
        by = []
        if self.at_word("by"):
            self.advance()
            by = self.names()
        return CompStage(aggregates, by)

    def stage_sort(self) -> Stage:
        keys = []
        while True:
            if not self.at_word("asc", "desc"):
                raise self.fail("'asc' or 'desc'")
            descending = self.advance().text.lower() == "desc"
            keys.append((self.name(), descending))
            if not self.at_op(","):
                return SortStage(keys)
            self.advance()

    def stage_limit(self) -> Stage:
        token = self.advance()
        if token.kind != "number" or not token.text.isdigit():
            raise XqlError(f"limit needs a whole number, found {token.text!r}")
        return LimitStage(int(token.text))

    def stage_bin(self) -> Stage:
        target = self.name()
        self.expect_word("span")
        self.expect_op("=")
        token = self.advance()
        match = re.fullmatch(r"(\d+)([smhd])", token.text) if token.kind == "duration" else None
        if match is None:
            raise XqlError(f"bin span must look like 30m, 1h or 1d, found {token.text!r}")
        return BinStage(target, int(match.group(1)) * SPAN_UNITS[match.group(2)])

    def stage_view(self) -> Stage:
        self.expect_word("graph")
        options: dict[str, str] = {}
        while self.peek().kind == "name":
            key = self.advance().text
            self.expect_op("=")
            token = self.advance()
            if token.kind not in ("name", "number", "string"):
                raise XqlError(f"view option {key} needs a value, found {token.text!r}")
            options[key] = decode_string(token.text) if token.kind == "string" else token.text
        if "type" not in options:
            raise XqlError("view graph needs a type")
        return ViewStage(options)

    # -- expressions

    def expression(self) -> Expr:
        left = self.conjunction()
        while self.at_word("or"):
            self.advance()
            left = Logical("or", left, self.conjunction())
        return left

    def conjunction(self) -> Expr:
        left = self.negation()
        while self.at_word("and"):
            self.advance()
            left = Logical("and", left, self.negation())
        return left

    def negation(self) -> Expr:
        if self.at_word("not"):
            self.advance()
            return Not(self.negation())
        return self.comparison()

    def comparison(self) -> Expr:
        left = self.primary()
        negated = False
        if self.at_word("not") and self.at_word("in", "contains", offset=1):
            self.advance()
            negated = True
        if self.at_word("in"):
            self.advance()
            return InList(left, self.literal_list(), negated)
        if self.at_word("contains"):
            self.advance()
            return Contains(left, self.string_literal("contains"), negated)
        if self.at_op("~=", "!~="):
            negated = self.advance().text == "!~="
            return Matches(left, compile_regex(self.string_literal("~=")), negated)
        if self.at_op(*ORDERING):
            operator = self.advance().text
            return Compare(operator, left, self.primary())
        return left

    def string_literal(self, operator: str) -> str:
        if self.peek().kind != "string":
            raise self.fail(f"a string literal after '{operator}'")
        return decode_string(self.advance().text)

    def literal_list(self) -> list[Any]:
        self.expect_op("(")
        values = [self.literal()]
        while self.at_op(","):
            self.advance()
            values.append(self.literal())
        self.expect_op(")")
        return values

    def literal(self) -> Any:
        expression = self.primary()
        if not isinstance(expression, Literal):
            raise self.fail("a literal")
        return expression.value

    def primary(self) -> Expr:
        token = self.peek()
        if token.kind == "string":
            self.advance()
            return Literal(decode_string(token.text))
        if token.kind == "number":
            self.advance()
            return Literal(float(token.text) if "." in token.text else int(token.text))
        if self.at_op("("):
            self.advance()
            inner = self.expression()
            self.expect_op(")")
            return inner
        if token.kind != "name":
            raise self.fail("a value")
        word = token.text.lower()
        if word in ("true", "false", "null"):
            self.advance()
            return Literal({"true": True, "false": False, "null": None}[word])
        if word in ("and", "or", "not", "in", "contains"):
            raise self.fail("a value")
        self.advance()
        if not self.at_op("("):
            return FieldRef(token.text)
        self.advance()
        arguments: list[Expr] = []
        if not self.at_op(")"):
            arguments.append(self.expression())
            while self.at_op(","):
                self.advance()
                arguments.append(self.expression())
        self.expect_op(")")
        return Call(word, arguments)


# ------------------------------------------------------------------------------------------- query


@dataclass
class Query:
    text: str
    stages: list[Stage] = field(default_factory=list)

    @property
    def dataset(self) -> str:
        first = self.stages[0]
        assert isinstance(first, DatasetStage)
        return first.name

    @property
    def view(self) -> dict[str, str] | None:
        last = self.stages[-1]
        return last.options if isinstance(last, ViewStage) else None

    def analyse(self, available: Iterable[str]) -> tuple[list[str], list[str]]:
        """(problems: names a stage reads that do not exist at that point, the output columns)."""
        columns, problems = list(available), []
        for number, stage in enumerate(self.stages, start=1):
            lacking, columns = stage.columns(columns)
            problems += [f"stage {number} ({stage.keyword}) names unknown field '{name}'" for name in lacking]
        return problems, columns

    def run(self, records: Iterable[Row]) -> list[Row]:
        rows = [prepare(record) for record in records]
        for stage in self.stages:
            rows = stage.run(rows)
        return rows


def prepare(record: Row) -> Row:
    row = dict(record)
    for name in TIME_FIELDS:
        if name in row:
            row[name] = as_timestamp(row[name], name)
    return row


def parse(text: str) -> Query:
    """Parses a query in the supported subset; anything else raises XqlError."""
    return Query(text, Parser(text).query())


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


# -------------------------------------------------------------------------------------- examples


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
