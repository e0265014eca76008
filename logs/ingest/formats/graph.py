"""Format ``graph``: Microsoft Graph ``GET /auditLogs/directoryAudits`` responses.

A file is one page (``{"@odata.context": ..., "value": [...], "@odata.nextLink": ...}``; paged
downloads are several such files), a bare list of records, or one record.
"""

from logs.ingest.graph_shape import normalize_graph_record
from logs.ingest.json_stream import iter_json_items, record_or_error

NAME = "graph"

# The ijson prefix of the records for each layout that detection reports.
PREFIXES = {"envelope": "value.item", "list": "item", "object": ""}


def parse(input_file, layout: str):
    for location, item in iter_json_items(input_file, PREFIXES[layout]):
        yield record_or_error(input_file, location, item, normalize_graph_record)
