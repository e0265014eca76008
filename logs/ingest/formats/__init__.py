"""The input formats, one module each, and their registry: name → parser, and the record
layouts each one reads."""

from logs.ingest.formats import (
    azure_monitor,
    graph,
    log_analytics,
    ndjson,
    portal_csv,
    portal_json,
)

PARSERS = {
    graph.NAME: graph.parse,
    portal_json.NAME: portal_json.parse,
    portal_csv.NAME: portal_csv.parse,
    azure_monitor.NAME: azure_monitor.parse,
    log_analytics.NAME: log_analytics.parse,
    ndjson.NAME: ndjson.parse,
}

LAYOUTS = {
    graph.NAME: set(graph.PREFIXES),
    portal_json.NAME: portal_json.LAYOUTS,
    portal_csv.NAME: portal_csv.LAYOUTS,
    azure_monitor.NAME: azure_monitor.LAYOUTS,
    log_analytics.NAME: log_analytics.LAYOUTS,
    ndjson.NAME: {"lines"},
}

FORMAT_NAMES = sorted(PARSERS)


def accepts_layout(format_name: str, layout: str) -> bool:
    return layout in LAYOUTS[format_name]
