"""Command-line switches for the simulator's reading of each open question, shared by every tool."""

from __future__ import annotations

import argparse

from devtools.simulator.readings import FIRST_REFUSALS, ORDERINGS, PRECISIONS, TOTAL_COUNT_MEANINGS, Reading
from devtools.simulator.schema import OPTIONAL_ARGUMENTS


def add_reading_options(parser: argparse.ArgumentParser) -> None:
    """The switches `make demo ARGS=...`, the runner, the probe and the simulator accept (combinable)."""
    group = parser.add_argument_group(
        "simulated LivePerson behaviour (what LivePerson does not document; combine freely)"
    )
    group.add_argument("--page-cap", type=int, default=None, help="at most N records a call (default: no cap)")
    group.add_argument(
        "--filter-zone",
        default=None,
        help="zone of fromDate/toDate: an IANA name (US/Eastern) or an offset (+14:00, UTC-12:00; "
        "write --filter-zone=-12:00 for a bare negative one); default: the timezone argument",
    )
    group.add_argument("--to-date", choices=("inclusive", "exclusive"), default="inclusive", help="toDate reading")
    group.add_argument("--precision", choices=PRECISIONS, default="tenths", help="changeDate fractional seconds")
    group.add_argument("--total-count", choices=TOTAL_COUNT_MEANINGS, default="total", help="what X-Total-Count counts")
    group.add_argument(
        "--results-zone", default=None, help="zone changeDate is rendered in whatever timezone asks (default: follows)"
    )
    group.add_argument(
        "--late-commits",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="records are seen up to SECONDS after their changeDate, behind records already read (default 0)",
    )
    group.add_argument(
        "--shuffle-ties", action="store_true", help="records sharing a changeDate come in a new order on every answer"
    )
    group.add_argument(
        "--ordering",
        choices=ORDERINGS,
        default="string-list",
        help="GraphQL types of orderBy/orderDirection: lists of strings (default), lists of enum values, a single "
        "string, a single enum value; or 'ignored': accepted as lists of strings, answered newest first",
    )
    group.add_argument(
        "--max-first", type=int, default=500, metavar="N", help="a `first` above N is refused (default 500)"
    )
    group.add_argument(
        "--first-refusal",
        choices=FIRST_REFUSALS,
        default="graphql",
        help="how a `first` above --max-first is refused: a GraphQL error naming the maximum (default), one "
        "naming only `first`, or an HTTP 400",
    )
    group.add_argument(
        "--unknown-argument",
        action="append",
        choices=OPTIONAL_ARGUMENTS,
        default=[],
        metavar="NAME",
        help=f"the account does not know this argument ({', '.join(OPTIONAL_ARGUMENTS)}; repeatable): a query "
        "that sends it is a validation error, and what it would add is never answered",
    )
    group.add_argument(
        "--result-window",
        type=int,
        default=None,
        metavar="N",
        help="a query with offset + first above N is refused, as search indexes do at 10000 (default: no ceiling)",
    )


def reading_from(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Reading:
    """The Reading the switches describe; a bad value ends the program with argparse's usage message."""
    try:
        return Reading(
            page_cap=args.page_cap,
            filter_zone=args.filter_zone,
            to_date_inclusive=args.to_date == "inclusive",
            precision=args.precision,
            total_count=args.total_count,
            results_zone=args.results_zone,
            late_commits=args.late_commits,
            shuffle_ties=args.shuffle_ties,
            ordering=args.ordering,
            max_first=args.max_first,
            first_refusal=args.first_refusal,
            unknown_arguments=tuple(dict.fromkeys(args.unknown_argument)),
            result_window=args.result_window,
        )
    except ValueError as error:
        parser.error(str(error))
        raise  # parser.error exits; this line only tells type checkers so
