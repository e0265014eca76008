"""Microsoft Substrate Management write-backs, annotated informational.

Exchange Online writes the recipient changes it makes (mail addresses, proxy addresses, group
settings) back to Entra ID. Those entries name the first-party app "Microsoft Substrate
Management" as their initiator, are create/update/delete operations, and need no action; an
auditor wants to set them aside. They are marked with an ``Annotation`` of kind informational,
never by editing the event (events are immutable).

The rule, as real records carry the initiator:

- the initiator is an application (``initiatedBy.app``), and
- its app id is ``98db8bd6-0cc0-4e67-9de5-f187f1cd1b41`` (Graph, portal JSON, Azure Monitor,
  Log Analytics), or, where the source carries no app id (the portal CSV has only
  ``ActorDisplayName`` and ``ActorServicePrincipalName``), its app display name or service
  principal name is exactly "Microsoft Substrate Management"; and
- the operation type is ``Add``, ``Update`` or ``Delete``; where the source carries none (again
  the portal CSV), the activity must be one whose documented operation type is one of those
  (``logs.activity_catalogue``).

Not annotated (look-alikes): a *user* named "Microsoft Substrate Management"; an app with that
name but a different app id (someone's own registration); an ``Assign``/``Unassign`` or other
operation by the real app.

Idempotent: an event that already carries this rule's annotation never gets a second one.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from logs.activity_catalogue import CATALOGUE, SUBSTRATE_APP_ID, SUBSTRATE_DISPLAY_NAME
from logs.models import Activity, Annotation, AuditEvent, Initiator

WRITE_BACK_OPERATIONS = ("Add", "Update", "Delete")
# Activities whose documented operation type is a create/update/delete: the rule's stand-in for
# sources that carry no operation type.
WRITE_BACK_ACTIVITIES = sorted(
    {entry.activity for entry in CATALOGUE if entry.operation_type in WRITE_BACK_OPERATIONS}
)
SUBSTRATE_NOTE = (
    "Informational: a Microsoft Substrate Management write-back. Exchange Online wrote this "
    "directory change back to Entra ID; no action is needed."
)
BATCH_SIZE = 2000


@dataclass
class AnnotationCounts:
    matched: int = 0  # write-backs found
    already: int = 0  # of those, already annotated by this rule
    annotated: int = 0  # annotations written now (0 on a dry run)

    @property
    def to_annotate(self) -> int:
        return self.matched - self.already


def substrate_initiators():
    """The initiator rows the rule accepts (a small table, read before the event table)."""
    by_name = (
        Q(app_id="")
        & Q(app_display_name=SUBSTRATE_DISPLAY_NAME)
        & Q(service_principal_name__in=["", SUBSTRATE_DISPLAY_NAME])
    ) | (Q(app_id="") & Q(app_display_name="") & Q(service_principal_name=SUBSTRATE_DISPLAY_NAME))
    return Initiator.objects.filter(kind=Initiator.Kind.APP).filter(
        Q(app_id=SUBSTRATE_APP_ID) | by_name
    )


def substrate_write_backs(events=None):
    """Events the rule matches, among ``events`` (default: all stored)."""
    events = AuditEvent.objects.all() if events is None else events
    initiator_ids = list(substrate_initiators().values_list("pk", flat=True))
    if not initiator_ids:
        return events.none()
    activity_ids = list(
        Activity.objects.filter(name__in=WRITE_BACK_ACTIVITIES).values_list("pk", flat=True)
    )
    return events.filter(initiator__in=initiator_ids).filter(
        Q(operation_type__in=WRITE_BACK_OPERATIONS)
        | Q(operation_type="", activity__in=activity_ids)
    )


def already_annotated():
    return Annotation.objects.filter(
        event=OuterRef("pk"), kind=Annotation.Kind.INFORMATIONAL, text=SUBSTRATE_NOTE
    )


def annotate_substrate(events=None, *, source: str, dry_run: bool = False) -> AnnotationCounts:
    """Annotate the write-backs among ``events`` that are not annotated yet; returns counts."""
    matches = substrate_write_backs(events)
    counts = AnnotationCounts(matched=matches.count())
    if not counts.matched:
        return counts
    pending = matches.exclude(Exists(already_annotated())).order_by().values_list("pk", flat=True)
    if dry_run:
        counts.already = counts.matched - pending.count()
        return counts
    with transaction.atomic():
        ids = list(pending)
        counts.already = counts.matched - len(ids)
        for start in range(0, len(ids), BATCH_SIZE):
            Annotation.objects.bulk_create(
                Annotation(
                    event_id=event_id,
                    kind=Annotation.Kind.INFORMATIONAL,
                    text=SUBSTRATE_NOTE,
                    source=source,
                )
                for event_id in ids[start : start + BATCH_SIZE]
            )
        counts.annotated = len(ids)
    return counts
