"""Format ``ndjson``: one Graph-shaped record per line, auditportal's own archive/export format."""

from logs.ingest.graph_shape import normalize_graph_record
from logs.ingest.json_stream import iter_json_lines, record_or_error

NAME = "ndjson"


def parse(input_file, layout: str = "lines"):
    for location, item in iter_json_lines(input_file):
        yield record_or_error(input_file, location, item, normalize_graph_record)
