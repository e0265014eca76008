"""Each $filter form becomes exactly the FilterSet parameters of the same meaning, and each
form it cannot answer is refused with the code and message a script's author reads.

What the parameters then select is checked against Graph's semantics in
``test_filter_semantics.py`` and against the REST API in ``test_api_agreement.py``; here the
translation itself is pinned, form by form, so that no form is quietly widened (a
``startswith`` read as ``eq``, a bound read as its neighbour) or quietly dropped.
"""

import pytest

from logs.graph.errors import BAD_REQUEST, UNSUPPORTED_QUERY, GraphError
from logs.graph.odata import MAX_CLAUSES, MAX_FILTER_LENGTH, SUPPORTED_FORMS, filter_clauses

GUID = "5f1d2c3a-0b1e-4c6d-9e8f-0a1b2c3d4e5f"
MOMENT = "2024-01-02T03:04:05.123456Z"


@pytest.mark.parametrize(
    ("text", "parameters"),
    [
        (f"activityDateTime eq {MOMENT}", {"since": MOMENT, "until": MOMENT}),
        (f"activityDateTime ge {MOMENT}", {"since": MOMENT}),
        (f"activityDateTime le {MOMENT}", {"until": MOMENT}),
        (f"activityDateTime gt {MOMENT}", {"after": MOMENT}),
        (f"activityDateTime lt {MOMENT}", {"before": MOMENT}),
        ("activityDisplayName eq 'Add user'", {"activity_name": "Add user"}),
        ("startswith(activityDisplayName, 'Add')", {"activity_name_startswith": "Add"}),
        ("category eq 'UserManagement'", {"category_name": "UserManagement"}),
        ("loggedByService eq 'Core Directory'", {"service_name": "Core Directory"}),
        ("result eq 'success'", {"result": "success"}),
        ("result eq 'Failure'", {"result": "failure"}),
        ("result eq 'TIMEOUT'", {"result": "timeout"}),
        ("result eq 'unknownfuturevalue'", {"result": "unknownFutureValue"}),
        (f"correlationId eq '{GUID}'", {"correlation_id": GUID}),
        (f"correlationId eq {GUID}", {"correlation_id": GUID}),
        ("id eq 'Directory_ABC'", {"activity_id": "Directory_ABC"}),
        (f"id eq {GUID}", {"activity_id": GUID}),
        (f"initiatedBy/user/id eq {GUID}", {"initiator_user_id": GUID}),
        (f"initiatedBy/user/id eq '{GUID}'", {"initiator_user_id": GUID}),
        ("initiatedBy/user/displayName eq 'Alex W'", {"initiator_user_name": "Alex W"}),
        ("initiatedBy/user/userPrincipalName eq 'a@b.c'", {"initiator_upn": "a@b.c"}),
        (
            "startswith(initiatedBy/user/userPrincipalName, 'a@')",
            {"initiator_upn_startswith": "a@"},
        ),
        (f"initiatedBy/app/appId eq {GUID}", {"initiator_app_id": GUID}),
        ("initiatedBy/app/displayName eq 'Sync'", {"initiator_app_name": "Sync"}),
        (f"targetResources/any(t: t/id eq {GUID})", {"target_id": GUID}),
        (f"targetResources/any(x: x/id eq '{GUID}')", {"target_id": GUID}),
        ("targetResources/any(t: t/displayName eq 'Sales')", {"target_name": "Sales"}),
        (
            "targetResources/any(t: startswith(t/displayName, 'Sal'))",
            {"target_name_startswith": "Sal"},
        ),
        # Property names and the lambda's collection in any case, as in Graph.
        ("ActivityDisplayName eq 'x'", {"activity_name": "x"}),
        ("INITIATEDBY/User/UserPrincipalName eq 'a@b.c'", {"initiator_upn": "a@b.c"}),
        ("startswith(ACTIVITYDISPLAYNAME, 'x')", {"activity_name_startswith": "x"}),
        ("TargetResources/any(t: t/DisplayName eq 'x')", {"target_name": "x"}),
        ("targetResources/any(t: startswith(t/displayname, 'x'))", {"target_name_startswith": "x"}),
    ],
)
def test_each_form_becomes_its_one_parameter(text, parameters):
    assert filter_clauses(text) == [parameters]


def test_clauses_joined_with_and_are_kept_in_order_however_they_nest():
    text = (
        "category eq 'A' and (activityDisplayName eq 'B' AND result eq 'success') "
        f"and activityDateTime ge {MOMENT}"
    )
    assert filter_clauses(text) == [
        {"category_name": "A"},
        {"activity_name": "B"},
        {"result": "success"},
        {"since": MOMENT},
    ]


def test_as_many_clauses_as_the_limit_are_answered():
    clauses = [f"id eq 'e{number}'" for number in range(MAX_CLAUSES)]
    assert filter_clauses(" and ".join(clauses)) == [
        {"activity_id": f"e{number}"} for number in range(MAX_CLAUSES)
    ]


def test_a_filter_as_long_as_the_limit_is_answered():
    prefix = "activityDisplayName eq '"
    value = "x" * (MAX_FILTER_LENGTH - len(prefix) - 1)
    assert filter_clauses(f"{prefix}{value}'") == [{"activity_name": value}]


def refusal(text: str) -> tuple[str, str]:
    with pytest.raises(GraphError) as raised:
        filter_clauses(text)
    assert raised.value.status == 400
    return raised.value.code, raised.value.message


SUPPORTED = f"Supported: {SUPPORTED_FORMS}."


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        (
            "x" * (MAX_FILTER_LENGTH + 1),
            BAD_REQUEST,
            "The $filter is longer than 4,096 characters.",
        ),
        (
            " and ".join(["id eq 'x'"] * (MAX_CLAUSES + 1)),
            BAD_REQUEST,
            f"The $filter has more than {MAX_CLAUSES} clauses.",
        ),
        (" \t ", BAD_REQUEST, "The $filter is empty."),
        ("id eq 'x' or id eq 'y'", UNSUPPORTED_QUERY, f"'or' is not supported. {SUPPORTED}"),
        (
            "category eq 'A' and (id eq 'x' or id eq 'y')",
            UNSUPPORTED_QUERY,
            f"'or' is not supported. {SUPPORTED}",
        ),
        ("not (id eq 'x')", UNSUPPORTED_QUERY, f"'not' is not supported. {SUPPORTED}"),
        ("id", UNSUPPORTED_QUERY, f"This $filter form is not supported. {SUPPORTED}"),
        (
            "'x' eq id",
            UNSUPPORTED_QUERY,
            f"A $filter clause compares a property with a value. {SUPPORTED}",
        ),
        (
            "ns.id eq 'x'",
            UNSUPPORTED_QUERY,
            f"A $filter clause compares a property with a value. {SUPPORTED}",
        ),
        (
            "operationType eq 'Add'",
            UNSUPPORTED_QUERY,
            f"Filtering on 'operationtype' is not supported. {SUPPORTED}",
        ),
        (
            "initiatedBy/user/mail eq 'a@b.c'",
            UNSUPPORTED_QUERY,
            f"Filtering on 'initiatedby/user/mail' is not supported. {SUPPORTED}",
        ),
        # The date forms.
        (
            f"activityDateTime ne {MOMENT}",
            UNSUPPORTED_QUERY,
            "activityDateTime supports eq, ge, le, gt and lt; not ne.",
        ),
        (
            "activityDateTime eq '2024-01-01T00:00:00Z'",
            BAD_REQUEST,
            "activityDateTime is compared with a date-time such as 2024-01-01T00:00:00Z "
            "(not quoted).",
        ),
        (
            "activityDateTime ge 2024-01-01",
            BAD_REQUEST,
            "activityDateTime is compared with a date-time such as 2024-01-01T00:00:00Z "
            "(not quoted).",
        ),
        # A name or an id: eq only, with a quoted string (a GUID unquoted for ids only).
        ("id ne 'x'", UNSUPPORTED_QUERY, "id supports eq only; not ne."),
        ("category gt 'x'", UNSUPPORTED_QUERY, "category supports eq only; not gt."),
        ("id eq 42", BAD_REQUEST, "id is compared with a quoted string, e.g. '...'."),
        (
            f"activityDisplayName eq {GUID}",
            BAD_REQUEST,
            "activityDisplayName is compared with a quoted string, e.g. '...'.",
        ),
        (
            f"initiatedBy/user/displayName eq {GUID}",
            BAD_REQUEST,
            "initiatedBy/user/displayName is compared with a quoted string, e.g. '...'.",
        ),
        *[
            (
                f"{name} eq {GUID}",
                BAD_REQUEST,
                f"{name} is compared with a quoted string, e.g. '...'.",
            )
            for name in (
                "category",
                "loggedByService",
                "result",
                "initiatedBy/user/userPrincipalName",
                "initiatedBy/app/displayName",
            )
        ],
        (
            f"startswith(activityDisplayName, {GUID})",
            BAD_REQUEST,
            "activityDisplayName is compared with a quoted string, e.g. '...'.",
        ),
        (
            "id eq ''",
            BAD_REQUEST,
            "id: an empty string selects nothing; leave the clause out.",
        ),
        (
            "startswith(activityDisplayName, '')",
            BAD_REQUEST,
            "activityDisplayName: an empty string selects nothing; leave the clause out.",
        ),
        (
            "result eq 'maybe'",
            BAD_REQUEST,
            "result is one of success, failure, timeout, unknownFutureValue; not 'maybe'.",
        ),
        # Functions: startswith only, on the properties that offer it.
        (
            "contains(activityDisplayName, 'x')",
            UNSUPPORTED_QUERY,
            f"Of the functions, only startswith(property, 'text') is supported. {SUPPORTED}",
        ),
        (
            "endswith(activityDisplayName, 'x')",
            UNSUPPORTED_QUERY,
            f"Of the functions, only startswith(property, 'text') is supported. {SUPPORTED}",
        ),
        (
            "startswith(category, 'x')",
            UNSUPPORTED_QUERY,
            "category supports eq only; not startswith.",
        ),
        ("startswith(id, 'x')", UNSUPPORTED_QUERY, "id supports eq only; not startswith."),
        (
            "startswith('x', activityDisplayName)",
            UNSUPPORTED_QUERY,
            f"A $filter clause compares a property with a value. {SUPPORTED}",
        ),
        # targetResources/any: one comparison of the lambda's own t/id or t/displayName.
        (
            "members/any(t: t/id eq 'x')",
            UNSUPPORTED_QUERY,
            f"Of the collections, only targetResources/any(...) is supported. {SUPPORTED}",
        ),
        (
            "targetResources/all(t: t/id eq 'x')",
            UNSUPPORTED_QUERY,
            "Only targetResources/any(t: ...) with a condition is supported.",
        ),
        (
            "targetResources/any()",
            UNSUPPORTED_QUERY,
            "Only targetResources/any(t: ...) with a condition is supported.",
        ),
        (
            "targetResources/any(t: s/id eq 'x')",
            UNSUPPORTED_QUERY,
            "Inside targetResources/any(t: ...) compare t/id or t/displayName.",
        ),
        (
            "targetResources/any(t: t/x/id eq 'x')",
            UNSUPPORTED_QUERY,
            "Inside targetResources/any(t: ...) compare t/id or t/displayName.",
        ),
        (
            "targetResources/any(t: t eq 'x')",
            UNSUPPORTED_QUERY,
            "Inside targetResources/any(t: ...) compare t/id or t/displayName.",
        ),
        (
            "targetResources/any(t: ns.t/id eq 'x')",
            UNSUPPORTED_QUERY,
            "Inside targetResources/any(t: ...) compare t/id or t/displayName.",
        ),
        (
            "targetResources/any(t: t/type eq 'User')",
            UNSUPPORTED_QUERY,
            f"Filtering on 'type' is not supported. {SUPPORTED}",
        ),
        (
            "targetResources/any(t: t/id ne 'x')",
            UNSUPPORTED_QUERY,
            "id supports eq only; not ne.",
        ),
        (
            f"targetResources/any(t: t/displayName eq {GUID})",
            BAD_REQUEST,
            "displayName is compared with a quoted string, e.g. '...'.",
        ),
        (
            f"targetResources/any(t: t/activityDateTime ge {MOMENT})",
            UNSUPPORTED_QUERY,
            f"Filtering on 'activitydatetime' is not supported. {SUPPORTED}",
        ),
        (
            "targetResources/any(t: startswith(t/id, 'x'))",
            UNSUPPORTED_QUERY,
            "id supports eq only; not startswith.",
        ),
        (
            "targetResources/any(t: t/id eq 'x' and t/displayName eq 'y')",
            UNSUPPORTED_QUERY,
            "Inside targetResources/any(t: ...) only one comparison is supported: t/id eq, "
            "t/displayName eq or startswith(t/displayName, ...).",
        ),
    ],
)
def test_a_form_it_cannot_answer_is_refused_saying_why(text, code, message):
    assert refusal(text) == (code, message)


@pytest.mark.parametrize(
    "text", ["activityDisplayName eq 'unterminated", "activityDisplayName eq ", "id in ('a')"]
)
def test_a_filter_that_does_not_parse_is_a_bad_request(text):
    code, message = refusal(text)
    assert code == BAD_REQUEST
    assert message.startswith("Invalid filter clause: ")
