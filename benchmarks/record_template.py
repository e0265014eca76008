"""A generated record turned into a template whose names, ids and per-event values are holes.

The benchmark file is filled from a pool of records the demo generator made. Each pool record
is serialised once, with every value that names a person, group or application (and every
value each event has of its own: id, correlation id, date, caller address, user agent, the new
department or job title of an update) replaced by a marker; the text is then split at the
markers. Filling a template is a join of its text pieces with the values of the objects drawn
for it: a few microseconds, where building and serialising a record would cost ten times that.

Only values are replaced, never keys or structure, so every record keeps exactly the shape the
demo generator gives it. The objects of one record are consistent: the person the pool record
names twice (as target and in a modified property) is one drawn person in both places.
"""

import json
import re
from dataclasses import dataclass

from benchmarks.population import OBJECT_TYPES, kind_of
from logs.activity_catalogue import SUBSTRATE_APP_ID

# Markers use Private Use Area characters: json.dumps(ensure_ascii=False) writes them as they
# are, and no generated value contains them.
_OPEN, _CLOSE = "\ue000", "\ue001"
_MARKER = re.compile(f"{_OPEN}(\\d+|E):(\\w+){_CLOSE}")
# The slot of the values each event has of its own: the fields its holes may name.
EVENT = -1
EVENT_FIELDS = ("id", "correlationId", "activityDateTime", "ipAddress", "userAgent",
                "department", "jobTitle")  # fmt: skip


@dataclass(frozen=True)
class RecordTemplate:
    """Text pieces around holes; each hole is (slot, field): slot ``EVENT`` or the index of an
    object in ``kinds`` (what kind of object each slot takes: person, group, app, other)."""

    pieces: tuple[str, ...]
    holes: tuple[tuple[int, str], ...]
    kinds: tuple[str, ...]

    def fill(self, objects: list, event: dict) -> str:
        """The record's JSON text with the slots' ``objects`` and the ``event``'s values."""
        values = [
            event[field] if slot == EVENT else getattr(objects[slot], field)
            for slot, field in self.holes
        ]
        parts = [None] * (2 * len(values) + 1)
        parts[0::2] = self.pieces
        parts[1::2] = values
        return "".join(parts)


def compile_template(record: dict) -> RecordTemplate:
    """The template of a demo-generator record (``logs.demo_data.generate_records``)."""
    if _OPEN in json.dumps(record, ensure_ascii=False):
        raise ValueError("the record already holds a template marker")
    builder = _Builder()
    text = json.dumps(builder.mark(record), ensure_ascii=False, separators=(",", ":"))
    split = _MARKER.split(text)
    pieces = tuple(split[0::3])
    holes = tuple(
        (EVENT if slot == "E" else int(slot), field)
        for slot, field in zip(split[1::3], split[2::3], strict=True)
    )
    unknown = {field for slot, field in holes if slot == EVENT} - set(EVENT_FIELDS)
    if unknown:
        raise ValueError(f"no event value is called {', '.join(sorted(unknown))}")
    return RecordTemplate(pieces, holes, tuple(builder.kinds))


class _Builder:
    """Marks a record's values; the objects it names become numbered slots."""

    def __init__(self):
        self.kinds: list[str] = []
        self._slots: dict[tuple[str, str], int] = {}

    def slot(self, kind: str, pool_id: str) -> int:
        """The slot of the pool's object ``pool_id``: one slot per object, so that an object
        named twice in a record is one drawn object in both places."""
        key = (kind, pool_id)
        if key not in self._slots:
            self._slots[key] = len(self.kinds)
            self.kinds.append(kind)
        return self._slots[key]

    def hole(self, slot: int | None, field: str) -> str:
        """A marker for ``field`` of the object in ``slot``, or of the event (``None``)."""
        return f"{_OPEN}{'E' if slot is None else slot}:{field}{_CLOSE}"

    def mark(self, record: dict) -> dict:
        marked = dict(record)
        for field in ("id", "correlationId", "activityDateTime"):
            marked[field] = self.hole(None, field)
        marked["initiatedBy"] = self._initiator(record["initiatedBy"])
        marked["targetResources"] = [self._target(t) for t in record["targetResources"]]
        marked["additionalDetails"] = [
            dict(detail, value=self.hole(None, "userAgent"))
            if detail.get("key") == "User-Agent"
            else detail
            for detail in record["additionalDetails"]
        ]
        return marked

    def _initiator(self, initiated_by):
        if not initiated_by:
            return initiated_by
        if initiated_by.get("user"):
            user = initiated_by["user"]
            slot = self.slot("person", user["id"])
            user = dict(
                user,
                id=self.hole(slot, "id"),
                displayName=self.hole(slot, "displayName"),
                userPrincipalName=self.hole(slot, "userPrincipalName"),
                ipAddress=self.hole(None, "ipAddress"),
            )
            return dict(initiated_by, user=user)
        app = initiated_by.get("app")
        if not app or app.get("appId") == SUBSTRATE_APP_ID:
            # Microsoft's own service keeps its one name and id, as in every tenant.
            return initiated_by
        slot = self.slot("app", app["appId"])
        app = dict(
            app,
            appId=self.hole(slot, "appId"),
            displayName=self.hole(slot, "displayName"),
            servicePrincipalId=self.hole(slot, "servicePrincipalId"),
        )
        return dict(initiated_by, app=app)

    def _target(self, target: dict) -> dict:
        kind = kind_of(target["type"])
        slot = self.slot(kind, target["id"])
        id_field = "servicePrincipalId" if target["type"] == "ServicePrincipal" else "id"
        marked = dict(target, id=self.hole(slot, id_field))
        if target["type"] in OBJECT_TYPES:
            name_field = "renamedTo" if _is_rename(target) else "displayName"
            marked["displayName"] = self.hole(slot, name_field)
        if target.get("userPrincipalName"):
            marked["userPrincipalName"] = self.hole(slot, "userPrincipalName")
        marked["modifiedProperties"] = self._properties(kind, slot, target["modifiedProperties"])
        return marked

    def _properties(self, kind: str, slot: int, properties: list[dict]) -> list[dict]:
        linked = {}  # Group.* and Application.* name another object: the one of their ObjectID
        for prop in properties:
            prefix, _, name = prop["displayName"].partition(".")
            if prefix in ("Group", "Application") and name == "ObjectID":
                other = "group" if prefix == "Group" else "app"
                linked[prefix] = self.slot(other, json.loads(prop["newValue"]))
        return [self._property(kind, slot, linked, prop) for prop in properties]

    def _property(self, kind: str, slot: int, linked: dict, prop: dict) -> dict:
        name = prop["displayName"]
        prefix, _, field = name.partition(".")
        if prefix in linked and field in ("ObjectID", "DisplayName"):
            value = self.hole(linked[prefix], "id" if field == "ObjectID" else "displayName")
            return dict(prop, newValue=_json_text(value))
        if kind == "person":
            if name in ("DisplayName", "UserPrincipalName"):
                return dict(prop, newValue=_json_list(self.hole(slot, _field_of_property(name))))
            if name in ("Department", "JobTitle"):
                field = _field_of_property(name)
                return dict(
                    prop,
                    oldValue=_json_list(self.hole(slot, field)),
                    newValue=_json_list(self.hole(None, field)),
                )
        if kind == "group" and name in ("DisplayName", "Description"):
            field = "displayName" if name == "DisplayName" else "description"
            return dict(prop, newValue=_json_list(self.hole(slot, field)))
        if kind == "app":
            if name in ("AppId", "AppPrincipalId", "ServicePrincipalName"):
                return dict(prop, newValue=_json_list(self.hole(slot, "appId")))
            if name == "TargetId.ServicePrincipalNames":
                return dict(prop, newValue=_json_text(self.hole(slot, "appId")))
            if name == "DisplayName" and prop["oldValue"] not in (None, "[]"):
                return dict(
                    prop,
                    oldValue=_json_list(self.hole(slot, "displayName")),
                    newValue=_json_list(self.hole(slot, "renamedTo")),
                )
            if name == "DisplayName":
                return dict(prop, newValue=_json_list(self.hole(slot, "displayName")))
        return prop


def _is_rename(target: dict) -> bool:
    """An application's rename: it is named by its new name from that record on."""
    return any(
        prop["displayName"] == "DisplayName" and prop["oldValue"] not in (None, "[]")
        for prop in target["modifiedProperties"]
    ) and target["type"] in ("Application", "ServicePrincipal")


def _field_of_property(name: str) -> str:
    """A property's name as the field of the object that holds its value."""
    return {"DisplayName": "displayName", "UserPrincipalName": "userPrincipalName",
            "Department": "department", "JobTitle": "jobTitle"}[name]  # fmt: skip


def _json_list(value: str) -> str:
    """A multi-valued property as Entra writes it (see ``logs.demo_data._json_list``)."""
    return json.dumps([value], ensure_ascii=False)


def _json_text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)
