"""Run the collection of one source: open its run, read it, close the run whatever happens."""

import threading
from datetime import datetime

from logs.collection.runs import CollectionRun, RunResult
from logs.collection.sources import SourceConfigError
from logs.models import CollectionSource

FORMATS = {
    CollectionSource.Kind.ENTRA: "graph",
    CollectionSource.Kind.GRAPH: "graph",
    CollectionSource.Kind.STORAGE: "azure-monitor",
}


def collect_source(
    source: CollectionSource,
    *,
    since: datetime | None = None,
    username: str = "",
    stop: threading.Event | None = None,
    token_provider=None,
    on_stored=None,
) -> RunResult:
    """One run of ``source``; never raises for a source that fails (the result says why), only
    for an interruption from outside (Ctrl-C), once the run is recorded."""
    from logs.collection.graph_source import Stopped, collect_graph
    from logs.collection.storage_source import collect_storage

    stop = stop or threading.Event()
    run = CollectionRun(source, source_format=FORMATS[source.kind], username=username)
    run.on_stored = on_stored
    try:
        if source.kind == CollectionSource.Kind.STORAGE:
            collect_storage(source, run, since=since, stop=stop)
        else:
            collect_graph(source, run, since=since, token_provider=token_provider, stop=stop)
    except Stopped:
        pass  # asked to stop while waiting: what was stored is committed, nothing is lost
    except SourceConfigError as error:
        run.result.errors.append(str(error))
    except BaseException as error:
        run.fail(error)
        if not isinstance(error, Exception):
            run.finish()
            raise
    return run.finish()
