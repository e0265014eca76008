"""Two fingerprints of a normalised record, stored with each event.

``content_hash``: what the record says happened. The same id arriving again with another
content hash is a conflict (reported, the first version kept), not a duplicate. It covers the
fields every format carries the same way: the date, service, category, activity, operation
type, result and reason, correlation id, the initiator's identity, and each target with its
modified properties. It leaves out what formats fill in differently for one event (the
caller's address and user agent, which Azure Monitor may supply from its own columns, and
additional details), so the same event from Graph and from Azure Monitor is a duplicate.

``match_key``: what identifies one event across formats, for the portal CSV, which carries no
id. A CSV row and an id-bearing record with the same date (to the second), correlation id,
activity, result and first target (its object id, else its display name, else its principal
name) are the same event.
"""

import hashlib

import orjson

from logs.ingest.records import AuditRecord


def content_hash(record: AuditRecord) -> str:
    initiator = record.initiator
    who = (
        (
            initiator.kind,
            initiator.user_object_id,
            initiator.user_principal_name,
            initiator.app_id,
            initiator.service_principal_id,
        )
        if initiator is not None
        else None
    )
    content = (
        record.activity_datetime.isoformat(),
        record.service,
        record.category,
        record.activity,
        record.operation_type,
        record.result,
        record.result_reason,
        record.correlation_id,
        who,
        [
            (
                target.type,
                target.object_id,
                target.display_name,
                target.user_principal_name,
                [(p.name, p.old_value, p.new_value) for p in target.modified_properties],
            )
            for target in record.targets
        ],
    )
    return hashlib.sha256(orjson.dumps(content)).hexdigest()


def match_key(record: AuditRecord) -> str:
    first = record.targets[0] if record.targets else None
    target = (first.object_id or first.display_name or first.user_principal_name) if first else ""
    moment = record.activity_datetime.replace(microsecond=0).isoformat()
    content = (moment, record.correlation_id.lower(), record.activity, record.result, target)
    return hashlib.sha256(orjson.dumps(content)).hexdigest()
