"""`make demo`: the integration against the simulator, from test-module to an exactly-once check.

Exits 1 unless every record the simulator holds since the start of collection was pushed once.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from devtools.runner import CYCLE_HEADER, LocalRunner, cycle_line, human_readable, runner_for
from devtools.simulator import Simulator, SimulatorConfig
from devtools.truth import compare

LIVE_PER_SECOND = 30.0


def section(title: str) -> None:
    print(f"\n=== {title}")


def run_cycles(runner: LocalRunner, first_number: int, **options: Any) -> list[Any]:
    results = []
    for offset, result in enumerate(runner.fetch_cycles(**options)):
        print(cycle_line(first_number + offset, result))
        results.append(result)
    return results


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="lp-demo-"))
    simulator = Simulator(SimulatorConfig(history_days=3, history_per_day=4000)).start()
    try:
        history_start = simulator.store.snapshot()[0].time
        print(
            f"LivePerson simulator on https://{simulator.host}: {len(simulator.store)} audit records over 3 days "
            "(bursts in one second, identical twins, LPA and automatic changes, records around midnight UTC)"
        )
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

        section(f"fetch-events from the start of the history, with {LIVE_PER_SECOND:g} live arrivals a second")
        simulator.start_arrivals(per_second=LIVE_PER_SECOND)
        runner.start_fetch_at(history_start)
        print(CYCLE_HEADER)
        results = run_cycles(runner, 1, until_caught_up=True)
        results += run_cycles(runner, len(results) + 1, cycles=4, pause=1.0)
        simulator.stop_arrivals()
        print(f"(live arrivals stopped after {simulator.arrivals.added if simulator.arrivals else 0} records)")
        results += run_cycles(runner, len(results) + 1, until_caught_up=True)

        section("summary, checked against the simulator's ground truth")
        delivered = [event for result in results for event in result.pushed]
        outcome = compare(simulator.ground_truth(since=history_start), delivered)
        calls: Counter[str] = Counter()
        for result in results:
            calls.update(result.calls)
        unhandled = sum(1 for result in results if result.unhandled)
        print(f"fetch cycles:        {len(results)} ({unhandled} with an unhandled exception)")
        print(f"records:             {outcome.summary()}")
        print(f"API calls (fetch):   {calls['audit']} audit, {calls['token']} token, {calls['domain']} domain")
        print(f"API calls (server):  {dict(sorted(simulator.calls.items()))}")
        print(f"events file:         {workdir / 'events.jsonl'}")
        verdict = "OK" if outcome.exact and not unhandled else "FAILED"
        print(f"\n{verdict}: {outcome.missing} missing, {outcome.duplicated} duplicated")
        return 0 if verdict == "OK" else 1
    finally:
        simulator.stop()
        time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
