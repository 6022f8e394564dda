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

How we read XQL where it matters. A tenant remains the authority: these are assumptions, and each is
pinned by the test of its name in tests/detection/test_xql_assumptions.py (``[null-is-unknown]`` by
``test_null_is_unknown``), so a change of mind about one fails CI until its test changes with it.
    [null-is-unknown] ``null`` is SQL's unknown: a comparison (``=``, ``!=``, ``<``, ``in``, ``contains``,
      ``~=``) with a null value is unknown, ``not`` of unknown is unknown, ``and``/``or`` follow
      three-valued logic, and ``filter`` keeps a row only when its condition is true. A missing field is
      null. ``x = null`` / ``x != null`` test for null.
    [case-sensitive] ``=``, ``!=``, ``in``, ``contains`` and ``~=`` compare text case-sensitively; fold it
      with ``lowercase()`` or ``(?i)``.
    [one-type-comparisons] A comparison needs both sides of one type (string, number, boolean, timestamp);
      comparing a string with a number is an error, as XQL rejects it before running.
    [re2-dialect] Regular expressions are RE2 on the platform and Python's ``re`` here; look-around,
      back-references and possessive or atomic groups (RE2 has none of them) are rejected, so a pattern
      that works here also compiles there. ``~=`` finds the pattern anywhere in the text.
    [string-escapes] In a string literal ``\\"`` is a quote, ``\\\\`` a backslash, and any other backslash
      is kept, so ``"\\s"`` and ``"\\\\s"`` both reach the regular expression as ``\\s``.
    [regextract-captures] ``regextract`` returns every match, or every capture when the pattern has one
      group; no match is an empty array.
    [concat-null] ``concat`` of anything null is null (guard with ``coalesce``).
    [extract-time-utc] ``extract_time`` works in UTC: ``DAYOFWEEK`` is 1 for Monday to 7 for Sunday,
      ``HOUR`` 0-23.
    [bin-boundaries] ``bin`` floors a time to a multiple of its span counted from the Unix epoch, in UTC:
      ``1h`` bins start on the hour, ``1d`` bins at 00:00 UTC, ``7d`` bins on Thursdays (the epoch's
      weekday); a time exactly on a boundary starts the new bin.
    [time-fields] ``_time`` and ``_insert_time`` are timestamps; records give them as ISO 8601 text, read
      as UTC when they carry no offset.
    [nulls-sort-first] ``sort asc`` puts nulls first, ``sort desc`` last.
    [aggregates-skip-null] ``count()`` counts rows; ``count_distinct``, ``values``, ``min`` and ``max``
      skip nulls; ``comp`` without ``by`` over no rows still gives one row (``count()`` 0).

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
