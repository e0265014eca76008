"""The registry of input formats: name → parser, and the record layouts each one reads."""

from logs.ingest import graph, ndjson

PARSERS = {
    graph.NAME: graph.parse,
    ndjson.NAME: ndjson.parse,
}

LAYOUTS = {
    graph.NAME: set(graph.PREFIXES),
    ndjson.NAME: {"lines"},
}

FORMAT_NAMES = sorted(PARSERS)


def accepts_layout(format_name: str, layout: str) -> bool:
    return layout in LAYOUTS[format_name]
