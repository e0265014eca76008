"""Insights: the compliance questions auditors ask, answered once for the admin, the API and the
command.

For a period (default: the 30 days up to now), optionally one service and optionally without
informational events (Microsoft Substrate Management write-backs, see logs.annotations):

- Users: the changes applied to users, per activity; how many distinct users were changed; how
  many passwords were changed or reset (admin and self-service).
- Groups: the groups added; the owner changes (group, owner, added or removed); the licences
  assigned to groups and users.
- Applications: the applications added, updated or removed; the service principals changed; the
  applications renamed (old name → new name).

How each answer reads real Entra records (activity names and services from Microsoft's "Microsoft
Entra audit log activity reference"; target types and modified-property names as real records
write them, see fixtures/ and logs.activity_catalogue):

- user changes: ``USER_ACTIVITIES`` (Core Directory and Self-service Password Management,
  category UserManagement), counted per activity;
- distinct users: the same events' targets of type ``User``, distinct object id;
- password changes: ``PASSWORD_ACTIVITIES``, per activity; failures counted apart;
- groups added: "Add group", the ``Group`` target;
- owner changes: "Add owner to group" (added), "Remove owner from group" (removed); the owner is
  the first target (User or ServicePrincipal), the group the ``Group.DisplayName`` and
  ``Group.ObjectID`` modified properties, else the ``Group`` target;
- licences: "Change user license" (users), "Set group license" (groups); the
  ``AssignedLicense`` modified property holds ``[SkuName=..., SkuId=...]`` entries: those in the
  new value and not the old are assigned, the reverse removed;
- applications: ``APPLICATION_ACTIVITIES``, per activity, and the ``Application`` targets;
- service principals: ``SERVICE_PRINCIPAL_ACTIVITIES``, per activity, and the
  ``ServicePrincipal`` targets;
- renames: "Update application" events whose ``Application`` target's ``DisplayName`` modified
  property has an old value different from the new (values are JSON in strings:
  ``["Payroll Sync"]`` → ``["Payroll Connector"]``).

Only applied changes count (result ``success``): a failed attempt changed nothing. Failed
password changes are reported beside the count, as auditors ask about them.

Every answer carries ``changelist_url`` (the portal's changelist filtered to exactly the events
counted: the shared FilterSet's parameters, ``activity`` repeated when an answer spans several)
and ``api_url`` (the same filters on ``/api/v1/events/``); listed items link to their event.
Renames are a property of some "Update application" events, which no filter selects, so each
rename links to its event.

Performance: four queries answer everything: counts per (day, category, activity, result),
from which most answers and every chart are read; the targets of the users', applications' and
service principals' events, grouped per object; the licence and display-name properties of the
licence and application-update events; and the newest events the group answers list (at most
``ITEM_LIMIT`` each). None reads an event's row (a kilobyte or more, with the original record)
for a whole period's events. The counts come from an index on the events: on SQLite, which
keeps no statistics and aggregates by sorting, ``event_day_counts_idx`` holds each event's day,
category, activity, result, date and service in the order the counts need (migration 0010); on
PostgreSQL ``event_date_idx`` includes them and the groups are hashed. The targets and
properties come from the copies of the event's date, activity, result and service that each
target carries (migration 0011; events never change, so the copies cannot go stale), through
``target_activity_date_idx``: a month's targets are read as ranges of one index, none joined
to its event (``python -m benchmarks --metric insights`` measures it).

The modules: ``questions`` names the activities and properties each answer reads, ``answers``
holds the period and the answers (``Period``, ``Answer``, ``Report``), ``builder`` asks the
database (``compliance_report``), ``charts`` reads the chart figures from its counts, ``days``
the UTC days in SQL and Python, ``links`` the links to the counted events, and ``forms`` the
checked parameters the page, the API and the ``insights`` command take.
"""
