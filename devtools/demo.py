"""`make demo`: the integration against the simulator, from test-module to an exactly-once check.

`make demo ARGS="--page-cap 100 --filter-zone US/Eastern"` runs it against a simulator that answers
the undocumented questions another way (see `python -m devtools.demo --help`). Exits 1 unless every
record the simulator holds since the start of collection was pushed once, and the shipped
correlation rules fire on the pushed events exactly as the simulator's data was built to make them.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devtools.runner import CYCLE_HEADER, LocalRunner, cycle_line, human_readable, runner_for
from devtools.simulator import Simulator, SimulatorConfig
from devtools.simulator.options import add_reading_options, reading_from
from devtools.truth import RESULT_WINDOW_WARNING, compare, given_up_to_the_result_window, missing_outside

LIVE_PER_SECOND = 30.0
LATE_SECONDS = 1.0  # 5% of live records are committed up to this late, behind records already read


def section(title: str) -> None:
    print(f"\n=== {title}")


def run_cycles(runner: LocalRunner, first_number: int, **options: Any) -> list[Any]:
    results = []
    for offset, result in enumerate(runner.fetch_cycles(**options)):
        print(cycle_line(first_number + offset, result))
        results.append(result)
    return results


def collection_start(result: Any) -> datetime:
    """Where a new instance began, as its first run logged it."""
    for _level, line in result.logs:
        found = re.search(r"new instance: collecting from (\S+)", line)
        if found:
            return datetime.strptime(found[1], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    raise SystemExit("the first run did not say where collection starts")


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="make demo ARGS=...",
        description="The LivePerson integration against the simulator, ending with an exactly-once check.",
    )
    add_reading_options(parser)
    parser.add_argument(
        "--first-fetch",
        metavar="TIME",
        help="start as a new instance with this 'First fetch time' (e.g. '3 days') instead of a backfill from "
        "the start of the history; the check then covers every record from the time the collector reports",
    )
    args = parser.parse_args(argv)
    args.reading = reading_from(args, parser)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    workdir = Path(tempfile.mkdtemp(prefix="lp-demo-"))
    config = SimulatorConfig(history_days=3, history_per_day=4000, reading=args.reading, detection_scenarios=True)
    simulator = Simulator(config).start()
    try:
        # Collection starts at the whole second of the oldest record: a reading without fractional seconds
        # renders it at that second, and what the collector sees and the ground truth must agree on the start.
        oldest = simulator.store.snapshot()[0].time
        history_start = oldest.replace(microsecond=0)
        print(
            f"LivePerson simulator on https://{simulator.host}: {len(simulator.store)} audit records over 3 days "
            "(bursts in one second, identical twins, LPA and automatic changes, records around midnight UTC, "
            "and the changes the shipped detection rules look for)"
        )
        print(f"Simulated behaviour: {args.reading.describe()}")
        runner = runner_for(
            simulator,
            5000,
            state_path=workdir / "state.json",
            events_path=workdir / "events.jsonl",
            retry_scale=0.01,
        )

        section("test-module")
        print(human_readable(runner.run("test-module")))

        section('!liveperson-get-events limit=5 start_time="3 days"')
        print(human_readable(runner.run("liveperson-get-events", {"limit": "5", "start_time": "3 days"})))

        section(
            f"fetch-events from the start of the history, with {LIVE_PER_SECOND:g} live arrivals a second "
            f"(some committed up to {LATE_SECONDS:g} s late)"
        )
        simulator.start_arrivals(per_second=LIVE_PER_SECOND, late_seconds=LATE_SECONDS)
        if args.first_fetch:
            runner.params["first_fetch"] = args.first_fetch
            runner.last_run = {}
        else:
            runner.start_fetch_at(history_start)
        print(CYCLE_HEADER)
        results = run_cycles(runner, 1, until_caught_up=True)
        if args.first_fetch:
            history_start = collection_start(results[0])
            started = f"{history_start:%Y-%m-%d %H:%M:%S.%f} UTC"
            print(f"(a new instance with First fetch time '{args.first_fetch}' started at {started})")
        results += run_cycles(runner, len(results) + 1, cycles=4, pause=1.0)
        simulator.stop_arrivals()
        print(f"(live arrivals stopped after {simulator.arrivals.added if simulator.arrivals else 0} records)")
        last_commit = simulator.store.last_commit()
        if last_commit is not None and last_commit > datetime.now(UTC):
            wait = (last_commit - datetime.now(UTC)).total_seconds()
            print(f"(waiting {wait:.0f} s until the records committed late are all visible)")
            time.sleep(wait + 0.2)
        results += run_cycles(runner, len(results) + 1, until_caught_up=True)

        section("summary, checked against the simulator's ground truth")
        delivered = [event for result in results for event in result.pushed]
        expected = simulator.ground_truth(since=history_start)
        outcome = compare(expected, delivered)
        calls: Counter[str] = Counter()
        for result in results:
            calls.update(result.calls)
        unhandled = sum(1 for result in results if result.unhandled)
        print(f"fetch cycles:        {len(results)} ({unhandled} with an unhandled exception)")
        print(f"largest run:         {max(len(result.pushed) for result in results)} events (max_fetch 5000)")
        print(f"records:             {outcome.summary()}")
        print(f"API calls (fetch):   {calls['audit']} audit, {calls['token']} token, {calls['domain']} domain")
        print(f"API calls (server):  {dict(sorted(simulator.calls.items()))}")
        print(f"events file:         {workdir / 'events.jsonl'}")
        reported = [line for result in results for level, line in result.logs if level == "error"]
        if reported:
            print(f"integration errors:  {len(reported)}, e.g. {reported[0][:160]}")
        warnings = [line for result in results for _level, line in result.logs if RESULT_WINDOW_WARNING.search(line)]
        given_up = given_up_to_the_result_window(warnings)
        for line in warnings:
            print(f"warning:             {line}")

        section("shipped correlation rules on the pushed events (what XSIAM would alert on)")
        from devtools.alerts import format_preview, preview_alerts

        previews = preview_alerts(delivered)
        # The rules are built to fire on the whole history: checked only when collection covered all of it.
        whole_history = history_start <= oldest and not given_up
        print(format_preview(previews, simulator.expected_alerts if whole_history else None))
        if not whole_history:
            print("(not checked against the rules as built: collection did not cover the whole history)")
        alerts_as_built = not whole_history or (
            {preview.rule: preview.count for preview in previews} == simulator.expected_alerts
        )
        counts = [stretch.count for stretch in given_up]
        counted = None not in counts  # then what is missing must be what the warnings counted
        outside = missing_outside(expected, delivered, given_up)  # with no warnings: everything missing
        as_counted = not counted or outcome.missing == sum(count or 0 for count in counts)
        as_warned = not outside and as_counted and outcome.duplicated == 0 and outcome.unexpected == 0
        verdict = "OK" if as_warned and not unhandled and alerts_as_built else "FAILED"
        why = " (given up to the result window, as the warnings above say)" if given_up and outcome.missing else ""
        print(f"\n{verdict}: {outcome.missing} missing{why}, {outcome.duplicated} duplicated")
        if given_up:
            said = "as many as they counted" if counted else "some of them uncounted"
            print(
                f"({len(given_up)} warning(s) named the stretches given up to the result window; {outside} missing "
                f"record(s) lie outside them; {said})"
            )
        if not alerts_as_built:
            print("FAILED: the rules did not fire as the simulator's data was built to make them")
        return 0 if verdict == "OK" else 1
    finally:
        simulator.stop()
        time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
