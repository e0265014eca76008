"""Format ``portal-json``: the Entra admin center's "Download → JSON" of the audit log.

Microsoft documents one audit-log schema for the admin center and Microsoft Graph, and the
download is a JSON list of those directoryAudit records (no ``value`` envelope), so each item
is normalised exactly like a Graph record.
"""

from logs.ingest.graph_shape import normalize_graph_record
from logs.ingest.json_stream import iter_json_items, record_or_error

NAME = "portal-json"

PREFIXES = {"list": "item", "object": ""}
LAYOUTS = set(PREFIXES)


def parse(input_file, layout: str):
    for location, item in iter_json_items(input_file, PREFIXES[layout]):
        yield record_or_error(input_file, location, item, normalize_graph_record)
