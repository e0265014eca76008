"""API tokens (knox) as the API and the Graph endpoint read them, with a malformed token refused
as any wrong token is: 401.

knox decodes the header's token as UTF-8 and looks up its first characters in the database.
A header is read as Latin-1, so a byte such as 0xE9 made that decoding fail, and a NUL made
PostgreSQL refuse the lookup: both answered 500 to anyone, signed in or not. A token knox
makes is hexadecimal text, so one that is not ASCII, or holds a NUL, cannot be one and is
refused here, before decoding or any query.
"""

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's token authentication, refusing a token that no token could be (see above)."""

    def authenticate_credentials(self, token: bytes):
        if not token.isascii() or b"\x00" in token:
            raise exceptions.AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(token)


class TokenScheme(KnoxTokenScheme):
    """The OpenAPI schema describes these tokens as knox's: drf-spectacular finds a scheme by
    the authentication's exact class, and defining this subclass registers it."""

    target_class = "logs.api.token_authentication.TokenAuthentication"
