"""Pages by opaque keyset skiptokens, never by offset.

A skiptoken holds the (date, id) of the last event of the page before and the order it was
cut in; the next page is "events strictly after that key", read from the (date, id) index, so
a page a million events deep costs what the first does, and events imported meanwhile never
shift a page (each event of the walk is served once). A page is cut with one event more than
asked for: a ``@odata.nextLink`` is given only when that event exists, so a page with a
nextLink is never followed by an empty one (the msgraph-sdk's PageIterator would stop there).
"""

import base64
import binascii
import json
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from logs.exports.selection import keyset_after
from logs.graph.errors import bad_request

SKIPTOKEN = "$skiptoken"
INVALID = "Invalid $skiptoken: use the @odata.nextLink of a response, unchanged."
# Characters a nextLink leaves as they are, so that it reads like Graph's own
# ("?$filter=activityDateTime ge ...&$skiptoken=...", spaces as %20).
URL_SAFE = "$'(),/:@"


def encode_skiptoken(moment: datetime, pk: int, oldest_first: bool) -> str:
    payload = {
        "d": moment.astimezone(UTC).isoformat(),
        "i": pk,
        "o": "asc" if oldest_first else "desc",
    }
    text = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


def decode_skiptoken(token: str, oldest_first: bool) -> tuple[datetime, int]:
    """The key a skiptoken holds; refused if it is not one of ours or was cut in the other
    order (a nextLink keeps its $orderby)."""
    try:
        padded = token + "=" * (-len(token) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        moment = datetime.fromisoformat(payload["d"])
        pk = payload["i"]
        order = payload["o"]
        if moment.tzinfo is None or type(pk) is not int or not 0 < pk < 2**63:
            raise ValueError("incomplete key")
        # A key the database can compare: in UTC (year 1 at +05:00 has no UTC equivalent).
        moment = moment.astimezone(UTC)
    except (
        ValueError,
        TypeError,
        KeyError,
        UnicodeError,
        OverflowError,
        binascii.Error,
        RecursionError,  # a token is the client's text: it may nest as deep as it likes
    ) as error:
        raise bad_request(INVALID) from error
    if order != ("asc" if oldest_first else "desc"):
        raise bad_request(f"{INVALID} It was cut for the other $orderby.")
    return moment, pk


def ordered(queryset, oldest_first: bool):
    if oldest_first:
        return queryset.order_by("activity_datetime", "id")
    return queryset.order_by("-activity_datetime", "-id")


def after(queryset, key: tuple[datetime, int] | None, oldest_first: bool):
    """``queryset`` from just after ``key`` on (all of it without one)."""
    return queryset if key is None else queryset.filter(keyset_after(key, oldest_first))


def next_link(list_url: str, query_params, last: tuple, oldest_first: bool) -> str:
    """The absolute URL of the page after ``last``, the (date, id) of a page's last event: the
    request's own query options, in their order, with the skiptoken for it."""
    token = encode_skiptoken(*last, oldest_first)
    params = [
        (name, value)
        for name, values in query_params.lists()
        if name.lower().removeprefix("$") != "skiptoken"
        for value in values
    ]
    params.append((SKIPTOKEN, token))
    return f"{list_url}?{urlencode(params, quote_via=quote, safe=URL_SAFE)}"
