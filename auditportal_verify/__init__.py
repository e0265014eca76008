"""Offline verification of an auditportal export against its signed digests.

An auditor runs it without the portal, its database or Django (standard library plus
``cryptography``)::

    python -m auditportal_verify EXPORT DIGEST_DIR --public-key KEY

``EXPORT`` is ``export_audit_logs --format chain`` output: one event a line, with its position
in the hash chain, its link and the fields the link covers. ``DIGEST_DIR`` holds the digest
files the portal wrote outside its database (``AUDITPORTAL_DIGEST_DIR``, or a copy of the
Azure Storage container). ``KEY`` is the public half of the portal's signing key.

The portal's own ``verify_audit_log`` uses the same checks (``digests`` and ``chain``), so the
two report the same findings on the same evidence.
"""
