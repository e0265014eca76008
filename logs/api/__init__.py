"""The read-only REST API (``/api/v1/``): serializers, pagination, permissions, views, URLs."""
