"""auditportal: the Django project (settings, URLs, WSGI/ASGI)."""
