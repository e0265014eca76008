"""Each event's verbatim original, stored compressed and read back as the exact same text.

The original is the evidence: the hash chain covers its text, the exports and the Graph endpoint
serve it, and it is the largest thing stored per event. It is kept as zstandard frames made with
a dictionary trained on audit records, so each record (a kilobyte or so, too small to compress
well on its own) shares the keys and values every record repeats.

- :mod:`logs.originals.codec`: the stored form (a tag byte, the dictionary's id, the frame) and
  nothing else; no database.
- :mod:`logs.originals.dictionaries`: the dictionaries stored in the database, which one writes,
  and a cache of them per database for reading.
- :mod:`logs.originals.field`: the model field that packs on write and unpacks on read, so that
  ``AuditEvent.original`` stays a ``str`` everywhere the ORM reads it.

Raw SQL that reads the column calls :func:`logs.originals.dictionaries.original_text`.
"""
