"""A NUL in any request header is written out as ``\\x00`` before a session, the sign-in
lockout or an API token reads it (logs/malformed_headers.py). Before, PostgreSQL refused the
NUL in the query or row each made (the session key of a cookie, the lockout's user agent and
Accept): 500."""

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory, override_settings
from hypothesis import example, given
from hypothesis import strategies as st

from logs.malformed_headers import WriteOutNulInHeaders
from logs.models import AccessRecord
from tests.support import DATABASE_EXAMPLES, EVENTS_URL

pytestmark = pytest.mark.django_db

LOGIN_URL = "/admin/login/"
HEADERS = ["HTTP_USER_AGENT", "HTTP_ACCEPT", "HTTP_COOKIE", "HTTP_AUTHORIZATION", "HTTP_X_ANY"]
# Header text around the NUL: Latin-1 without line breaks, as a header can carry.
AROUND = st.text(alphabet=st.characters(max_codepoint=0xFF, blacklist_characters="\r\n\x00"))


def sign_in(**headers):
    return Client(**headers).post(LOGIN_URL, {"username": "nobody", "password": "wrong"})


@pytest.fixture
def lockout():
    """The lockout on, as in production (the suite runs with it off)."""
    with override_settings(AXES_ENABLED=True):
        yield


@pytest.mark.usefixtures("lockout")
@DATABASE_EXAMPLES
@example(header="HTTP_USER_AGENT", before="Moz", after="illa")
@example(header="HTTP_ACCEPT", before="text/html", after="")
@example(header="HTTP_COOKIE", before="sessionid=abcdefgh", after="ijkl")
@given(header=st.sampled_from(HEADERS), before=AROUND, after=AROUND)
def test_a_nul_in_any_header_is_answered_as_without_it(header, before, after):
    value = f"{before}\x00{after}"
    # The sign-in form again, with its error (or the lockout's refusal once a drawn case has
    # failed five times); the API refuses (no token, or an Accept it cannot meet).
    assert sign_in(**{header: value}).status_code in (200, 429)
    assert 400 <= Client(**{header: value}).get(EVENTS_URL).status_code < 500


def test_a_nul_in_the_content_type_is_written_out():
    # Not in HEADERS: the test client's post() sets the content type itself.
    assert Client(CONTENT_TYPE="text/plain\x00").get(EVENTS_URL).status_code == 401


@pytest.mark.usefixtures("lockout")
def test_the_failed_sign_in_is_recorded_with_the_nul_written_out():
    assert sign_in(HTTP_USER_AGENT="Moz\x00illa").status_code == 200
    [record] = AccessRecord.objects.filter(action=AccessRecord.Action.SIGN_IN_FAILED)
    assert record.user_agent == "Moz\\x00illa"


@pytest.mark.usefixtures("lockout")
def test_the_lockout_stores_the_agent_with_the_nul_written_out():
    sign_in(HTTP_USER_AGENT="Moz\x00illa")
    assert AccessAttempt.objects.get().user_agent == "Moz\\x00illa"


def test_only_headers_are_written_out_and_only_where_a_nul_is():
    request = RequestFactory().get(
        "/",
        HTTP_X_ONE="a\x00b\x00",
        HTTP_X_CLEAN="clean",
        CONTENT_TYPE="text/plain\x00",
        CONTENT_LENGTH="1\x00",
    )
    request.META["PATH_INFO_COPY"] = "not\x00a header"
    seen = WriteOutNulInHeaders(lambda request: dict(request.META))(request)
    assert seen["HTTP_X_ONE"] == "a\\x00b\\x00"
    assert seen["HTTP_X_CLEAN"] == "clean"
    assert seen["CONTENT_TYPE"] == "text/plain\\x00"
    assert seen["CONTENT_LENGTH"] == "1\\x00"
    assert seen["PATH_INFO_COPY"] == "not\x00a header"
