"""The OpenAPI schema's error answers, documented for every operation.

drf-spectacular documents the answers a view declares; the errors every endpoint can give
(a refused parameter, no or a wrong token, a missing permission, an unknown id, the rate)
come from DRF itself, so they are added here, in the shapes DRF writes them.
"""

DETAIL = {"$ref": "#/components/schemas/ErrorDetail"}
PARAMETER_ERRORS = {"$ref": "#/components/schemas/ParameterErrors"}
ERROR_SCHEMAS = {
    "ErrorDetail": {
        "type": "object",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    "ParameterErrors": {
        "type": "object",
        "description": "A message list per refused parameter, e.g. "
        '{"categroy": ["Unknown parameter. Known: ..."]}.',
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
    },
}
ERRORS = {
    "400": ("A parameter was refused: unknown, repeated or a value it cannot read.", None),
    "401": ("No valid token or session.", DETAIL),
    "403": ("Signed in, without the permission this endpoint needs.", DETAIL),
    "404": ("No such object.", DETAIL),
    "429": ("Over the request rate; retry after the seconds in Retry-After.", DETAIL),
}


def document_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: add the error answers an operation lacks."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(ERROR_SCHEMAS)
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, (description, schema) in ERRORS.items():
                if code == "404" and "{" not in path:
                    continue
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": schema or PARAMETER_ERRORS}},
                    },
                )
    return result


EVENTS_PATH = "/api/v1/events/"
GRAPH_RECORDS = {
    "type": "array",
    "description": "format=json: the whole filtered list as directoryAudit records as "
    "Microsoft Graph (beta) serves them, the objects /graph/beta/auditLogs/directoryAudits "
    "serves.",
    "items": {"type": "object"},
}


def document_json_export(result, generator, request, public):
    """drf-spectacular postprocessing hook: the event list answers ``application/json`` in two
    shapes, a page (no ``format``) or the JSON export (``format=json``); a view can declare
    only one body per content type, so the second is added here."""
    operation = result.get("paths", {}).get(EVENTS_PATH, {}).get("get")
    if operation is None:
        return result
    content = operation["responses"]["200"]["content"]["application/json"]
    content["schema"] = {"oneOf": [content["schema"], GRAPH_RECORDS]}
    return result
