"""XQL text to tokens: the lexer, string literals, and the regular-expression dialect (RE2).

Layer: part of the XQL library (devtools/xql/); imports only the standard library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class XqlError(ValueError):
    """A query outside the supported subset, a malformed one, or one that fails on the data (a type clash)."""


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
    |(?P<mark>[\[\]:;])
    """,
    re.VERBOSE,
)


def tokenize(text: str, model: bool = False) -> list[Token]:
    """With `model`, the brackets, colon and semicolon of a modeling rule's .xif are operators too;
    in a query they are stray characters, reported as such."""
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = TOKEN_PATTERN.match(text, position)
        kind = (match.lastgroup or "") if match else ""
        if match is None or (kind == "mark" and not model):
            raise XqlError(f"unexpected character {text[position]!r} at offset {position}")
        if kind not in ("space", "comment"):
            tokens.append(Token("op" if kind == "mark" else kind, match.group(), position))
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
