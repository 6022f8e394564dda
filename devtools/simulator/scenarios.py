"""Audit records that should raise each of the pack's correlation rules, and near-misses that should not.

`seed_detection_scenarios` adds them to an :class:`AuditStore` inside ``[end - days, end)`` and returns
how many alerts each rule should raise over the store's whole dataset. The random background (history
and live arrivals) is routine work that never matches a rule (see the vocabulary note in
``dataset.py``), and every scenario uses originators the background never uses, so the expected counts
are exact whatever the seed or the moment: they depend only on these records and on where business
hours and the rule schedules fall, which is computed here from ``end``.

Placement: hour slots fully inside the window. "Business" slots are 09:00-17:00 UTC on a weekday (well
inside the rules' 07:00-19:00, Monday-Friday business hours); "night" slots start at 01:00-04:00 UTC
(outside them on any day), at least two hours apart. Within a slot, records sit between :02 and :40, so
the mass-deletion runs (every 30 minutes over the last hour) see a burst at :05-:29 first at :30, and
the run at the next hour finds it again inside the 1-hour suppression.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from devtools.simulator.dataset import AuditStore

ADMIN_PERMISSION = "LivePerson - Administrative Permission Granted to Profile"
ADMIN_USER = "LivePerson - User Given Administrator Profile or API Access"
STAFF_ACCESS = "LivePerson - Access Change Made by LivePerson Staff"
MASS_DELETION = "LivePerson - Mass Deletion by One User"
AFTER_HOURS = "LivePerson - Access Change Outside Business Hours"
MTLS = "LivePerson - mTLS Certificate or Account Mapping Changed"
CONTENT_LINK = "LivePerson - Link Added to Customer-Facing Content"
RULES = (ADMIN_PERMISSION, ADMIN_USER, STAFF_ACCESS, MASS_DELETION, AFTER_HOURS, MTLS, CONTENT_LINK)


@dataclass(frozen=True)
class Actor:
    display: str
    login: str
    user_id: str
    lpa: bool = False
    agent: str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0"


# Nobody in the random background (dataset.ADMINS, LPA, AUTOMATIC) is one of these.
IVY = Actor("Ivy Security", "ivy.sec", "2000001")
TRENT = Actor("Trent Admin", "trent.admin", "2000002")
MALLORY = Actor("Mallory Ops", "mallory.ops", "2000003")
OSCAR = Actor("Oscar Night", "oscar.night", "2000004")
PAULA = Actor("Paula Content", "paula.content", "2000005")
ONBOARDING = Actor("LivePerson Onboarding", "lpa.onboarding", "lpa-90", lpa=True)


class Scene:
    """Adds records for one scenario group, at minutes into an hour slot."""

    def __init__(self, store: AuditStore, slot: datetime) -> None:
        self.store = store
        self.slot = slot

    def change(
        self,
        minute: float,
        actor: Actor,
        object_type: str,
        name: str,
        action: str = "Edit",
        element: str = "N/A",
        old: str = "",
        new: str = "",
    ) -> None:
        fields: dict[str, Any] = {
            "accountId": self.store.account_id,
            "objectType": object_type,
            "objectName": name,
            "actionType": action,
            "element": element,
            "oldValue": old,
            "newValue": new,
            "originator": actor.display,
            "originatorLoginName": actor.login,
            "originatorUserId": actor.user_id,
            "originatorUserAgent": actor.agent,
            "originatorAuthType": "sso" if actor.lpa else "auth1",
            "originatorIsLpa": actor.lpa,
        }
        self.store.add(self.slot + timedelta(minutes=minute), fields, lpa=actor.lpa)


def hour_slots(start: datetime, end: datetime) -> list[datetime]:
    """Whole hours h with start <= h and h + 1 hour <= end."""
    first = start.replace(minute=0, second=0, microsecond=0)
    if first < start:
        first += timedelta(hours=1)
    slots = []
    while first + timedelta(hours=1) <= end:
        slots.append(first)
        first += timedelta(hours=1)
    return slots


def is_business_slot(slot: datetime) -> bool:
    return slot.isoweekday() <= 5 and 9 <= slot.hour < 17


def is_night_slot(slot: datetime) -> bool:
    return 1 <= slot.hour <= 4


def take(slots: Iterable[datetime], count: int, what: str, gap: timedelta = timedelta(0)) -> list[datetime]:
    """`count` slots at least `gap` apart, from the start."""
    chosen: list[datetime] = []
    for slot in slots:
        if not chosen or slot - chosen[-1] >= gap:
            chosen.append(slot)
        if len(chosen) == count:
            return chosen
    raise ValueError(f"the window is too short for the detection scenarios: fewer than {count} {what} slots")


def seed_detection_scenarios(store: AuditStore, end: datetime, days: float) -> dict[str, int]:
    """Adds the scenario records within [end - days, end); returns the expected alerts per rule name.

    Needs about two and a half days or more, so that five weekday business hours and four night hours fit.
    """
    end = end.astimezone(UTC)
    slots = hour_slots(end - timedelta(days=days), end)
    business = take((slot for slot in slots if is_business_slot(slot)), 5, "business-hour")
    nights = take((slot for slot in slots if is_night_slot(slot)), 4, "night", gap=timedelta(hours=2))
    expected = dict.fromkeys(RULES, 0)

    # An administrative permission switched on in a profile; the same grant again within the hour is suppressed.
    scene = Scene(store, business[0])
    scene.change(2, IVY, "Profiles", "Tier 2 Managers", element="User administration", old="false", new="true")
    scene.change(5, IVY, "Profiles", "Tier 2 Managers", element="User administration", old="true", new="false")
    scene.change(9, IVY, "Profiles", "Tier 2 Managers", element="User administration", old="false", new="true")
    scene.change(12, IVY, "Profiles", "Integrations", element="API key administration", old="false", new="true")
    scene.change(15, IVY, "Profiles", "Tier 2 Managers", element="Generate secure form token", old="false", new="true")
    scene.change(18, IVY, "Profiles", "Tier 2 Managers", element="View reports", old="false", new="true")
    scene.change(
        20, IVY, "Profiles", "Agent Manager", element="Conversation Builder: Administrator", old="False", new="True"
    )
    expected[ADMIN_PERMISSION] += 3  # :02, :12, :20 (the :09 grant is suppressed; revoke and plain permissions are not)

    # A user given an administrator profile, API login or app keys.
    scene = Scene(store, business[1])
    scene.change(3, TRENT, "Users", "new.supervisor", element="Profiles", old="Agent", new="Agent, Administrator")
    scene.change(6, TRENT, "Users", "bot.integration", element="API user", old="false", new="true")
    scene.change(9, TRENT, "Users", "bot.integration", element="Allowed app keys", old="", new="7f3c2a91e0")
    scene.change(12, TRENT, "Users", "agent.kim", element="Profiles", old="Agent", new="Agent, Agent Manager")
    scene.change(15, TRENT, "Users", "bot.legacy", element="API user", old="true", new="false")
    scene.change(18, TRENT, "Users", "ops.lead", element="Profiles", old="Administrator", new="Administrator, Agent")
    expected[ADMIN_USER] += 3  # :03, :06, :09

    # A deletion spree: 12 users and 10 skills by one originator within minutes; 9 groups and 15 deletions of the
    # same three campaigns by another stay under the threshold, and so do edits.
    scene = Scene(store, business[2])
    for number in range(12):
        scene.change(5 + number, MALLORY, "Users", f"temp.agent.{number + 1:02d}", action="Delete")
    for number in range(10):
        scene.change(20 + number * 0.9, MALLORY, "Skills", f"Promo skill {number + 1:02d}", action="Delete")
    for number in range(9):
        scene.change(5 + number, TRENT, "Agent Groups", f"Seasonal group {number + 1}", action="Delete")
    for number in range(15):
        scene.change(6 + number, TRENT, "Campaigns", f"Old campaign {number % 3 + 1}", action="Delete")
    for number in range(12):
        scene.change(31 + number * 0.5, MALLORY, "Users", f"agent.{number + 1:02d}", element="Skills", old="1", new="2")
    expected[MASS_DELETION] += 2  # mallory.ops on Users and on Skills, once each (the next run is suppressed)
    # 12 content items deleted one every 15 minutes: never 10 within an hour.
    scene = Scene(store, nights[0])
    for number in range(12):
        scene.change(2 + 15 * number, PAULA, "Predefined Content", f"Winter offer {number + 1:02d}", action="Delete")

    # mTLS: a certificate added and a mapping changed; the same mapping again within the hour is suppressed.
    scene = Scene(store, business[3])
    scene.change(4, IVY, "MTLS certification", "crm-prod-client", action="Add new")
    scene.change(
        8, IVY, "MTLS account mapping", "crm.example.com", element="Certificate", old="crm-old", new="crm-prod-client"
    )
    scene.change(
        18, IVY, "MTLS account mapping", "crm.example.com", element="Certificate", old="crm-prod-client", new="crm-x"
    )
    scene.change(22, IVY, "Skills", "MTLS escalations", element="Description", old="", new="mTLS certificate issues")
    expected[MTLS] += 2  # :04, :08

    # Links planted in customer-facing text; edits that keep the same links, or text without links, are fine.
    scene = Scene(store, business[4])
    refund_old = "Refunds take 5 working days."
    refund_new = refund_old + " Claim yours faster at https://refund-help.example.net/claim"
    scene.change(2, TRENT, "Predefined Content", "Refund policy", element="Text", old=refund_old, new=refund_new)
    greeting = "Hi! Our help centre: https://www.example.com/help"
    scene.change(6, TRENT, "Predefined Content", "Greeting", element="Text", old=greeting, new="Hello! " + greeting[4:])
    scene.change(
        10,
        TRENT,
        "Predefined Content",
        "Shipping",
        element="Text",
        old="Track at www.example.com/track",
        new="Track at www.examp1e-track.net/login",
    )
    scene.change(
        14,
        TRENT,
        "Post conversation survey",
        "CSAT",
        element="Closing text",
        old="Thank you!",
        new="Thank you! Win a voucher: http://survey-prize.example.org/?id=1",
    )
    scene.change(
        17, TRENT, "Skills", "Billing", element="Description", old="", new="Docs: https://wiki.example.com/billing"
    )
    scene.change(20, TRENT, "Predefined Content", "Returns", action="Add new")
    scene.change(23, TRENT, "Predefined Content", "Contact", element="Text", old="", new="Write to help@example.com")
    expected[CONTENT_LINK] += 3  # :02, :10, :14

    # LivePerson staff at night: a user created and a profile given user administration; routine staff work is not
    # an access change. Outside business hours, but staff changes are not the after-hours rule's business.
    scene = Scene(store, nights[1])
    scene.change(5, ONBOARDING, "Users", "sso.admin", action="Add new")
    scene.change(10, ONBOARDING, "Profiles", "Administrator", element="User administration", old="false", new="true")
    scene.change(15, ONBOARDING, "Users", "sso.admin", element="Profiles", old="", new="Administrator")
    scene.change(20, ONBOARDING, "Campaigns", "Spring promo", element="Status", old="Paused", new="Running")
    scene.change(25, ONBOARDING, "Users", "agent.smith", element="Max number of live chats", old="3", new="4")
    expected[STAFF_ACCESS] += 2  # :05 (Users) and :10 (Profiles); :15 is Users again within the hour
    expected[ADMIN_PERMISSION] += 1  # :10
    expected[ADMIN_USER] += 1  # :15

    # An account user changing access at night: one alert per hour per originator; routine edits do not count.
    scene = Scene(store, nights[2])
    scene.change(10, OSCAR, "Users", "night.contractor", action="Add new")
    scene.change(25, OSCAR, "Users", "night.contractor", element="Profiles", old="", new="Agent Manager")
    scene.change(40, OSCAR, "Profiles", "Agent Manager", element="Export users", old="false", new="true")
    scene = Scene(store, nights[3])
    scene.change(5, OSCAR, "Users", "night.contractor", element="Enabled", old="false", new="true")
    scene.change(20, OSCAR, "Skills", "Billing", element="Max wait time", old="60", new="90")
    expected[AFTER_HOURS] += 2  # :10, and :05 in the next night slot (two hours or more later)
    expected[ADMIN_PERMISSION] += 1  # Export users
    # The access changes in business hours above (profiles, users, mTLS) are its near-misses.

    return expected
