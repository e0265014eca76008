"""Insights tests reuse the API's signed-in Audit Reader and the six real-format sample events."""

from tests.api.conftest import api, reader, six_events  # noqa: F401
