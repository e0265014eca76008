"""The portal: the Django admin, customised into a read-only audit-log browser."""

from django.contrib import admin

from logs.admin.access_trail import AccessRecordAdmin
from logs.admin.collection import CollectionSourceAdmin
from logs.admin.events import AuditEventAdmin
from logs.admin.holds import LegalHoldAdmin
from logs.admin.imports import ImportBatchAdmin
from logs.admin.tokens import ApiTokenAdmin, AuthToken
from logs.models import AccessRecord, AuditEvent, CollectionSource, ImportBatch, LegalHold

admin.site.site_header = "auditportal"
admin.site.site_title = "auditportal"
admin.site.index_title = "Entra ID audit logs"
# Django's "View site" leads to the site's front page; the portal is the admin, and has none.
admin.site.site_url = None
# The changelist needs the width for its columns more than a second navigation menu.
admin.site.enable_nav_sidebar = False
# The index warns when the audit log's digests are not signed (tamper evidence off).
admin.site.index_template = "admin/logs/index.html"

admin.site.register(AuditEvent, AuditEventAdmin)
admin.site.register(ImportBatch, ImportBatchAdmin)
admin.site.register(AccessRecord, AccessRecordAdmin)
admin.site.register(LegalHold, LegalHoldAdmin)
admin.site.register(CollectionSource, CollectionSourceAdmin)
# knox registers an admin of its own that shows the digest; this one replaces it.
if admin.site.is_registered(AuthToken):
    admin.site.unregister(AuthToken)
admin.site.register(AuthToken, ApiTokenAdmin)
