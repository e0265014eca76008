"""Continuous collection of Entra audit logs: from Microsoft Graph, from a Graph-compatible
endpoint (another auditportal), or from the storage account a diagnostic setting archives to.

Every page or blob chunk is stored in one transaction with the position it brings the source to
(a Graph watermark, a blob's byte offset), through the same parser and loader as an import, so a
collector stopped at any moment, killed included, resumes without a gap and without a duplicate.
"""
