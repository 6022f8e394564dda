"""The simulator keeps LivePerson's documented behaviour, so the end-to-end tests mean something."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from devtools.simulator import Simulator

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
