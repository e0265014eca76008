"""The one normalised record shape every parser produces and the loader stores."""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)
class ModifiedPropertyRecord:
    name: str
    old_value: str | None
    new_value: str | None


@dataclass(slots=True)
class TargetRecord:
    type: str = ""
    object_id: str = ""
    display_name: str = ""
    user_principal_name: str = ""
    group_type: str = ""
    modified_properties: list[ModifiedPropertyRecord] = field(default_factory=list)


@dataclass(slots=True, frozen=True)
class InitiatorRecord:
    """An actor's identity; equal identities are one Initiator row."""

    kind: str  # "user", "app" or "system" (Initiator.Kind)
    user_object_id: str = ""
    user_display_name: str = ""
    user_principal_name: str = ""
    user_type: str = ""
    home_tenant_id: str = ""
    home_tenant_name: str = ""
    app_id: str = ""
    app_display_name: str = ""
    service_principal_id: str = ""
    service_principal_name: str = ""

    @property
    def identity_key(self) -> str:
        parts = (
            self.kind,
            self.user_object_id,
            self.user_display_name,
            self.user_principal_name,
            self.user_type,
            self.home_tenant_id,
            self.home_tenant_name,
            self.app_id,
            self.app_display_name,
            self.service_principal_id,
            self.service_principal_name,
        )
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(slots=True)
class AuditRecord:
    """One audit event as every format normalises it, plus where it came from."""

    entra_id: str
    activity_datetime: datetime
    service: str
    category: str
    activity: str
    operation_type: str
    result: str
    result_reason: str
    correlation_id: str
    initiator: InitiatorRecord | None
    initiator_ip_address: str
    initiator_user_agent: str
    additional_details: list
    targets: list[TargetRecord]
    original: str  # the source record as JSON text, key order and values as sent
    location: str  # e.g. "record 12" or "line 40", for messages
    # What did not fit the fields above (logs.ingest.notes): {"field", "note", "raw"} each.
    notes: list = field(default_factory=list)
    # Set by the loader (logs.ingest.fingerprints) when it checks the record, unless the
    # parsing process of a large file (logs.ingest.parallel) has set them already.
    content_hash: str = ""
    match_key: str = ""
    # The original in its stored form (logs.originals.codec.pack), packed by the parsing
    # process of a large file, and the identity of the dictionary it used: the loader stores it
    # only if that is the dictionary its batch packs with, and packs the original itself
    # otherwise. Not part of what a record is: equal records may have been packed or not.
    packed_original: bytes | None = field(default=None, compare=False)
    packed_by: tuple | None = field(default=None, compare=False)
