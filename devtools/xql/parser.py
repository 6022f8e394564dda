"""XQL text to a Query: a recursive-descent parser of the supported subset.

Layer: part of the XQL library (devtools/xql/); imports the library's lexer and evaluator.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from devtools.xql.evaluator import (
    AGGREGATES,
    ORDERING,
    SPAN_UNITS,
    XDM_CONSTANTS,
    Aggregate,
    AlterStage,
    BinStage,
    Call,
    Compare,
    CompStage,
    Contains,
    DatasetStage,
    Expr,
    FieldRef,
    FieldsStage,
    FilterStage,
    InList,
    LimitStage,
    Literal,
    Logical,
    Matches,
    Model,
    Not,
    Query,
    SortStage,
    Stage,
    ViewStage,
)
from devtools.xql.lexer import Token, XqlError, compile_regex, decode_string, tokenize

T = TypeVar("T")


class Parser:
    def __init__(self, text: str, model: bool = False) -> None:
        self.tokens = tokenize(text, model)
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

    def separated(self, operator: str, item: Callable[[], T]) -> list[T]:
        """`item (operator item)*`: the lists of names, stages, literals and arguments."""
        items = [item()]
        while self.at_op(operator):
            self.advance()
            items.append(item())
        return items

    def names(self) -> list[str]:
        return self.separated(",", self.name)

    # -- stages

    def query(self) -> list[Stage]:
        stages = self.separated("|", self.stage)
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

    def model(self) -> Model:
        """``[MODEL: dataset=<name>]``, then alter stages joined by ``|``, ended by ``;``."""
        self.expect_op("[")
        self.expect_word("model")
        self.expect_op(":")
        self.expect_word("dataset")
        self.expect_op("=")
        token = self.advance()
        if token.kind not in ("name", "string"):
            raise XqlError(f"[MODEL: dataset=...] needs a dataset name, found {token.text!r}")
        dataset = decode_string(token.text) if token.kind == "string" else token.text
        self.expect_op("]")
        stages = self.separated("|", self.model_stage)
        self.expect_op(";")
        if self.peek().kind != "end":
            raise self.fail("the end of the modeling rule")
        return Model(dataset, stages)

    def model_stage(self) -> AlterStage:
        if not self.at_word("alter"):
            raise self.fail("an alter stage (the only stage of a modeling rule in the subset)")
        self.advance()
        return self.stage_alter()

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

    def stage_alter(self) -> AlterStage:
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
        return self.chain("or", self.conjunction)

    def conjunction(self) -> Expr:
        return self.chain("and", self.negation)

    def chain(self, word: str, operand: Callable[[], Expr]) -> Expr:
        """`operand (word operand)*`, grouped from the left: how `and` and `or` bind."""
        left = operand()
        while self.at_word(word):
            self.advance()
            left = Logical(word, left, operand())
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
        values = self.separated(",", self.literal)
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
        if token.text.startswith("XDM_CONST."):
            if token.text not in XDM_CONSTANTS:
                raise XqlError(f"unknown constant {token.text}; the subset knows {', '.join(XDM_CONSTANTS)}")
            self.advance()
            return Literal(XDM_CONSTANTS[token.text])
        self.advance()
        if not self.at_op("("):
            return FieldRef(token.text)
        self.advance()
        arguments: list[Expr] = []
        if not self.at_op(")"):
            arguments = self.separated(",", self.expression)
        self.expect_op(")")
        return Call(word, arguments)


def parse(text: str) -> Query:
    """Parses a query in the supported subset; anything else raises XqlError."""
    return Query(text, Parser(text).query())


def parse_model(text: str) -> Model:
    """Parses a modeling rule's .xif in the supported subset; anything else raises XqlError."""
    return Parser(text, model=True).model()
