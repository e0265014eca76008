"""Fewer garbage collections while a large import runs.

An import allocates millions of short-lived containers (records, rows, tuples), so CPython's
cyclic collector runs thousands of times, and each full collection walks every object Django
has loaded as well. All of it holds the GIL, which the thread inserting rows needs between
rows, so collections slow the whole import down (benchmark metric ``ingest``); the settings
below roughly halve the time spent collecting.

Almost all of it is freed by reference counting anyway; the collector still runs, only less
often, so whatever forms a cycle is still collected, a little later.
"""

import contextlib
import gc

# Allocations between young collections, and collections between older ones, while importing
# (CPython's defaults: 700, 10, 10). A young generation of 20,000 objects holds a few
# megabytes at most, so collecting it less often costs little memory.
IMPORT_THRESHOLDS = (20_000, 50, 100)


@contextlib.contextmanager
def fewer_collections():
    """Collect less often inside the block, and never walk the objects that existed before it.

    ``gc.freeze()`` sets everything already alive (modules, Django's registries, settings) aside
    until the block ends, so the collections that do run only visit what the import made.
    """
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*IMPORT_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()
