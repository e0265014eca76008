"""ASGI entry point for async-capable servers."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "auditportal.settings")
application = get_asgi_application()
