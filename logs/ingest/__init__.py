"""Import of Entra audit logs: sources are opened and sniffed (``sources``, ``detect``), parsed by
one module per format (``formats``) into one normalised shape (``records``), and stored in batches
(``loader``) under one import run per file (``importer``)."""
