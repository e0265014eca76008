"""``Authorization: Bearer <token>``, as Graph's clients send it, with the API's tokens."""

from logs.api.token_authentication import TokenAuthentication


class BearerTokenAuthentication(TokenAuthentication):
    """A knox token (an API token made in the admin) given as a bearer token. The answer to a
    request without one names the scheme (``WWW-Authenticate: Bearer``), as Graph's does."""

    def authenticate_header(self, request):
        return "Bearer"
