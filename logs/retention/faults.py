"""A way to stop a retention run at a chosen step, to prove that a run killed there is safe.

``AUDITPORTAL_RETENTION_HALT_AT=STEP:N`` makes the N-th passage through ``STEP`` ("written":
an archive file is on disk but not yet in the manifest; "archived": it is in the manifest,
none of its events deleted; "deleted": a delete batch committed) print a line to standard
error and wait there, so the crash tests can kill the process at exactly that point. Unset, it
costs one dictionary lookup per step.
"""

import os
import sys
import time

HALT_VARIABLE = "AUDITPORTAL_RETENTION_HALT_AT"
_passages: dict[str, int] = {}


def halt_point(step: str) -> None:
    wanted = os.environ.get(HALT_VARIABLE)
    if not wanted:
        return
    name, _, count = wanted.partition(":")
    if name != step:
        return
    _passages[step] = _passages.get(step, 0) + 1
    if _passages[step] == int(count or 1):
        print(f"retention halted at {step}:{_passages[step]}", file=sys.stderr, flush=True)
        while True:
            time.sleep(60)
