"""Our XQL library: the subset of XQL the pack's correlation rules, dashboard, report and modeling rules use.

It exists so that `make test` can run every shipped query on example records, and every modeling rule on
the events the collector pushes, offline. It is strict on purpose: a stage, function, operator or
regular-expression feature outside the subset below raises :class:`XqlError`, so a query written beyond
what we can check fails its check instead of passing unchecked.

The subset
    stages     ``dataset = <name>`` (first), ``filter``, ``alter a = <expr>, ...``, ``fields a, b``,
               ``comp <agg>(<field>) as <name>, ... [by f1, f2]``, ``sort asc|desc f [, ...]``,
               ``limit <n>``, ``bin <field> span = <n>s|m|h|d``, and a final ``view graph k = v ...``
               (parsed and kept, not evaluated); ``//`` comments run to the end of the line
    operators  ``and or not``, ``= != < <= > >=``, ``~=`` / ``!~=`` (regular expression, found anywhere
               in the text), ``contains`` / ``not contains`` (a string literal), ``in`` / ``not in``
               (a list of literals), parentheses
    functions  ``lowercase uppercase concat coalesce if extract_time regextract arrayindex
               array_length arraystring arraycreate``
    constants  ``XDM_CONST.OUTCOME_SUCCESS``, ``_FAILED``, ``_PARTIAL``, ``_UNKNOWN``
    aggregates ``count() count_distinct() values() min() max()``
    modeling   a .xif (``parse_model``): ``[MODEL: dataset=<name>]``, then ``alter`` stages joined by ``|``
               and ended by ``;``

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

Layer: a library at the bottom of devtools/, beside devtools/runtime.py. Its modules (``lexer``,
``evaluator``, ``parser``, then ``rules`` for the correlation-rule files) import one another in that
order and nothing else of this repository; the alert preview (devtools/alerts.py) and the checks in
tools/ import it from here. ``python -m tools.xql_eval --check-examples`` is its command line.
"""

from devtools.xql.evaluator import TIME_FIELDS, XDM_CONSTANTS, Model, Query, Row, as_timestamp
from devtools.xql.lexer import XqlError
from devtools.xql.parser import parse, parse_model
from devtools.xql.rules import (
    DATASET,
    RULES_DIR,
    SCHEMA_PATH,
    CorrelationRule,
    Cron,
    load_rule,
    load_rules,
    parse_duration,
    schema_fields,
)

__all__ = [
    "DATASET",
    "RULES_DIR",
    "SCHEMA_PATH",
    "TIME_FIELDS",
    "XDM_CONSTANTS",
    "CorrelationRule",
    "Cron",
    "Model",
    "Query",
    "Row",
    "XqlError",
    "as_timestamp",
    "load_rule",
    "load_rules",
    "parse",
    "parse_duration",
    "parse_model",
    "schema_fields",
]
