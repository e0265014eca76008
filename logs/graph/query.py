"""The query options of a directoryAudits request, checked: a misspelt or unsupported option
is refused, never ignored (ignoring a filter would return the wrong evidence with a 200)."""

from dataclasses import dataclass

from logs.graph.errors import bad_request, unsupported
from logs.graph.odata import filter_clauses
from logs.graph.pagination import decode_skiptoken

# $top: how many records a page holds when the client does not say, and at most. Graph's own
# maximum for directoryAudits is 1,000; the default is the REST API's page.
DEFAULT_TOP = 100
MAX_TOP = 1000

SUPPORTED = ("$filter", "$top", "$orderby", "$skiptoken")
# OData options Graph knows that this endpoint does not offer.
NOT_OFFERED = ("$select", "$expand", "$count", "$search", "$skip", "$format", "$apply")


@dataclass(frozen=True)
class DirectoryAuditQuery:
    clauses: list[dict[str, str]]
    top: int
    oldest_first: bool
    position: tuple | None  # the (date, id) after which the page starts


def options(query_params) -> dict[str, str]:
    """The options by their canonical name. As in Graph, a name may be written in any case
    and without its ``$``; each may be given once."""
    found: dict[str, str] = {}
    for name, values in query_params.lists():
        canonical = "$" + name.lower().removeprefix("$")
        if canonical in NOT_OFFERED:
            raise unsupported(
                f"The query option {name} is not supported here. Supported: {', '.join(SUPPORTED)}."
            )
        if canonical not in SUPPORTED:
            raise bad_request(f"Unknown query option {name!r}. Supported: {', '.join(SUPPORTED)}.")
        if canonical in found or len(values) > 1:
            raise bad_request(f"The query option {canonical} is given more than once.")
        if any("\x00" in value for value in values):
            raise bad_request(f"The query option {canonical} holds a null character.")
        found[canonical] = values[0]
    return found


def parse_query(query_params) -> DirectoryAuditQuery:
    given = options(query_params)
    oldest_first = _oldest_first(given.get("$orderby"))
    token = given.get("$skiptoken")
    return DirectoryAuditQuery(
        clauses=filter_clauses(given["$filter"]) if "$filter" in given else [],
        top=_top(given.get("$top")),
        oldest_first=oldest_first,
        position=None if token is None else decode_skiptoken(token, oldest_first),
    )


def _top(value: str | None) -> int:
    if value is None:
        return DEFAULT_TOP
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_TOP:
        raise bad_request(
            f"Invalid page size specified: {value[:40]!r}. Must be between 1 and {MAX_TOP} "
            "inclusive."
        )
    return int(text)


def _oldest_first(value: str | None) -> bool:
    """``$orderby=activityDateTime`` [``asc``|``desc``]; newest first without one, as Graph."""
    if value is None:
        return False
    words = value.split()
    if words and words[0].lower() == "activitydatetime" and len(words) <= 2:
        direction = words[1].lower() if len(words) == 2 else "asc"
        if direction in ("asc", "desc"):
            return direction == "asc"
    raise unsupported(
        f"$orderby {value[:80]!r} is not supported: only activityDateTime asc or "
        "activityDateTime desc."
    )
