"""A NUL character in a request header is written out as the four characters ``\\x00`` before
anything reads the header, as the access trail already writes it.

HTTP forbids NUL in a header's value (RFC 9110, section 5.5) and gunicorn refuses such a request
itself, but other servers pass it on. Then the value reached a database query or row: the
session cookie's key, the sign-in lockout's user agent and Accept (django-axes stores both),
and PostgreSQL refuses NUL in text, so each answered 500. Written out here, first, no part of
the portal has to guard against it, and the request is still answered and recorded in the
access trail with what it sent, as a refused query is (the trail's record of a request is
evidence too: a 400 here would leave none).
"""

NUL = "\x00"
WRITTEN_OUT = "\\x00"


class WriteOutNulInHeaders:
    """Replace NUL by ``\\x00`` in every header (and the content type and length, which WSGI
    keeps apart from the other headers)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = request.META
        for name, value in list(meta.items()):
            if _is_header(name) and isinstance(value, str) and NUL in value:
                meta[name] = value.replace(NUL, WRITTEN_OUT)
        return self.get_response(request)


def _is_header(name: str) -> bool:
    return name.startswith("HTTP_") or name in ("CONTENT_TYPE", "CONTENT_LENGTH")
