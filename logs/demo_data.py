"""Realistic generated Graph-shaped audit records, for the demo, the benchmarks and the tests.

The records follow the shape of Microsoft Graph ``directoryAudit`` (see fixtures/graph/) and use
activity names, services, categories, operation types, target types and modified-property
names from ``logs.activity_catalogue``. Randomness goes through factory-boy's shared generator,
so ``factory.random.reseed_random(seed)`` makes a run repeatable.
"""

import random
import uuid
from datetime import UTC, datetime, timedelta

import factory
import factory.random

from logs.activity_catalogue import (
    CATALOGUE,
    SUBSTRATE_APP_ID,
    SUBSTRATE_DISPLAY_NAME,
    SUBSTRATE_WRITE_BACKS,
)

FIRST_NAMES = ["Adele", "Alex", "Diego", "Grady", "Isaiah", "Johanna", "Lee", "Lidia", "Megan",
               "Miriam", "Nestor", "Patti", "Pradeep", "Zoë", "Åsa", "José", "Łukasz", "Søren",
               "Mónica", "Chloé"]  # fmt: skip
LAST_NAMES = ["Vance", "Wilber", "Siciliani", "Archie", "Langer", "Lauer", "Gu", "Holloway",
              "Bowen", "Johnson", "Ångström", "Müller", "Ortiz", "Nakamura", "O'Brien"]  # fmt: skip
GROUP_NAMES = ["Finance", "HR Team", "Sales EMEA", "Engineering", "Marketing", "Legal",
               "Project Phoenix", "日本語グループ", "All Company", "Helpdesk Admins"]  # fmt: skip
APP_NAMES = ["Contoso Expense", "Payroll Connector", "Fabrikam CRM", "Build Pipeline",
             "Backup Agent", "Graph Explorer", "Reporting Service"]  # fmt: skip
FIRST_PARTY_APPS = [("Microsoft Teams Services", "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe"),
                    ("Microsoft Azure AD Group-Based Licensing", "")]  # fmt: skip
DOMAIN = "contoso.com"
LICENCE_SKUS = ["ENTERPRISEPACK", "SPE_E5", "EMS", "POWER_BI_PRO", "FLOW_FREE"]
USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
]


def _rng() -> random.Random:
    return factory.random.randgen


def _guid() -> str:
    return str(uuid.UUID(int=_rng().getrandbits(128), version=4))


def _pick(items):
    return _rng().choice(items)


def _person() -> tuple[str, str]:
    first, last = _pick(FIRST_NAMES), _pick(LAST_NAMES)
    upn = f"{first}.{last}@{DOMAIN}".lower().replace("'", "")
    return f"{first} {last}", upn


DEFAULT_WINDOW_END = datetime(2024, 11, 30, tzinfo=UTC)


def entra_timestamp(moment: datetime) -> str:
    """Entra's own form: UTC, 7 fractional digits, "Z"."""
    tick = _rng().randrange(10)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + f"{tick}Z"


class GraphModifiedPropertyFactory(factory.DictFactory):
    displayName = "DisplayName"
    oldValue = factory.LazyFunction(lambda: f'["{_pick(GROUP_NAMES)}"]')
    newValue = factory.LazyFunction(lambda: f'["{_pick(GROUP_NAMES)} (renamed)"]')


class GraphTargetResourceFactory(factory.DictFactory):
    id = factory.LazyFunction(_guid)
    displayName = factory.LazyFunction(lambda: _person()[0])
    type = "User"
    userPrincipalName = None
    groupType = None
    modifiedProperties = factory.LazyFunction(list)


def _user_identity() -> dict:
    name, upn = _person()
    return {
        "id": _guid(),
        "displayName": name,
        "userPrincipalName": upn,
        "ipAddress": f"203.0.113.{_rng().randrange(1, 255)}",
        "userType": "Member",
        "homeTenantId": None,
        "homeTenantName": None,
    }


class GraphUserInitiatorFactory(factory.DictFactory):
    """``initiatedBy`` for a person."""

    app = None
    user = factory.LazyFunction(_user_identity)


class GraphAppInitiatorFactory(factory.DictFactory):
    """``initiatedBy`` for an application (service principal)."""

    user = None
    app = factory.LazyFunction(
        lambda: {
            "appId": _guid(),
            "displayName": _pick(APP_NAMES),
            "servicePrincipalId": _guid(),
            "servicePrincipalName": None,
        }
    )

    class Params:
        substrate = factory.Trait(
            app=factory.LazyFunction(
                lambda: {
                    "appId": SUBSTRATE_APP_ID,
                    "displayName": SUBSTRATE_DISPLAY_NAME,
                    "servicePrincipalId": _guid(),
                    "servicePrincipalName": None,
                }
            )
        )


def _target_for(entry) -> dict:
    """A target of the type the activity acts on, with its modified properties."""
    target_type = entry.target_type
    if target_type == "User":
        name, upn = _person()
        target = GraphTargetResourceFactory(type="User", displayName=name, userPrincipalName=upn)
    elif target_type == "Group":
        target = GraphTargetResourceFactory(
            type="Group", displayName=_pick(GROUP_NAMES), groupType="unifiedGroups"
        )
    elif target_type in {"Application", "ServicePrincipal"}:
        target = GraphTargetResourceFactory(type=target_type, displayName=_pick(APP_NAMES))
    else:
        target = GraphTargetResourceFactory(type=target_type, displayName=target_type)
    target["modifiedProperties"] = [_modified_property(name) for name in entry.modified_properties]
    return target


def _modified_property(name: str) -> dict:
    if name == "AssignedLicense":
        sku = _pick(LICENCE_SKUS)
        return GraphModifiedPropertyFactory(
            displayName=name,
            oldValue="[]",
            newValue=f'["[SkuName={sku}, AccountId={_guid()}, SkuId={_guid()}, DisabledPlans=[]]"]',
        )
    if name == "Included Updated Properties":
        return GraphModifiedPropertyFactory(
            displayName=name, oldValue=None, newValue='"DisplayName"'
        )
    return GraphModifiedPropertyFactory(displayName=name)


class GraphDirectoryAuditFactory(factory.DictFactory):
    """One Graph ``directoryAudit`` record; traits: failure, substrate, no_initiator."""

    class Params:
        entry = factory.LazyFunction(lambda: _pick(CATALOGUE))
        # Records fall in the 90 days before window_end; a fixed default keeps tests repeatable.
        window_end = DEFAULT_WINDOW_END
        moment = factory.LazyAttribute(
            lambda o: (
                o.window_end
                - timedelta(
                    seconds=_rng().randrange(90 * 24 * 3600), microseconds=_rng().randrange(10**6)
                )
            )
        )
        failure = factory.Trait(
            result="failure", resultReason="Microsoft.Online.Workflows.ObjectAlreadyExistsException"
        )
        substrate = factory.Trait(
            initiatedBy=factory.SubFactory(GraphAppInitiatorFactory, substrate=True)
        )
        no_initiator = factory.Trait(initiatedBy=None)

    id = factory.LazyAttribute(
        lambda o: f"Directory_{o.correlationId}_{_guid()[:5].upper()}_{_rng().randrange(10**8)}"
    )
    category = factory.LazyAttribute(lambda o: o.entry.category)
    correlationId = factory.LazyFunction(_guid)
    result = "success"
    resultReason = ""
    activityDisplayName = factory.LazyAttribute(lambda o: o.entry.activity)
    activityDateTime = factory.LazyAttribute(lambda o: entra_timestamp(o.moment))
    loggedByService = factory.LazyAttribute(lambda o: o.entry.service)
    operationType = factory.LazyAttribute(lambda o: o.entry.operation_type)
    initiatedBy = factory.LazyFunction(
        lambda: GraphAppInitiatorFactory() if _rng().random() < 0.2 else GraphUserInitiatorFactory()
    )
    targetResources = factory.LazyAttribute(lambda o: [_target_for(o.entry)])
    additionalDetails = factory.LazyFunction(
        lambda: (
            [{"key": "User-Agent", "value": _pick(USER_AGENTS)}] if _rng().random() < 0.5 else []
        )
    )


class ActorPool:
    """A tenant's worth of people and apps: real logs repeat the same few hundred actors."""

    def __init__(self, users: int = 300, apps: int = 20):
        self.users = [_user_identity() for _ in range(users)]
        self.apps = [GraphAppInitiatorFactory()["app"] for _ in range(apps)]
        self.substrate = GraphAppInitiatorFactory(substrate=True)

    def initiated_by(self) -> dict:
        if _rng().random() < 0.2:
            return {"user": None, "app": _pick(self.apps)}
        user = dict(_pick(self.users), ipAddress=f"203.0.113.{_rng().randrange(1, 255)}")
        return {"user": user, "app": None}


def generate_records(
    count: int,
    seed: int | None = None,
    failure_rate=0.05,
    substrate_rate=0.05,
    window_end: datetime = DEFAULT_WINDOW_END,
):
    """Yield ``count`` records dated in the 90 days before ``window_end``: mostly successes,
    some failures and Substrate write-backs."""
    if seed is not None:
        factory.random.reseed_random(seed)
    rng = _rng()
    actors = ActorPool()
    for _ in range(count):
        roll = rng.random()
        if roll < failure_rate:
            yield GraphDirectoryAuditFactory(
                failure=True, initiatedBy=actors.initiated_by(), window_end=window_end
            )
        elif roll < failure_rate + substrate_rate:
            yield GraphDirectoryAuditFactory(
                initiatedBy=actors.substrate,
                entry=_pick(SUBSTRATE_WRITE_BACKS),
                window_end=window_end,
            )
        else:
            yield GraphDirectoryAuditFactory(
                initiatedBy=actors.initiated_by(), window_end=window_end
            )
