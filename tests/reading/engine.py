"""fetch-events as the platform runs it, against the in-memory Audit Trail, on a clock the test sets.

`Engine` drives the unchanged integration through `main()` with the local runner (lastRun and the
integration context kept between runs, pushes recorded), answers LivePerson's three endpoints with
requests_mock (the Audit Trail from `AuditTrail`, the one model the unit tests use too), and runs
each fetch at a `now` the test chooses (time-machine). It touches nothing of the integration but
its entry point and the state format of where collection starts, so the same tests run on an older
release of the integration as well: that is how the regression tests were shown failing before.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import requests_mock
import time_machine
from LivePerson_test import AuditTrail

from devtools.runner import LocalRunner, RunResult

HOST = "lp.example.test"
ACCOUNT = "12345678"
ENDPOINTS = {
    "domain": f"https://{HOST}/api/account/{ACCOUNT}/service/accountConfigReadOnly/baseURI.json",
    "token": f"https://{HOST}/sentinel/api/v2/account/{ACCOUNT}/app/token",
    "audit": f"https://{HOST}/api/account/{ACCOUNT}/configuration/metadata/audit",
}


def instance_params(max_fetch: int, late_commit_minutes: int | None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "account_id": ACCOUNT,
        "auth_server_url": HOST,
        "domain_api_host": HOST,
        "credentials": {"identifier": "engine-client", "password": "engine-secret"},
        "max_fetch": str(max_fetch),
    }
    if late_commit_minutes is not None:
        params["late_commit_minutes"] = str(late_commit_minutes)
    return params


@dataclass
class Engine:
    """Fetch runs one after another against `trail`, keeping what the platform keeps between them."""

    trail: AuditTrail
    max_fetch: int = 5000
    late_commit_minutes: int | None = None
    runs: list[RunResult] = field(default_factory=list)
    times: list[datetime] = field(default_factory=list)

    def __post_init__(self) -> None:
        # LivePerson's retry pauses (5, 10, 15 s) shrunk a thousandfold: the same policy, test-sized.
        self.runner = LocalRunner(instance_params(self.max_fetch, self.late_commit_minutes), env={}, retry_scale=0.001)

    def start_at(self, moment: datetime) -> None:
        """Collection starts at `moment` (a backfill), as the runner sets it up."""
        self.runner.start_fetch_at(moment)

    def fetch(self, now: datetime) -> RunResult:
        """One fetch-events run at `now`; the model's clock (late commits) is set to `now` too."""
        self.trail.clock = lambda: now
        with self.http(), time_machine.travel(now, tick=False):
            result = self.runner.run("fetch-events")
        assert result.unhandled is None, result.unhandled
        self.runs.append(result)
        self.times.append(now)
        return result

    def drain(self, now: datetime, step: timedelta = timedelta(seconds=1), most: int = 500) -> datetime:
        """Runs until a run neither fails nor asks for the next one at once; returns the time after."""
        for _ in range(most):
            result = self.fetch(now)
            now += step
            if not result.wants_next_run_now and not result.errors:
                return now
        raise AssertionError(f"still waiting after {most} runs")

    @contextmanager
    def http(self) -> Iterator[None]:
        with requests_mock.Mocker() as mock:
            mock.get(ENDPOINTS["domain"], json={"baseURI": HOST})
            mock.post(ENDPOINTS["token"], json={"access_token": "engine-token", "expires_in": 3600})
            mock.post(ENDPOINTS["audit"], json=self.trail.answer)
            yield

    def delivered(self) -> list[dict[str, Any]]:
        return [event for run in self.runs for event in run.pushed]

    def state_bytes(self) -> int:
        return max(len(json.dumps(run.last_run or {})) for run in self.runs)
