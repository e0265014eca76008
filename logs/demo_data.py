"""Realistic generated Graph-shaped audit records, for the demo, the benchmarks and the tests.

The records follow the shape of Microsoft Graph ``directoryAudit`` (see fixtures/graph/) and use
activity names, services, categories, operation types, target types and modified-property
names from ``logs.activity_catalogue``. Randomness goes through factory-boy's shared generator,
so ``factory.random.reseed_random(seed)`` makes a run repeatable.

``generate_records`` plays one tenant (``Directory``) in time order, so that what the records
say holds together the way a real log does: a user keeps one id and one user principal name and
is changed again and again (some people far more often than others), a group added is a new
group that later records name, an application renamed had the old name until then and has the
new one after, and the group, role or application of a membership record is a real one of the
tenant. Modified properties carry values of their kind (a display name, an id, a flag) in the
JSON forms Entra writes them (``["Payroll Sync"]``, ``"3b3bf2cd-..."``).
"""

import json
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
# Applications registered later are named a subject and a kind of tool ("Visitor Portal"); a
# renamed one keeps its subject and takes another kind ("Payroll Connector" -> "Payroll Sync").
APP_SUBJECTS = ["Visitor", "Contract", "Travel", "Timesheet", "Asset", "Helpdesk", "Board",
                "Expense", "Shift", "Learning", "Benefits", "Recruiting", "Inventory", "Invoice",
                "Payroll", "Reporting", "Backup", "Sales", "Facilities", "Onboarding"]  # fmt: skip
APP_KINDS = ["Portal", "Connector", "Sync", "Gateway", "Hub", "Service", "Agent", "Tracker",
             "Planner", "Archive", "Dashboard", "Bot"]  # fmt: skip
# Groups created later: a kind of group and a code name.
NEW_GROUP_KINDS = ["Project", "Team", "Committee", "Working Group", "Programme"]
CODE_NAMES = ["Apollo", "Borealis", "Cedar", "Delta", "Ember", "Fjord", "Granite", "Harbour",
              "Iris", "Juniper", "Kestrel", "Lumen", "Meridian", "Nimbus", "Orchid"]  # fmt: skip
DEPARTMENTS = ["Finance", "Human Resources", "Sales", "Engineering", "Marketing", "Legal",
               "Operations", "Support"]  # fmt: skip
JOB_TITLES = ["Accountant", "Recruiter", "Account Manager", "Software Engineer", "Designer",
              "Counsel", "Operations Lead", "Support Engineer", "Director"]  # fmt: skip
# Directory roles: display name, template id, well-known object name (as Entra names them in
# Role.* modified properties; see the Security Administrator sample in fixtures).
ROLES = [
    ("Global Administrator", "62e90394-69f5-4237-9190-012177145e10", "TenantAdmins"),
    ("User Administrator", "fe930be7-5e62-47db-91af-98c3a49a38b1", "UserAccountAdmins"),
    ("Security Administrator", "194ae4cb-b126-40b2-bd5b-6091b380977d", "SecurityAdmins"),
]
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
    """A change of a user's department, as Entra writes it (a JSON list of the values)."""

    displayName = "Department"
    oldValue = factory.LazyFunction(lambda: _json_list(_pick(DEPARTMENTS)))
    newValue = factory.LazyFunction(lambda: _json_list(_pick(DEPARTMENTS)))


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


def _json_list(*items) -> str:
    """A multi-valued property as Entra writes it: ``["Payroll Sync"]``, ``[]``."""
    return json.dumps(list(items), ensure_ascii=False)


def _json_text(value: str) -> str:
    """A single-valued property as Entra writes it: ``"3b3bf2cd-..."``."""
    return json.dumps(value, ensure_ascii=False)


# Plain dicts, not factories: a record has a dozen of them, and factory-boy's bookkeeping per
# call would halve how many records a second the demo and the benchmarks get.
def _changed(name: str, old, new) -> dict:
    """A modifiedProperty (Graph ``modifiedProperty``)."""
    return {"displayName": name, "oldValue": old, "newValue": new}


def _target(object_id: str, target_type: str, name, upn=None, group_type=None) -> dict:
    """A targetResource, keys in the order of GraphTargetResourceFactory's."""
    return {
        "id": object_id,
        "displayName": name,
        "type": target_type,
        "userPrincipalName": upn,
        "groupType": group_type,
        "modifiedProperties": [],
    }


class Directory:
    """The tenant the records act on: its people, groups, applications and roles.

    Each record's target is one of them (or a new one, for an "Add ..." activity), so that ids
    and names stay the same from record to record. People changed are picked with a bias, as
    in a real tenant: a few (newcomers, leavers, helpdesk regulars) far more often than the
    rest. Without any people, groups or applications (``Directory()``), every target is new:
    what a single record made by ``GraphDirectoryAuditFactory`` needs.
    """

    def __init__(self, people=(), groups=(), apps=()):
        self.people = list(people)
        self.groups = [{"id": _guid(), "name": name} for name in groups]
        self.apps = [self._new_app(name) for name in apps]
        self.roles = [{"id": _guid(), "name": n, "template": t, "alias": a} for n, t, a in ROLES]
        # Names ever given, kept after a deletion or a rename, so that no two objects share one.
        self._user_principal_names = {person["userPrincipalName"] for person in self.people}
        self._group_names = set(groups)
        self._app_names = set(apps)
        self._numbers = {}

    # -- the objects --------------------------------------------------------------------
    def _biased(self, items: list):
        """One of ``items``, the first ones far more often (a quadratic bias)."""
        return items[int(len(items) * _rng().random() ** 2)]

    def _unique(self, candidates: list[str], taken: set[str], separator: str = " ") -> str:
        """One of ``candidates`` not in ``taken``, else one numbered (``Project Apollo 2``)."""
        free = [name for name in candidates if name not in taken]
        if free:
            name = _pick(free)
        else:
            base = _pick(candidates)
            number = self._numbers.get(base, 2)
            while f"{base}{separator}{number}" in taken:
                number += 1
            self._numbers[base] = number + 1
            name = f"{base}{separator}{number}"
        taken.add(name)
        return name

    def person(self, new: bool = False) -> dict:
        if new or not self.people:
            name, upn = _person()
            local, domain = upn.split("@")
            if upn in self._user_principal_names:  # a namesake: alex.wilber2@contoso.com
                number = self._numbers.get(upn, 2)
                while f"{local}{number}@{domain}" in self._user_principal_names:
                    number += 1
                self._numbers[upn] = number + 1
                upn = f"{local}{number}@{domain}"
            self._user_principal_names.add(upn)
            person = {"id": _guid(), "displayName": name, "userPrincipalName": upn}
            self.people.append(person)
            return person
        return self._biased(self.people)

    def group(self, new: bool = False) -> dict:
        if new or not self.groups:
            candidates = [f"{kind} {code}" for kind in NEW_GROUP_KINDS for code in CODE_NAMES]
            group = {"id": _guid(), "name": self._unique(candidates, self._group_names)}
            self.groups.append(group)
            return group
        return _pick(self.groups)

    def _new_app(self, name: str) -> dict:
        return {"id": _guid(), "appId": _guid(), "servicePrincipalId": _guid(), "name": name}

    def app(self, new: bool = False) -> dict:
        if new or not self.apps:
            candidates = [f"{subject} {kind}" for subject in APP_SUBJECTS for kind in APP_KINDS]
            app = self._new_app(self._unique(candidates, self._app_names))
            self.apps.append(app)
            return app
        return _pick(self.apps)

    def renamed(self, app: dict) -> str:
        """A new name for ``app``: its first word with another (Payroll Connector → Payroll
        Sync), numbered if every such name is taken."""
        first_word = app["name"].split()[0]
        candidates = [f"{first_word} {kind}" for kind in APP_KINDS]
        return self._unique(candidates, self._app_names)

    # -- a record's target --------------------------------------------------------------
    def target_for(self, entry, applied: bool = True) -> dict:
        """The target of ``entry``'s activity, with its modified properties. A change not
        ``applied`` (a failure) acts on an object that exists, changes nothing and, as Entra
        writes failures, lists no modified properties."""
        if not applied:
            return self._untouched(entry.target_type)
        properties = entry.modified_properties
        target_type = entry.target_type
        if target_type == "User":
            person = self.person(new=entry.activity == "Add user")
            target = _target(
                person["id"], "User", person["displayName"], person["userPrincipalName"]
            )
            changes = self._user_changes(entry, person, properties)
        elif target_type == "Group":
            group = self.group(new=entry.activity == "Add group")
            target = _target(group["id"], "Group", group["name"], group_type="unifiedGroups")
            changes = self._group_changes(group, properties)
        elif target_type in {"Application", "ServicePrincipal"}:
            app = self.app(new=entry.activity in {"Add application", "Add service principal"})
            changes = self._app_changes(entry, app, properties)
            object_id = app["id"] if target_type == "Application" else app["servicePrincipalId"]
            target = _target(object_id, target_type, app["name"])
        else:
            target = _target(_guid(), target_type, target_type)
            changes = []
        target["modifiedProperties"] = changes
        self._forget_if_deleted(entry.activity, target["id"])
        return target

    def _forget_if_deleted(self, activity: str, object_id: str) -> None:
        """A deleted user, group or application is not changed again (its name stays taken)."""
        pool = {
            "Delete user": self.people,
            "Delete group": self.groups,
            "Delete application": self.apps,
        }.get(activity)
        if pool:
            pool[:] = [item for item in pool if item["id"] != object_id]

    def _untouched(self, target_type: str) -> dict:
        if target_type == "User":
            person = self.person()
            return _target(person["id"], "User", person["displayName"], person["userPrincipalName"])
        if target_type == "Group":
            group = self.group()
            return _target(group["id"], "Group", group["name"], group_type="unifiedGroups")
        if target_type in {"Application", "ServicePrincipal"}:
            app = self.app()
            object_id = app["id"] if target_type == "Application" else app["servicePrincipalId"]
            return _target(object_id, target_type, app["name"])
        return _target(_guid(), target_type, target_type)

    def _user_changes(self, entry, person: dict, properties) -> list[dict]:
        changes = []
        if any(name.startswith("Group.") for name in properties):
            group = self.group()
            changes += [
                _changed("Group.ObjectID", None, _json_text(group["id"])),
                _changed("Group.DisplayName", None, _json_text(group["name"])),
            ]
        if any(name.startswith("Application.") for name in properties):
            app = self.app()
            changes += [
                _changed("Application.ObjectID", None, _json_text(app["id"])),
                _changed("Application.DisplayName", None, _json_text(app["name"])),
            ]
        if any(name.startswith("Role.") for name in properties):
            role = _pick(self.roles)
            changes += [
                _changed("Role.ObjectID", None, _json_text(role["id"])),
                _changed("Role.DisplayName", None, _json_text(role["name"])),
                _changed("Role.TemplateId", None, _json_text(role["template"])),
                _changed("Role.WellKnownObjectName", None, _json_text(role["alias"])),
            ]
        values = {
            "AccountEnabled": (
                ("[]", "[true]") if entry.activity == "Add user" else ("[true]", "[false]")
            ),
            "DisplayName": ("[]", _json_list(person["displayName"])),
            "UserPrincipalName": ("[]", _json_list(person["userPrincipalName"])),
            "UserType": ("[]", _json_list("Member")),
            "Department": (_json_list(_pick(DEPARTMENTS)), _json_list(_pick(DEPARTMENTS))),
            "JobTitle": (_json_list(_pick(JOB_TITLES)), _json_list(_pick(JOB_TITLES))),
        }
        return changes + self._listed(properties, values)

    def _group_changes(self, group: dict, properties) -> list[dict]:
        values = {
            "DisplayName": ("[]", _json_list(group["name"])),
            "Description": ("[]", _json_list(f"{group['name']}: members and shared files")),
            "MailEnabled": ("[]", "[true]"),
            "SecurityEnabled": ("[]", "[false]"),
            "GroupType": ("[]", _json_list("Unified")),
        }
        return self._listed(properties, values)

    def _app_changes(self, entry, app: dict, properties) -> list[dict]:
        values = {
            "AppId": ("[]", _json_list(app["appId"])),
            "AppPrincipalId": ("[]", _json_list(app["appId"])),
            "ServicePrincipalName": ("[]", _json_list(app["appId"])),
            "AccountEnabled": ("[]", "[true]"),
            "TargetId.ServicePrincipalNames": (None, _json_text(app["appId"])),
            "ConsentContext.IsAdminConsent": (None, _json_text("True")),
            "ConsentContext.IsAppOnly": (None, _json_text("False")),
            "ConsentContext.OnBehalfOfAll": (None, _json_text("True")),
        }
        if entry.activity == "Update application" and "DisplayName" in properties:
            # A quarter of the updates rename the application; the others leave its name.
            old = app["name"]
            if _rng().random() < 0.25:
                app["name"] = self.renamed(app)
                values["DisplayName"] = (_json_list(old), _json_list(app["name"]))
            else:
                properties = tuple(name for name in properties if name != "DisplayName")
        else:
            values["DisplayName"] = ("[]", _json_list(app["name"]))
        return self._listed(properties, values)

    @staticmethod
    def _listed(properties, values: dict) -> list[dict]:
        """The properties of ``properties`` that have values, and the AssignedLicense and
        "Included Updated Properties" entries that go with them."""
        changes = [_changed(name, *values[name]) for name in properties if name in values] + [
            _modified_property(name) for name in properties if name == "AssignedLicense"
        ]
        if "Included Updated Properties" in properties and changes:
            updated = ", ".join(change["displayName"] for change in changes)
            changes.append(_changed("Included Updated Properties", None, _json_text(updated)))
        return changes


def _target_for(entry, directory: Directory | None = None, applied: bool = True) -> dict:
    """A target of the type ``entry``'s activity acts on, from ``directory`` (else a new one),
    with its modified properties."""
    return (directory or Directory()).target_for(entry, applied)


def _modified_property(name: str) -> dict:
    if name == "AssignedLicense":
        sku = _pick(LICENCE_SKUS)
        return GraphModifiedPropertyFactory(
            displayName=name,
            oldValue="[]",
            newValue=f'["[SkuName={sku}, AccountId={_guid()}, SkuId={_guid()}, DisabledPlans=[]]"]',
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
        # The tenant the record acts on (generate_records plays one); None: a new target.
        directory = None
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
    targetResources = factory.LazyAttribute(
        lambda o: [_target_for(o.entry, o.directory, applied=o.result == "success")]
    )
    additionalDetails = factory.LazyFunction(
        lambda: (
            [{"key": "User-Agent", "value": _pick(USER_AGENTS)}] if _rng().random() < 0.5 else []
        )
    )


class ActorPool:
    """A tenant's worth of people and apps: real logs repeat the same few hundred actors.

    With a ``directory``, the people who act are people of it (one user principal name each),
    and the apps its applications, under the names they have when they act (a renamed
    application acts under its new name)."""

    def __init__(self, users: int = 300, apps: int = 20, directory: Directory | None = None):
        if directory is None:
            self.users = [_user_identity() for _ in range(users)]
        else:
            self.users = [{**_user_identity(), **directory.person(new=True)} for _ in range(users)]
        self.directory = directory
        self.apps = [GraphAppInitiatorFactory()["app"] for _ in range(0 if directory else apps)]
        self.substrate = GraphAppInitiatorFactory(substrate=True)

    def initiated_by(self) -> dict:
        if _rng().random() < 0.2:
            return {"user": None, "app": self._app()}
        user = dict(_pick(self.users), ipAddress=f"203.0.113.{_rng().randrange(1, 255)}")
        return {"user": user, "app": None}

    def _app(self) -> dict:
        if self.directory is None:
            return _pick(self.apps)
        app = _pick(self.directory.apps)
        return {
            "appId": app["appId"],
            "displayName": app["name"],
            "servicePrincipalId": app["servicePrincipalId"],
            "servicePrincipalName": None,
        }


def generate_records(
    count: int,
    seed: int | None = None,
    failure_rate=0.05,
    substrate_rate=0.05,
    window_end: datetime = DEFAULT_WINDOW_END,
):
    """Yield ``count`` records of one tenant, oldest first, dated in the 90 days before
    ``window_end``: mostly successes, some failures and Substrate write-backs."""
    if seed is not None:
        factory.random.reseed_random(seed)
    rng = _rng()
    directory = Directory(groups=GROUP_NAMES, apps=APP_NAMES)
    actors = ActorPool(directory=directory)
    window = timedelta(days=90)
    for number in range(count):
        # In time order (each record at a random moment of its own slice of the window), so
        # that what a record changes holds for the records after it.
        moment = window_end - window + window * ((number + rng.random()) / count)
        common = {"window_end": window_end, "moment": moment, "directory": directory}
        roll = rng.random()
        if roll < failure_rate:
            yield GraphDirectoryAuditFactory(
                failure=True, initiatedBy=actors.initiated_by(), **common
            )
        elif roll < failure_rate + substrate_rate:
            yield GraphDirectoryAuditFactory(
                initiatedBy=actors.substrate, entry=_pick(SUBSTRATE_WRITE_BACKS), **common
            )
        else:
            yield GraphDirectoryAuditFactory(initiatedBy=actors.initiated_by(), **common)
