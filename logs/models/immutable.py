"""A base for models whose stored rows must never change: audit evidence."""

from django.db import models

from logs.immutability import ImmutableRecordError, purge_is_active


class ImmutableQuerySet(models.QuerySet):
    """Refuses bulk changes; deletes only inside :func:`logs.immutability.retention_purge`."""

    def update(self, **kwargs):
        raise ImmutableRecordError(self.model.__name__, "update()")

    def bulk_update(self, objs, fields, batch_size=None):
        raise ImmutableRecordError(self.model.__name__, "bulk_update()")

    def update_or_create(self, defaults=None, create_defaults=None, **kwargs):
        raise ImmutableRecordError(self.model.__name__, "update_or_create()")

    def delete(self):
        if not purge_is_active():
            raise ImmutableRecordError(self.model.__name__, "delete()")
        return super().delete()

    delete.alters_data = True
    delete.queryset_only = True


class ImmutableModel(models.Model):
    """Rows are written once; a second save or a delete raises ImmutableRecordError."""

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableRecordError(type(self).__name__, "changing a stored record")
        # A new row is only ever inserted. Without this, a model whose key is set before it is
        # saved (a composite key) would first try an UPDATE, which PostgreSQL's statement
        # triggers refuse even when it matches no row.
        kwargs.setdefault("force_insert", True)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if not purge_is_active():
            raise ImmutableRecordError(type(self).__name__, "delete()")
        return super().delete(*args, **kwargs)
