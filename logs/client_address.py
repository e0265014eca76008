"""The client's address: what the sign-in lockout counts and the access trail records, from one
function so that the two always agree (the API's rate limits follow the same rule through
REST framework's ``NUM_PROXIES``).

Without a reverse proxy (the default) it is the connection's address, ``REMOTE_ADDR``; an
X-Forwarded-For header is then whatever the client chose to send and is ignored.

Behind ``AUDITPORTAL_PROXY_COUNT`` reverse proxies (``AUDITPORTAL_BEHIND_PROXY``) every request
comes from the nearest proxy, so ``REMOTE_ADDR`` names the proxy, not the client. Each proxy
appends the address it received the request from to X-Forwarded-For, so the entry that many
places from the right is the address the outermost proxy saw: the client. Entries further left
were sent by the client and prove nothing. A header with fewer entries, or a malformed one,
means the request did not come through the proxies: ``REMOTE_ADDR`` then.

django-ipware (which django-axes can use) is not used for this: its best-match ranking prefers
a publicly routable address, so with a public proxy and clients on a private network it answers
the proxy's address, and every client would share one lockout count.
"""

import ipaddress

from django.conf import settings


def client_address(request) -> str | None:
    """The client's IP address as text (IPv6 compressed), or None when there is none valid."""
    meta = request.META
    proxies = getattr(settings, "AUDITPORTAL_PROXY_COUNT", 0)
    if proxies:
        hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(hops) >= proxies:
            forwarded = _ip_address(hops[-proxies])
            if forwarded is not None:
                return forwarded
    return _ip_address(meta.get("REMOTE_ADDR"))


def _ip_address(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None
