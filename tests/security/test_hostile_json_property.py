"""Generated hostile JSON thrown at every entry point: the ingest endpoint of a served portal and
``import_audit_logs`` in a process of its own.

Each generated record is broken in one of the ways attackers and careless exports break them:
numbers beyond 64 bits or double precision, nesting past 64 levels, values of the wrong type,
text that is not Unicode or holds NUL, dates no audit log can carry, strings longer than their
field. Whatever is generated, the endpoint answers 4xx (never 5xx, never no answer), the command
exits 1 with one line per file and no traceback (never a signal), nothing is stored, and no
import batch is left running.

Bounded and derandomized, so that CI runs the same examples every time in seconds; set
AUDITPORTAL_HOSTILE_EXAMPLES to throw more.
"""

import copy
import itertools
import json
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from logs.models import ImportBatch
from tests.processes import ProcessDatabase, ServedPortal, ingestion_token, manage
from tests.security.hostile import COMPRESSIONS, compressed
from tests.support import FIXTURES_DIR

pytestmark = pytest.mark.django_db(transaction=True)

ENDPOINT_EXAMPLES = int(os.environ.get("AUDITPORTAL_HOSTILE_EXAMPLES", "50"))
COMMAND_EXAMPLES = max(ENDPOINT_EXAMPLES // 10, 5)  # a process each: about a second
BOUNDED = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)

TEMPLATE = json.loads((FIXTURES_DIR / "graph" / "graph-docs-list-example1.json").read_text())[
    "value"
][0]
SLOT = "@@hostile@@"

# Where in a record a hostile value goes: a path of keys and list positions.
PLACES = [
    ("extension",),
    ("additionalDetails", 0, "value"),
    ("targetResources", 0, "extension"),
    ("targetResources", 0, "modifiedProperties", 0, "newValue"),
    ("initiatedBy", "user", "extension"),
]
STRING_FIELDS = [
    ("id",),
    ("activityDateTime",),
    ("activityDisplayName",),
    ("category",),
    ("loggedByService",),
    ("operationType",),
    ("result",),
    ("resultReason",),
    ("correlationId",),
    ("targetResources", 0, "displayName"),
    ("targetResources", 0, "modifiedProperties", 0, "oldValue"),
    ("initiatedBy", "user", "userPrincipalName"),
    ("additionalDetails", 0, "key"),
]
LIST_FIELDS = [
    ("targetResources",),
    ("additionalDetails",),
    ("targetResources", 0, "modifiedProperties"),
]
OBJECT_FIELDS = [("initiatedBy",), ("initiatedBy", "user"), ("targetResources", 0)]
# Fields with a length limit, and the limit.
LIMITED_FIELDS = [
    (("id",), 256),
    (("activityDisplayName",), 256),
    (("category",), 256),
    (("loggedByService",), 256),
    (("correlationId",), 64),
    (("operationType",), 64),
    (("targetResources", 0, "displayName"), 1024),
    (("targetResources", 0, "type"), 64),
    (("initiatedBy", "user", "userPrincipalName"), 512),
    (("resultReason",), 1_000_000),
]
NOT_DATES = [
    "",
    "yesterday",
    "2024-13-01T00:00:00Z",
    "2024-02-30T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "99999-01-01T00:00:00Z",
    "2024-01-01T25:00:00Z",
    "2024-01-01T00:00:00+24:00",
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59-23:59",
]


def put(record: dict, path: tuple, value) -> dict:
    """``record`` with ``value`` at ``path``, creating what is missing on the way."""
    record = copy.deepcopy(record)
    target = record
    for step, following in itertools.pairwise(path):
        if isinstance(step, int):
            while len(target) <= step:
                target.append({})
            target = target[step]
        else:
            if not isinstance(target.get(step), dict | list):
                target[step] = [] if isinstance(following, int) else {}
            target = target[step]
    last = path[-1]
    if isinstance(last, int):
        while len(target) <= last:
            target.append(None)
    target[last] = value
    return record


def with_raw(record: dict, path: tuple, raw: str) -> str:
    """The record as JSON text, ``raw`` (JSON text) at ``path``."""
    return json.dumps(put(record, path, SLOT)).replace(json.dumps(SLOT), raw)


huge_numbers = st.one_of(
    st.builds(
        lambda sign, first, rest: f"{sign}{first}{rest}",
        st.sampled_from(["", "-"]),
        st.sampled_from("123456789"),
        st.text("0123456789", min_size=19, max_size=6000),
    ),
    st.builds(
        lambda sign, mantissa, exponent: f"{sign}{mantissa}e{exponent}",
        st.sampled_from(["", "-"]),
        st.sampled_from(["1", "9.99", "1.7976931348623159"]),
        st.integers(309, 100_000),
    ),
    st.sampled_from(["NaN", "Infinity", "-Infinity"]),
)


@st.composite
def deep_nesting(draw) -> str:
    depth = draw(st.integers(65, 20_000))
    shape = draw(st.sampled_from(["lists", "objects", "mixed"]))
    if shape == "lists":
        return "[" * depth + "]" * depth
    if shape == "objects":
        return '{"a":' * depth + "1" + "}" * depth
    return '[{"a":' * (depth // 2 + 1) + "1" + "}]" * (depth // 2 + 1)


json_scalars = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
)


@st.composite
def not_unicode_text(draw) -> tuple[tuple, str]:
    """A path and a string holding NUL or a lone surrogate among any other characters; or
    such a string as a key."""
    bad = draw(st.one_of(st.just("\x00"), st.integers(0xD800, 0xDFFF).map(chr)))
    around = st.text(max_size=20)
    text = draw(around) + bad + draw(around)
    if draw(st.booleans()):
        return (text,), "a key that is not Unicode text"
    path = draw(
        st.sampled_from([("activityDisplayName",), *PLACES, ("initiatedBy", "user", "displayName")])
    )
    return path, text


# Fixed for the run: a strategy must draw the same way each time it replays an example.
SOON = (datetime.now(UTC) + timedelta(days=3)).replace(tzinfo=None, minute=0, second=0)


@st.composite
def implausible_date(draw) -> str:
    moment = draw(
        st.one_of(
            st.datetimes(datetime(1, 1, 2), datetime(1999, 12, 29)),
            st.datetimes(SOON, datetime(9999, 12, 30)),
        )
    )
    hours, minutes = draw(st.integers(-23, 23)), draw(st.integers(0, 59))
    offset = draw(
        st.sampled_from(["Z", f"{'+' if hours >= 0 else '-'}{abs(hours):02}:{minutes:02}"])
    )
    return draw(st.one_of(st.just(moment.isoformat() + offset), st.sampled_from(NOT_DATES)))


@st.composite
def hostile_record(draw, entra_id: str) -> str:
    """One record's JSON text, broken in a way no import may store: JSON beyond its limits,
    text that is not Unicode, an implausible date. (A value of the wrong type or too long for
    its column is stored verbatim with a normalisation note instead: tests/ingest.)"""
    record = {**TEMPLATE, "id": entra_id}
    kind = draw(st.sampled_from(["number", "nesting", "unicode", "date"]))
    event(f"broken by {kind}")  # --hypothesis-show-statistics shows how often each is drawn
    if kind == "number":
        return with_raw(record, draw(st.sampled_from(PLACES)), draw(huge_numbers))
    if kind == "nesting":
        return with_raw(record, draw(st.sampled_from(PLACES)), draw(deep_nesting()))
    if kind == "unicode":
        path, value = draw(not_unicode_text())
    else:
        path, value = ("activityDateTime",), draw(implausible_date())
    return json.dumps(put(record, path, value))


@st.composite
def hostile_records(draw) -> list[str]:
    """Records' JSON texts: at least one broken, maybe good ones around it."""
    count = draw(st.integers(1, 3))
    texts = [draw(hostile_record(f"hostile-{number}")) for number in range(count)]
    good = draw(st.integers(0, 2))
    texts += [json.dumps({**TEMPLATE, "id": f"good-{number}"}) for number in range(good)]
    return draw(st.permutations(texts))


def as_graph_page(texts: list[str], envelope: bool) -> str:
    listed = "[" + ",".join(texts) + "]"
    return '{"@odata.context": "x", "value": ' + listed + "}" if envelope else listed


@st.composite
def hostile_bodies(draw) -> bytes:
    texts = draw(hostile_records())
    text = as_graph_page(texts, envelope=draw(st.booleans()))
    return text.encode("utf-8", "surrogatepass")


def assert_nothing_stored(database: ProcessDatabase) -> None:
    assert database.count_events() == 0
    running = "SELECT COUNT(*) FROM logs_importbatch WHERE status = %s"
    assert database.scalar(running, [ImportBatch.Status.RUNNING]) == 0


@pytest.fixture
def portal(django_user_model, tmp_path):
    token = ingestion_token(django_user_model)
    database = ProcessDatabase.of_test_database(tmp_path)
    with ServedPortal(database, tmp_path / "portal.log") as served:
        served.token = token
        yield served


@settings(BOUNDED, max_examples=ENDPOINT_EXAMPLES)
@given(body=hostile_bodies())
def test_the_ingest_endpoint_answers_hostile_json_with_a_4xx(portal, body):
    headers = {"Authorization": f"Token {portal.token}", "Content-Type": "application/json"}
    status, _, answer = portal.post("/api/v1/ingest/", body, headers)

    assert portal.alive(), portal.log()[-3000:]
    assert 400 <= status < 500, (status, answer[:1000], portal.log()[-3000:])
    assert_nothing_stored(portal.database)


@settings(BOUNDED, max_examples=ENDPOINT_EXAMPLES)
@given(body=st.binary(max_size=4000))
def test_the_ingest_endpoint_never_fails_on_arbitrary_bytes(portal, body):
    headers = {"Authorization": f"Token {portal.token}", "Content-Type": "application/json"}
    status, _, answer = portal.post("/api/v1/ingest/", body, headers)

    assert portal.alive(), portal.log()[-3000:]
    assert status < 500, (status, answer[:1000])
    assert_nothing_stored(portal.database)


# Each format's way of holding Graph-shaped records; the hostile ones inside them.
def _graph(texts):
    return as_graph_page(texts, envelope=True)


def _portal_json(texts):
    return as_graph_page(texts, envelope=False)


def _ndjson(texts):
    return "\n".join(texts) + "\n"


def _azure_monitor(texts):
    wrapped = [
        '{"time": "2024-11-09T10:01:19Z", "resourceId": "/tenants/x/providers/Microsoft.aadiam",'
        ' "operationName": "Update user", "category": "AuditLogs", "properties": ' + text + "}"
        for text in texts
    ]
    return '{"records": [' + ",".join(wrapped) + "]}"


LAYOUTS = {
    "graph.json": _graph,
    "portal.json": _portal_json,
    "archive.ndjson": _ndjson,
    "eventhub.json": _azure_monitor,
}


@st.composite
def hostile_files(draw) -> list[tuple[str, bytes]]:
    files = []
    for number in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(sorted(LAYOUTS)))
        data = LAYOUTS[name](draw(hostile_records())).encode("utf-8", "surrogatepass")
        suffix, data = compressed(data, draw(st.sampled_from(COMPRESSIONS)))
        name += suffix
        files.append((f"{number}-{name}", data))
    return files


@pytest.fixture
def command_database(tmp_path):
    return ProcessDatabase.of_test_database(tmp_path)


@settings(BOUNDED, max_examples=COMMAND_EXAMPLES)
@given(files=hostile_files())
def test_the_import_command_refuses_hostile_files_in_one_line_each(command_database, files):
    # A folder per generated example (tmp_path is one per test), removed with its files.
    with tempfile.TemporaryDirectory(prefix="hostile-") as folder:
        directory = Path(folder)
        paths = []
        for name, data in files:
            path = directory / name
            path.write_bytes(data)
            paths.append(str(path))
        completed = manage(command_database, "import_audit_logs", *paths, timeout=120)

    assert completed.returncode == 1, (completed.returncode, completed.stderr[-3000:])
    assert "Traceback" not in completed.stderr, completed.stderr[-3000:]
    lines = completed.stderr.splitlines()
    for path in paths:
        assert any(line.startswith(f"{path}, ") for line in lines), completed.stderr[-3000:]
        assert f"{path}: import failed, nothing was stored from it." in lines
    assert_nothing_stored(command_database)
