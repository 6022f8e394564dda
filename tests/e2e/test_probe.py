"""The probe tells each simulated reading of LivePerson's open questions apart, over real HTTPS.

Every test runs at one fixed instant (time-machine): the simulator seeds its history from "now",
and what the probe can tell of a zone near midnight depends on where that history's records fall.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import time_machine

from devtools.probe import Finding, probe_account, run_probe
from devtools.runner import simulator_params
from devtools.simulator import Reading, Simulator

FIXED_NOW = datetime(2026, 2, 11, 9, 40, tzinfo=UTC)  # far from any daylight saving change


@pytest.fixture(autouse=True)
def fixed_clock() -> Iterator[None]:
    with time_machine.travel(FIXED_NOW, tick=False):
        yield


@pytest.fixture
def trusted(simulator_factory: Callable[..., Simulator]) -> Iterator[Callable[[Reading], Simulator]]:
    """Starts a simulator with three days of history under a reading, trusted by the process."""

    def start(reading: Reading) -> Simulator:
        simulator = simulator_factory(history_days=3, history_per_day=3000, reading=reading)
        os.environ["REQUESTS_CA_BUNDLE"] = simulator.ca_bundle
        return simulator

    yield start


def answers(simulator: Simulator) -> tuple[dict[str, Finding], int]:
    findings, probe = probe_account(simulator_params(simulator))
    return {finding.question: finding for finding in findings}, sum(probe.client.calls.values())


def test_documented_defaults_are_reported_and_covered(trusted: Callable[[Reading], Simulator]) -> None:
    """
    Given: the simulator's default reading (no cap below 500, filters follow `timezone`, inclusive toDate,
           one fractional digit, X-Total-Count counting every match, results in the zone asked for)
    When: the probe runs
    Then: it reports each of those, marks every answer covered, and stays within about 25 calls
    """
    found, calls = answers(trusted(Reading()))
    assert found["Largest page"].answer == "500 or more"
    assert found["toDate inclusive"].answer == "yes"
    assert found["Zone of the day filters"].answer == "the timezone argument (UTC)"
    assert found["changeDate format"].answer == "1 fractional digit(s)"
    assert found["What X-Total-Count counts"].answer == "the number of matching records"
    assert found["Results follow the timezone argument"].answer == "yes"
    assert found["Audit Trail accepts the OAuth 2.0 token"].answer == "yes"
    assert all(finding.covered for finding in found.values())
    assert calls <= 25


@pytest.mark.parametrize(
    ("reading", "question", "expected"),
    [
        pytest.param(Reading(page_cap=100), "Largest page", "100 records a call", id="page-cap"),
        pytest.param(Reading(page_cap=37), "Largest page", "37 records a call", id="page-cap-37"),
        pytest.param(Reading(to_date_inclusive=False), "toDate inclusive", "no (exclusive)", id="to-date-exclusive"),
        pytest.param(Reading(precision="millis"), "changeDate format", "3 fractional digit(s)", id="millis"),
        pytest.param(Reading(precision="seconds"), "changeDate format", "no fraction", id="seconds"),
        pytest.param(Reading(total_count="page"), "What X-Total-Count counts", "the page's count", id="total-count"),
        pytest.param(
            Reading(filter_zone="+14:00", to_date_inclusive=False),
            "Zone of the day filters",
            "UTC+14:00",
            id="filters-at-utc-plus-14",
        ),
        pytest.param(Reading(filter_zone="-12:00"), "Zone of the day filters", "UTC-12:00", id="filters-at-minus-12"),
    ],
)
def test_each_switch_is_identified(
    trusted: Callable[[Reading], Simulator], reading: Reading, question: str, expected: str
) -> None:
    """
    Given: the simulator answering one open question another way
    When: the probe runs
    Then: that question's answer names the setting, and the collector's handling covers it
    """
    found, _calls = answers(trusted(reading))
    assert found[question].answer == expected
    assert found[question].covered


def test_day_filters_in_us_eastern_are_named(trusted: Callable[[Reading], Simulator]) -> None:
    """
    Given: day filters read in US/Eastern whatever the `timezone` argument says
    When: the probe runs
    Then: it bounds the zone's offset around UTC-05:00 (UTC-04:00 in summer), names US/Eastern, says the
          day did not move with another timezone, and marks it covered
    """
    finding = answers(trusted(Reading(filter_zone="US/Eastern")))[0]["Zone of the day filters"]
    assert "US/Eastern" in finding.answer
    assert "did not move" in finding.evidence
    assert finding.covered


def test_results_in_a_fixed_zone_are_not_covered_and_fail_the_probe(
    trusted: Callable[[Reading], Simulator], capsys: pytest.CaptureFixture[str]
) -> None:
    """
    Given: results rendered in US/Eastern whatever the `timezone` argument asks (the collector asks for UTC)
    When: the probe runs from the command line's entry point
    Then: it reports that results do not follow the argument, marks that not covered, and exits 1
    """
    simulator = trusted(Reading(results_zone="US/Eastern"))
    found, _calls = answers(simulator)
    assert found["Results follow the timezone argument"].answer.startswith("no")
    assert not found["Results follow the timezone argument"].covered
    assert run_probe(simulator_params(simulator), {"REQUESTS_CA_BUNDLE": simulator.ca_bundle}) == 1
    assert "NOT COVERED: Results follow the timezone argument" in capsys.readouterr().out


def test_a_refused_token_is_reported_with_the_answer(trusted: Callable[[Reading], Simulator]) -> None:
    """
    Given: an Audit Trail that refuses the app's token (403)
    When: the probe runs
    Then: the first finding says the token is not accepted, quotes the status, and nothing else is asked
    """
    simulator = trusted(Reading())
    simulator.audit_forbidden = True
    found, _calls = answers(simulator)
    finding = found["Audit Trail accepts the OAuth 2.0 token"]
    assert finding.answer == "no"
    assert "HTTP 403" in finding.evidence
    assert not finding.covered
    assert list(found) == ["Audit Trail accepts the OAuth 2.0 token"]


@pytest.mark.parametrize(
    ("reading", "dialect", "refused_calls"),
    [
        pytest.param(Reading(ordering="enum-list"), "ordering as lists of enum values, first: 500", 1, id="enum-list"),
        pytest.param(Reading(ordering="string"), "ordering as single strings, first: 500", 2, id="single-string"),
        pytest.param(Reading(ordering="enum"), "ordering as single enum values, first: 500", 3, id="single-enum"),
        pytest.param(
            Reading(max_first=120, first_refusal="http"), "ordering as lists of strings, first: 120", 1, id="first-400"
        ),
        pytest.param(
            Reading(max_first=120, first_refusal="graphql-bare"),
            "ordering as lists of strings, first: 62",
            3,
            id="first-unnamed-maximum",
        ),
        pytest.param(
            Reading(ordering="enum", max_first=100, unknown_arguments=("lpa",)),
            "ordering as single enum values, first: 100, without lpa",
            5,
            id="enum-first-and-lpa",
        ),
    ],
)
def test_the_query_syntax_the_account_accepts_is_found_and_every_later_question_answered(
    trusted: Callable[[Reading], Simulator], reading: Reading, dialect: str, refused_calls: int
) -> None:
    """
    Given: an account that refuses the collector's query for its ordering syntax, its `first`, an
           argument it does not know, or all three
    When: the probe runs
    Then: it names the form the collector's own negotiation settled on and the extra calls it took,
          marks it covered (the collector negotiates the same way), and still answers the other questions
          in the accepted form, oldest first
    """
    found, _calls = answers(trusted(reading))
    syntax = found["Query syntax the account accepts"]
    assert syntax.answer == dialect
    assert syntax.evidence.startswith(f"{refused_calls} extra call(s)")
    assert syntax.covered
    assert found["Oldest first with orderDirection ASC"].answer == "yes"
    assert found["Zone of the day filters"].answer == "the timezone argument (UTC)"
    assert found["Results follow the timezone argument"].answer == "yes"
    assert ("Argument lpa known" in found) == ("lpa" in reading.unknown_arguments)
    if reading.max_first < 500:
        assert found["Largest page"].answer.endswith(": a larger first is refused")


def test_ordering_that_is_ignored_fails_the_probe(
    trusted: Callable[[Reading], Simulator], capsys: pytest.CaptureFixture[str]
) -> None:
    """
    Given: an account that accepts the ordering arguments but answers newest first whatever they say
    When: the probe runs from the command line's entry point
    Then: the order finding says no, naming every form tried, and the probe exits 1 and asks nothing more
    """
    simulator = trusted(Reading(ordering="ignored"))
    found, _calls = answers(simulator)
    order = found["Oldest first with orderDirection ASC"]
    assert order.answer == "no" and "not applied" in order.evidence and not order.covered
    assert "lists of strings, single strings (refused as: lists of enum values, single enum values)" in order.evidence
    assert "Zone of the day filters" not in found
    assert run_probe(simulator_params(simulator), {"REQUESTS_CA_BUNDLE": simulator.ca_bundle}) == 1
    assert "NOT COVERED: Oldest first with orderDirection ASC" in capsys.readouterr().out


def test_a_refusal_that_is_not_about_syntax_is_not_negotiated(trusted: Callable[[Reading], Simulator]) -> None:
    """
    Given: an Audit Trail whose every answer is a data-fetching GraphQL error
    When: the probe runs
    Then: one refused call, reported with the server's message; no other form is tried
    """
    simulator = trusted(Reading())
    simulator.config.faults.rate, simulator.config.faults.kinds = 1.0, ("errors",)
    simulator.config.faults.endpoints = ("audit",)
    found, _calls = answers(simulator)
    syntax = found["Query syntax the account accepts"]
    assert syntax.answer == "none found" and "Internal error while reading audit data" in syntax.evidence
    assert simulator.calls["audit"] == 1


def test_a_result_window_ceiling_is_found_and_fails_the_probe(trusted: Callable[[Reading], Simulator]) -> None:
    """
    Given: an account refusing offset + first above 10,000 (a search index's result window), and one without
    When: the probe runs on each
    Then: the first is reported with the ceiling it names, as not covered; the second as answered, covered
    """
    found, _calls = answers(trusted(Reading(result_window=10_000)))
    ceiling = found["Offsets past 10,000 answered"]
    assert ceiling.answer == "no: offset + first above 10000 refused"
    assert not ceiling.covered and ceiling.relied_on
    unbounded = answers(trusted(Reading()))[0]["Offsets past 10,000 answered"]
    assert unbounded.answer == "yes" and unbounded.covered
