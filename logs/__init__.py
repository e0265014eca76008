"""The audit-log app: storage, import, browsing and compliance answers for Entra audit events."""
