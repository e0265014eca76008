"""The API's signed-in Audit Reader (tests/api/conftest.py), for the filter tests here."""

from tests.api.conftest import api, reader  # noqa: F401 - fixtures
