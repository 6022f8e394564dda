"""What an XQL query computes: values, expressions, functions, stages, and the query that chains them.

Layer: part of the XQL library (devtools/xql/); imports only the library's lexer and the standard library.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from devtools.xql.lexer import XqlError, compile_regex

TIME_FIELDS = ("_time", "_insert_time")


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


def _arraycreate(*values: Any) -> Any:
    return list(values)


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
    "arraycreate": FunctionSpec(1, None, _arraycreate),
}
# The XDM enumeration members the modeling rules may name, and the value each stands for.
XDM_CONSTANTS: dict[str, str] = {
    "XDM_CONST.OUTCOME_SUCCESS": "SUCCESS",
    "XDM_CONST.OUTCOME_FAILED": "FAILED",
    "XDM_CONST.OUTCOME_PARTIAL": "PARTIAL",
    "XDM_CONST.OUTCOME_UNKNOWN": "UNKNOWN",
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


@dataclass
class Model:
    """A modeling rule (.xif): the raw dataset it maps, and the alter stages that write the XDM fields."""

    dataset: str
    stages: list[AlterStage]

    @property
    def assignments(self) -> dict[str, Expr]:
        """Each field written, with the expression that gives its final value."""
        return {name: expression for stage in self.stages for name, expression in stage.assignments}

    def reads(self) -> set[str]:
        """The raw fields the rule reads: every name an expression uses that no earlier assignment wrote."""
        columns: list[str] = []
        read: set[str] = set()
        for stage in self.stages:
            lacking, columns = stage.columns(columns)
            read.update(lacking)
        return read

    def run(self, event: Row) -> Row:
        """The value of each field written, for one raw event (as the stages compute them, in order)."""
        row = event
        for stage in self.stages:
            row = stage.run([row])[0]
        return {name: row.get(name) for name in self.assignments}
