"""Whatever an ``Authorization`` header holds, the API and the Graph endpoint refuse a token
that is not one with 401, never a server error.

A header reaches Django as Latin-1 text. knox decoded the token as UTF-8, so a byte such as
0xE9 made every API endpoint answer 500 to anyone; a NUL made PostgreSQL refuse knox's lookup,
500 again (logs/api/token_authentication.py).
"""

import pytest
from django.test import Client
from hypothesis import example, given
from hypothesis import strategies as st
from knox.models import AuthToken

from tests.support import DATABASE_EXAMPLES, EVENTS_URL

pytestmark = pytest.mark.django_db

GRAPH_URL = "/graph/v1.0/auditLogs/directoryAudits"
# Each endpoint with the scheme its clients send, and how it is asked.
ENDPOINTS = [
    ("get", EVENTS_URL, "Token"),
    ("get", "/api/v1/insights/", "Token"),
    ("post", "/api/v1/ingest/", "Token"),
    ("get", GRAPH_URL, "Bearer"),
    ("get", f"{GRAPH_URL}/1", "Bearer"),
]

# Any text a header can carry: every Latin-1 character but the line breaks that end it, and no
# space (a space splits the scheme from the token; knox refuses a token with one in it).
HEADER_TOKENS = st.text(
    alphabet=st.characters(max_codepoint=0xFF, blacklist_characters="\r\n "), min_size=1
)


def ask(method: str, url: str, authorization: str):
    client = Client(HTTP_AUTHORIZATION=authorization)
    if method == "post":
        return client.post(url, b"[]", content_type="application/json")
    return client.get(url)


@pytest.mark.parametrize(("method", "url", "scheme"), ENDPOINTS)
@DATABASE_EXAMPLES
@example(token="\xe9\xffabcdefghijklmnop")
@example(token="abc\x00defghijklmnopqrstuvwxyz")
@example(token="\x00")
@given(token=HEADER_TOKENS)
def test_a_token_that_is_not_one_is_refused_with_401(method, url, scheme, token):
    assert ask(method, url, f"{scheme} {token}").status_code == 401


@pytest.mark.parametrize(("method", "url", "scheme"), ENDPOINTS)
@pytest.mark.parametrize("tail", ["\xe9", "\x00", "\x7f"])
def test_a_real_token_with_a_foreign_character_added_is_refused(
    django_user_model, method, url, scheme, tail
):
    user = django_user_model.objects.create_superuser("admin")
    token = AuthToken.objects.create(user)[1]
    assert ask(method, url, f"{scheme} {token}").status_code != 401  # the token itself works
    assert ask(method, url, f"{scheme} {token}{tail}").status_code == 401
