"""The simulator keeps LivePerson's documented behaviour, so the end-to-end tests mean something."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from devtools.simulator import Simulator
from devtools.simulator.readings import Reading

FIELDS = "accountId objectType changeDate originatorIsLpa originator"


class Api:
    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator
        self.session = requests.Session()
        self.base = f"https://{simulator.host}/api/account/{simulator.config.account_id}"

    def token(self, secret: str | None = None) -> requests.Response:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.simulator.config.client_id,
            "client_secret": secret or self.simulator.config.client_secret,
        }
        url = f"https://{self.simulator.host}/sentinel/api/v2/account/{self.simulator.config.account_id}/app/token"
        return self.session.post(url, data=form, verify=self.simulator.ca_bundle)

    def audit(self, query: str, token: str | None = None) -> requests.Response:
        bearer = token if token is not None else self.token().json()["access_token"]
        return self.session.post(
            f"{self.base}/configuration/metadata/audit",
            json={"query": query},
            headers={"Authorization": f"Bearer {bearer}"},
            verify=self.simulator.ca_bundle,
        )


@pytest.fixture
def api(simulator_factory: Callable[..., Simulator]) -> Api:
    simulator = simulator_factory()
    for hour in (2, 5, 23):
        simulator.store.add_random(datetime(2024, 5, 1, hour, 30, tzinfo=UTC), 30)
    simulator.store.add_random(datetime(2024, 5, 2, 1, 0, tzinfo=UTC), 10)
    return Api(simulator)


def test_unknown_argument_and_field_get_graphql_errors(api: Api) -> None:
    """
    Given: a query with an undocumented argument and an undocumented field (objectId)
    When: it is sent
    Then: the answer is a GraphQL errors body naming both, with no data
    """
    body = api.audit("{auditData(first: 1, pageSize: 3) {changeDate objectId}}").json()
    messages = " ".join(error["message"] for error in body["errors"])
    assert body["data"] is None
    assert "Unknown argument 'pageSize'" in messages and "Cannot query field 'objectId'" in messages


def test_first_above_500_is_refused(api: Api) -> None:
    """
    Given: first 501
    When: the query is sent
    Then: an errors body
    """
    assert (
        "must be between 0 and 500"
        in api.audit(f"{{auditData(first: 501) {{{FIELDS}}}}}").json()["errors"][0]["message"]
    )


def test_documented_defaults(api: Api) -> None:
    """
    Given: no arguments but the fields
    When: the query is sent
    Then: 50 records at most, newest first, in US/Eastern, without LPA or automatic changes;
          X-Total-Count counts them all
    """
    response = api.audit(f"{{auditData {{{FIELDS}}}}}")
    records = response.json()["data"]["auditData"]
    visible = [stored for stored in api.simulator.store.snapshot() if not stored.lpa and not stored.automatic]
    assert len(records) == min(50, len(visible)) and int(response.headers["X-Total-Count"]) == len(visible)
    assert not any(record["originatorIsLpa"] for record in records)
    dates = [record["changeDate"] for record in records]
    assert dates == sorted(dates, reverse=True)
    newest = max(stored.time for stored in visible).astimezone(ZoneInfo("US/Eastern"))
    assert dates[0].startswith(newest.strftime("%Y-%m-%d %H:%M:%S"))


def test_day_filters_in_utc_with_inclusive_to_date_and_offset_paging(api: Api) -> None:
    """
    Given: records on May 1st (90) and May 2nd (10), UTC
    When: May 1st alone is asked for in UTC, oldest first, 40 at a time; then May 1st to May 2nd
    Then: the pages cover May 1st exactly, in order; with toDate May 2nd both days come back
    """
    arguments = 'orderDirection: ["ASC"], timezone: "UTC", lpa: true, automaticUpdates: true'
    pages = [
        api.audit(
            f'{{auditData(fromDate: "2024-05-01", toDate: "2024-05-01", first: 40, offset: {offset}, {arguments}) '
            f"{{{FIELDS}}}}}"
        ).json()["data"]["auditData"]
        for offset in (0, 40, 80)
    ]
    dates = [record["changeDate"] for page in pages for record in page]
    assert [len(page) for page in pages] == [40, 40, 10] and dates == sorted(dates)
    assert all(date.startswith("2024-05-01") for date in dates)
    both = api.audit(
        f'{{auditData(fromDate: "2024-05-01", toDate: "2024-05-02", first: 500, {arguments}) {{{FIELDS}}}}}'
    )
    assert int(both.headers["X-Total-Count"]) == 100


@pytest.mark.parametrize(
    ("case", "status"),
    [("no token", 401), ("made-up token", 401), ("revoked token", 401)],
)
def test_bearer_checks(api: Api, case: str, status: int) -> None:
    """
    Given: a missing, made-up or revoked token
    When: the Audit Trail is called
    Then: 401
    """
    token: Any = {"no token": "", "made-up token": "abc.def.ghi"}.get(case)
    if case == "revoked token":
        token = api.token().json()["access_token"]
        api.simulator.revoke_all_tokens()
    assert api.audit(f"{{auditData {{{FIELDS}}}}}", token=token).status_code == status


def test_token_endpoint_and_domain_api(api: Api) -> None:
    """
    Given: the simulator's client credentials
    When: a token is requested with the right and a wrong secret,
          and the Domain API is asked for known and unknown accounts
    Then: 200 with expires_in, 401 invalid_client; the account's baseURI, 401 for a stranger
    """
    good = api.token()
    assert good.status_code == 200 and good.json()["expires_in"] == 3600 and good.json()["token_type"] == "Bearer"
    assert api.token("wrong").status_code == 401 and api.token("wrong").json() == {"error": "invalid_client"}
    lookup = "https://{}/api/account/{}/service/accountConfigReadOnly/baseURI.json?version=1.0"
    known = api.session.get(
        lookup.format(api.simulator.host, api.simulator.config.account_id), verify=api.simulator.ca_bundle
    )
    assert known.json()["baseURI"] == api.simulator.host
    assert (
        api.session.get(lookup.format(api.simulator.host, "nobody"), verify=api.simulator.ca_bundle).status_code == 401
    )


# ---------------------------------------------------------------------- readings of the query's syntax

ORDER_FORMS = {
    "string-list": 'orderBy: ["changeTimestamp"], orderDirection: ["ASC"]',
    "enum-list": "orderBy: [changeTimestamp], orderDirection: [ASC]",
    "string": 'orderBy: "changeTimestamp", orderDirection: "ASC"',
    "enum": "orderBy: changeTimestamp, orderDirection: ASC",
}
# Which forms each reading accepts: GraphQL coerces a single value where a list is expected, not back.
ACCEPTED_FORMS = {
    "string-list": {"string-list", "string"},
    "enum-list": {"enum-list", "enum"},
    "string": {"string"},
    "enum": {"enum"},
    "ignored": {"string-list", "string"},
}


@pytest.fixture
def api_under(simulator_factory: Callable[..., Simulator]) -> Callable[..., Api]:
    """An Api on a simulator with the `api` fixture's records, under the Reading built from the keywords."""

    def start(**reading: Any) -> Api:
        simulator = simulator_factory(reading=Reading(**reading))
        for hour in (2, 5, 23):
            simulator.store.add_random(datetime(2024, 5, 1, hour, 30, tzinfo=UTC), 30)
        return Api(simulator)

    return start


def window_query(api: Api, order: str, first: int = 100, offset: int = 0, extra: str = "") -> requests.Response:
    arguments = f'fromDate: "2024-05-01", toDate: "2024-05-01", first: {first}, offset: {offset}, timezone: "UTC"'
    return api.audit(f"{{auditData({arguments}, {order}{extra}) {{{FIELDS}}}}}")


@pytest.mark.parametrize("ordering", sorted(ACCEPTED_FORMS))
def test_each_ordering_reading_accepts_its_forms_and_refuses_the_others(
    api_under: Callable[..., Api], ordering: str
) -> None:
    """
    Given: the simulator under each reading of the ordering arguments' GraphQL types
    When: the window is asked for oldest first in each of the four forms
    Then: the forms the reading's types accept answer (oldest first, or newest first where the
          ordering is ignored); every other form gets a GraphQL validation error naming the argument
    """
    api = api_under(ordering=ordering)
    for form, order in ORDER_FORMS.items():
        body = window_query(api, order).json()
        if form in ACCEPTED_FORMS[ordering]:
            dates = [record["changeDate"] for record in body["data"]["auditData"]]
            assert len(dates) > 50 and dates == sorted(dates, reverse=ordering == "ignored"), form
        else:
            assert body["data"] is None, form
            message = body["errors"][0]["message"]
            assert "cannot represent" in message, (form, message)


@pytest.mark.parametrize(
    ("refusal", "status", "names_maximum"),
    [("graphql", 200, True), ("graphql-bare", 200, False), ("http", 400, True)],
)
def test_a_first_above_the_maximum_is_refused_as_the_reading_says(
    api_under: Callable[..., Api], refusal: str, status: int, names_maximum: bool
) -> None:
    """
    Given: a maximum `first` of 40, refused in each of the three ways
    When: 40 and then 41 records are asked for
    Then: 40 answers 40 records; 41 answers the refusal's status with a message naming `first`,
          and the maximum when the reading names it
    """
    api = api_under(max_first=40, first_refusal=refusal)
    assert len(window_query(api, ORDER_FORMS["string-list"], first=40).json()["data"]["auditData"]) == 40
    refused = window_query(api, ORDER_FORMS["string-list"], first=41)
    assert refused.status_code == status
    body = refused.json()
    message = body["error"] if status == 400 else body["errors"][0]["message"]
    assert "first" in message and ("40" in message) == names_maximum


def test_an_unknown_lpa_is_a_validation_error_and_hides_staff_changes(api_under: Callable[..., Api]) -> None:
    """
    Given: an account that does not know `lpa`, holding some LPA changes
    When: the window is asked for with and without `lpa: true`
    Then: with it, a validation error naming lpa; without it, every record but the LPA changes,
          and the ground truth leaves them out too
    """
    api = api_under(unknown_arguments=("lpa",))
    staff = sum(stored.lpa for stored in api.simulator.store.snapshot())
    assert staff > 0
    refused = window_query(api, ORDER_FORMS["string-list"], extra=", lpa: true").json()
    assert "Unknown argument 'lpa'" in refused["errors"][0]["message"]
    answered = window_query(api, ORDER_FORMS["string-list"], extra=", automaticUpdates: true").json()
    records = answered["data"]["auditData"]
    assert not any(record["originatorIsLpa"] for record in records)
    assert len(records) == len(api.simulator.ground_truth()) == len(api.simulator.store.snapshot()) - staff


def test_a_result_window_refuses_offset_plus_first_past_the_ceiling(api_under: Callable[..., Api]) -> None:
    """
    Given: a result window of 50 on a day of 90 records
    When: pages are asked for with offset + first equal to 50, and 51
    Then: 50 answers; 51 is a GraphQL error naming the ceiling, even where fewer records would come back
    """
    api = api_under(result_window=50)
    assert len(window_query(api, ORDER_FORMS["string-list"], first=10, offset=40).json()["data"]["auditData"]) == 10
    refused = window_query(api, ORDER_FORMS["string-list"], first=11, offset=40).json()
    assert refused["data"] is None and "[50]" in refused["errors"][0]["message"]
    assert "Result window" in window_query(api, ORDER_FORMS["string-list"], first=500).json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("reading", "message"),
    [
        ({"ordering": "sideways"}, "ordering must be one of"),
        ({"first_refusal": "silently"}, "first_refusal must be one of"),
        ({"unknown_arguments": ("users",)}, "unknown_arguments may name only"),
        ({"result_window": 0}, "result_window must be at least 1"),
        ({"max_first": 0}, "max_first must be at least 1"),
    ],
)
def test_a_reading_refuses_values_it_cannot_model(reading: dict[str, Any], message: str) -> None:
    """
    Given: a switch value outside what the simulator models
    When: the Reading is built
    Then: a ValueError that names the switch and what is accepted
    """
    with pytest.raises(ValueError, match=message):
        Reading(**reading)
