"""A Microsoft Graph-compatible ``auditLogs/directoryAudits`` endpoint over the archive.

``GET /graph/v1.0/auditLogs/directoryAudits`` (and ``/beta/``) answers the requests Entra's own
Graph endpoint answers, for every year the archive holds, so that scripts and tools written
for ``graph.microsoft.com`` (the ``msgraph-sdk``, PowerShell's ``Get-MgAuditLogDirectoryAudit``)
work against auditportal unchanged:

- ``urls``: the routes, mounted at ``/graph/`` (paths compare without regard to case, as
  Graph's do);
- ``views``: the list and the single record, with the API's permission, rates and read
  replica, each request in the access trail;
- ``query``: the query options (``$filter``, ``$top``, ``$orderby``, ``$skiptoken``), checked;
- ``odata``: ``$filter`` parsed by ``odata-query`` and translated, form by form, into the
  shared FilterSet's parameters;
- ``pagination``: opaque keyset skiptokens and ``@odata.nextLink``;
- ``errors``: errors in Graph's form;
- ``auth``: ``Authorization: Bearer <token>`` with the API's tokens.

The records themselves come from ``logs.exports.graph_records.directory_audit``, the function
JSON exports use too.
"""
