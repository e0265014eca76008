"""The audit-log domain model: events and what they are made of, lookups, imports, access."""

from logs.models.access_trail import AccessRecord
from logs.models.annotations import Annotation
from logs.models.collection import CollectedBlob, CollectionSource
from logs.models.compression import CompressionDictionary
from logs.models.digests import ChainDigest
from logs.models.events import AuditEvent, ModifiedProperty, Target
from logs.models.holds import LegalHold, LegalHoldRelease
from logs.models.imports import ImportBatch
from logs.models.integrity import ChainCheckpoint, LookupSeal
from logs.models.lookups import (
    Activity,
    Category,
    DetailsList,
    Initiator,
    Service,
    TargetName,
    UserAgent,
)
from logs.models.preferences import ColumnPreference

__all__ = [
    "AccessRecord",
    "Activity",
    "Annotation",
    "AuditEvent",
    "Category",
    "ChainCheckpoint",
    "ChainDigest",
    "CollectedBlob",
    "CollectionSource",
    "ColumnPreference",
    "CompressionDictionary",
    "DetailsList",
    "ImportBatch",
    "Initiator",
    "LegalHold",
    "LegalHoldRelease",
    "LookupSeal",
    "ModifiedProperty",
    "Service",
    "Target",
    "TargetName",
    "UserAgent",
]
