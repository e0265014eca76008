"""Which database answers a query: the primary, or a read replica for read-only work.

With ``DATABASE_REPLICA_URL`` set, settings add a second database, ``replica`` (a PostgreSQL
streaming replica of the primary), and install ``ReadReplicaRouter``. A replica lags the
primary by a moment, so a read that follows a write in the same piece of work must not go to it:
an import reads to deduplicate and then writes, retention archives and then purges, the integrity
chain reads its head and then appends, a user saves a column choice and then sees the
changelist. Hence only work marked read-only with ``read_only_queries`` reads from the
replica (the changelist and detail pages, Insights, the API's GET endpoints, exports and the
``insights`` command), and only the audit-log models (events and what they are made of, lookups,
annotations, import batches). Sessions, users, permissions, tokens, the access trail and column
preferences are read where they are written, on the primary, even inside read-only work. Every
write goes to the primary.

Without a ``replica`` database the router leaves every read to the default, so it changes
nothing; settings do not even install it then.
"""

import contextvars
from contextlib import contextmanager
from functools import wraps

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.template.response import SimpleTemplateResponse

REPLICA = "replica"

AUDIT_LOG_MODELS = frozenset(
    {
        "logs.auditevent",
        "logs.target",
        "logs.modifiedproperty",
        "logs.service",
        "logs.category",
        "logs.activity",
        "logs.initiator",
        "logs.targetname",
        "logs.detailslist",
        "logs.useragent",
        "logs.annotation",
        "logs.importbatch",
    }
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# A context variable rather than a thread-local: it follows the request into asynchronous code,
# and a value set for one request is never seen by another served on the same thread.
_read_only = contextvars.ContextVar("auditportal_read_only_queries", default=False)


@contextmanager
def read_only_queries():
    """Marks the work inside as read-only: its audit-log reads may be answered by the replica
    (a moment behind the primary). Usable as a decorator."""
    token = _read_only.set(True)
    try:
        yield
    finally:
        _read_only.reset(token)


def read_only_view(view):
    """Runs a view's GET and HEAD requests as read-only work, rendering a template response
    before leaving it: a TemplateResponse (the admin's pages, DRF's Response) runs its lazy
    querysets when it is rendered, after the view has returned. A streamed export runs after the
    view too; ``logs.exports.web`` marks its reading read-only itself."""

    @wraps(view)
    def read_only(request, *args, **kwargs):
        if request.method not in SAFE_METHODS:
            return view(request, *args, **kwargs)
        with read_only_queries():
            response = view(request, *args, **kwargs)
            if isinstance(response, SimpleTemplateResponse):
                response.render()
        return response

    return read_only


class ReadReplicaRouter:
    """Audit-log reads of read-only work to the replica; everything else to the primary.

    Reads outside read-only work are sent to the primary explicitly rather than left to Django,
    whose default would follow the instance a query starts from: an event loaded from the
    replica would otherwise take its related reads there after its read-only work has ended.
    """

    def db_for_read(self, model, **hints):
        if (
            _read_only.get()
            and model._meta.label_lower in AUDIT_LOG_MODELS
            and REPLICA in settings.DATABASES
        ):
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # The replica holds the same rows: an event read there may point at a user read here.
        databases = {DEFAULT_DB_ALIAS, REPLICA}
        return obj1._state.db in databases and obj2._state.db in databases

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica follows the primary's schema by replication.
        return db == DEFAULT_DB_ALIAS
