"""Settings for the test suite: the real settings, with a throwaway key and a fast hasher.

DATABASE_URL still chooses the database, so the same suite runs on SQLite and PostgreSQL.
The suite runs with DEBUG off, as production does, but over plain http (the test client and
the browser tests' live server), so the HTTPS redirect is off. API rates are high enough that
no ordinary test meets them (the throttling tests set their own), and the sign-in lockout is
off: django-axes needs the request that ``client.login()`` does not pass (its lockout test
turns it on).
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-" + "x1y2z3" * 6)
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
for scope in ("ANON", "USER", "INGEST"):
    os.environ.setdefault(f"AUDITPORTAL_THROTTLE_{scope}", "100000/minute")

from auditportal.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AXES_ENABLED = False

# The read replica as a test mirror of the default database: the same database under the alias
# "replica", so that tests/test_routing.py sees which alias each query went through. The router
# is off (whatever DATABASE_REPLICA_URL says) and the routing tests switch it on: every other
# test keeps to "default" and need not declare the second alias.
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
DATABASE_ROUTERS = []

# Tamper-evidence digests are off unless a test turns them on (tests/digests/conftest.py).
AUDITPORTAL_SIGNING_KEY = ""
AUDITPORTAL_DIGEST_DIR = ""
AUDITPORTAL_DIGEST_URL = ""
