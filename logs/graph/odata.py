"""``$filter``: parsed by ``odata-query`` (an OData v4 parser), translated form by form into
the shared FilterSet's parameters.

Only the forms Microsoft documents for directoryAudits (and ``category`` and ``result`` eq,
which scripts use) are accepted, joined with ``and``; anything else is refused with
``Request_UnsupportedQuery`` naming what is not supported, never ignored and never widened.
Each form becomes exactly one FilterSet parameter (two for a date ``eq``) with the same
meaning, so ``$filter=initiatedBy/user/userPrincipalName eq 'a@b.c'`` and
``/api/v1/events/?initiator_upn=a@b.c`` select the same events
(``tests/graph/test_api_agreement.py``):

==============================================  ==========================================
``activityDateTime ge|le|gt|lt|eq <date-time>``  ``since``, ``until``, ``after``, ``before``,
                                                 ``since`` and ``until``
``activityDisplayName eq``, ``startswith``       ``activity_name``, ``activity_name_startswith``
``category eq``, ``loggedByService eq``          ``category_name``, ``service_name``
``result eq``                                    ``result``
``correlationId eq``, ``id eq``                  ``correlation_id``, ``activity_id``
``initiatedBy/user/id eq``                       ``initiator_user_id``
``initiatedBy/user/displayName eq``              ``initiator_user_name``
``initiatedBy/user/userPrincipalName eq``,       ``initiator_upn``, ``initiator_upn_startswith``
``startswith``
``initiatedBy/app/appId eq``                     ``initiator_app_id``
``initiatedBy/app/displayName eq``               ``initiator_app_name``
``targetResources/any(t: t/id eq …)``            ``target_id``
``targetResources/any(t: t/displayName eq …)``,  ``target_name``, ``target_name_startswith``
``…(t: startswith(t/displayName, …))``
==============================================  ==========================================

As in Graph, names and UPNs compare without regard to case and ids exactly; property names
and the ``and`` between clauses may be written in any case.
"""

from odata_query import ast
from odata_query.exceptions import ODataException
from odata_query.grammar import ODataLexer, ODataParser

from logs.graph.errors import bad_request, unsupported
from logs.ingest.graph_shape import RESULTS

# Longer filters are refused before parsing: Graph's documented forms joined with "and" fit
# many times over, and the parser's work grows with the text.
MAX_FILTER_LENGTH = 4096
MAX_CLAUSES = 32

DATE_PARAMETERS = {
    ast.Eq: ("since", "until"),
    ast.GtE: ("since",),
    ast.LtE: ("until",),
    ast.Gt: ("after",),
    ast.Lt: ("before",),
}
# Property path (lower case) → (the path as Graph spells it, FilterSet parameter of ``eq``,
# FilterSet parameter of ``startswith`` or None, whether a GUID literal is accepted).
STRING_PROPERTIES = {
    "activitydisplayname": (
        "activityDisplayName",
        "activity_name",
        "activity_name_startswith",
        False,
    ),
    "category": ("category", "category_name", None, False),
    "loggedbyservice": ("loggedByService", "service_name", None, False),
    "result": ("result", "result", None, False),
    "correlationid": ("correlationId", "correlation_id", None, True),
    "id": ("id", "activity_id", None, True),
    "initiatedby/user/id": ("initiatedBy/user/id", "initiator_user_id", None, True),
    "initiatedby/user/displayname": (
        "initiatedBy/user/displayName",
        "initiator_user_name",
        None,
        False,
    ),
    "initiatedby/user/userprincipalname": (
        "initiatedBy/user/userPrincipalName",
        "initiator_upn",
        "initiator_upn_startswith",
        False,
    ),
    "initiatedby/app/appid": ("initiatedBy/app/appId", "initiator_app_id", None, True),
    "initiatedby/app/displayname": (
        "initiatedBy/app/displayName",
        "initiator_app_name",
        None,
        False,
    ),
}
# Inside targetResources/any(t: ...): the target's property → (spelling, eq, startswith, GUID).
TARGET_PROPERTIES = {
    "id": ("id", "target_id", None, True),
    "displayname": ("displayName", "target_name", "target_name_startswith", False),
}
DATE_PROPERTY = "activitydatetime"
COLLECTION_PROPERTY = "targetresources"

SUPPORTED_FORMS = (
    "activityDateTime eq|ge|le|gt|lt <date-time>; activityDisplayName eq, startswith; "
    "category eq; loggedByService eq; result eq; correlationId eq; id eq; "
    "initiatedBy/user/id eq; initiatedBy/user/displayName eq; "
    "initiatedBy/user/userPrincipalName eq, startswith; initiatedBy/app/appId eq; "
    "initiatedBy/app/displayName eq; targetResources/any(t: t/id eq '...'); "
    "targetResources/any(t: t/displayName eq '...'); "
    "targetResources/any(t: startswith(t/displayName, '...')); joined with 'and'"
)


def filter_clauses(text: str) -> list[dict[str, str]]:
    """The FilterSet parameters of each clause of ``$filter`` (to be applied one after the
    other, which ANDs them), or a GraphError saying what is wrong."""
    if len(text) > MAX_FILTER_LENGTH:
        raise bad_request(f"The $filter is longer than {MAX_FILTER_LENGTH:,} characters.")
    if not text.strip():
        raise bad_request("The $filter is empty.")
    try:
        tree = ODataParser().parse(ODataLexer().tokenize(text))
    except ODataException as error:
        raise bad_request(f"Invalid filter clause: {error}") from None
    if tree is None:
        raise bad_request("Invalid filter clause: nothing to filter on.")
    return [_clause(node) for node in _conjuncts(tree)]


def _conjuncts(tree) -> list:
    """The comparisons joined by ``and``, left to right (walked without recursion: a filter
    of many clauses nests deeply)."""
    clauses, pending = [], [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
            pending.extend([node.right, node.left])
            continue
        if isinstance(node, ast.BoolOp):
            raise unsupported(f"'or' is not supported. Supported: {SUPPORTED_FORMS}.")
        clauses.append(node)
        if len(clauses) > MAX_CLAUSES:
            raise bad_request(f"The $filter has more than {MAX_CLAUSES} clauses.")
    return clauses


def _clause(node) -> dict[str, str]:
    if isinstance(node, ast.Compare):
        return _comparison(node)
    if isinstance(node, ast.Call):
        return _startswith(node, _path, STRING_PROPERTIES)
    if isinstance(node, ast.CollectionLambda):
        return _any_target(node)
    if isinstance(node, ast.UnaryOp):
        raise unsupported(f"'not' is not supported. Supported: {SUPPORTED_FORMS}.")
    raise unsupported(f"This $filter form is not supported. Supported: {SUPPORTED_FORMS}.")


def _comparison(node: ast.Compare, properties=None, path=None) -> dict[str, str]:
    properties = STRING_PROPERTIES if properties is None else properties
    path = _path if path is None else path
    name = path(node.left)
    operator = type(node.comparator)
    if name == DATE_PROPERTY and properties is STRING_PROPERTIES:
        if operator not in DATE_PARAMETERS:
            raise unsupported(f"activityDateTime supports eq, ge, le, gt and lt; not {_op(node)}.")
        if not isinstance(node.right, ast.DateTime):
            raise bad_request(
                "activityDateTime is compared with a date-time such as 2024-01-01T00:00:00Z "
                "(not quoted)."
            )
        return dict.fromkeys(DATE_PARAMETERS[operator], node.right.val)
    spelling, equals, _, guid = _property(name, properties, node.left)
    if operator is not ast.Eq:
        raise unsupported(f"{spelling} supports eq only; not {_op(node)}.")
    value = _string(node.right, spelling, guid)
    if equals == "result":
        value = _result(value)
    return {equals: value}


def _startswith(node: ast.Call, path, properties) -> dict[str, str]:
    function = node.func.name.lower() if isinstance(node.func, ast.Identifier) else ""
    if function != "startswith" or len(node.args) != 2:
        raise unsupported(
            f"Of the functions, only startswith(property, 'text') is supported. "
            f"Supported: {SUPPORTED_FORMS}."
        )
    name = path(node.args[0])
    spelling, _, starts, _ = _property(name, properties, node.args[0])
    if starts is None:
        raise unsupported(f"{spelling} supports eq only; not startswith.")
    return {starts: _string(node.args[1], spelling, guid=False)}


def _any_target(node: ast.CollectionLambda) -> dict[str, str]:
    if _path(node.owner) != COLLECTION_PROPERTY:
        raise unsupported(
            f"Of the collections, only targetResources/any(...) is supported. "
            f"Supported: {SUPPORTED_FORMS}."
        )
    if not isinstance(node.operator, ast.Any) or node.lambda_ is None:
        raise unsupported("Only targetResources/any(t: ...) with a condition is supported.")
    variable = node.lambda_.identifier.name
    expression = node.lambda_.expression

    def target_path(member) -> str:
        if (
            isinstance(member, ast.Attribute)
            and isinstance(member.owner, ast.Identifier)
            and member.owner.name == variable
            and not member.owner.namespace
        ):
            return member.attr.lower()
        raise unsupported(
            f"Inside targetResources/any({variable}: ...) compare {variable}/id or "
            f"{variable}/displayName."
        )

    if isinstance(expression, ast.Compare):
        return _comparison(expression, TARGET_PROPERTIES, target_path)
    if isinstance(expression, ast.Call):
        return _startswith(expression, target_path, TARGET_PROPERTIES)
    raise unsupported(
        "Inside targetResources/any(t: ...) only one comparison is supported: t/id eq, "
        "t/displayName eq or startswith(t/displayName, ...)."
    )


def _path(node) -> str:
    """``initiatedBy/user/id`` for the nested attribute node, in lower case."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.owner
    if not isinstance(node, ast.Identifier) or node.namespace:
        raise unsupported(
            f"A $filter clause compares a property with a value. Supported: {SUPPORTED_FORMS}."
        )
    parts.append(node.name)
    return "/".join(reversed(parts)).lower()


def _property(name: str, properties: dict, node) -> tuple:
    try:
        return properties[name]
    except KeyError:
        raise unsupported(
            f"Filtering on '{name}' is not supported. Supported: {SUPPORTED_FORMS}."
        ) from None


def _string(node, spelling: str, guid: bool) -> str:
    if isinstance(node, ast.String) or (guid and isinstance(node, ast.GUID)):
        value = node.val
    else:
        raise bad_request(f"{spelling} is compared with a quoted string, e.g. '...'.")
    if not value:
        raise bad_request(f"{spelling}: an empty string selects nothing; leave the clause out.")
    return value


def _result(value: str) -> str:
    try:
        return RESULTS[value.lower()]
    except KeyError:
        raise bad_request(
            f"result is one of success, failure, timeout, unknownFutureValue; not {value!r}."
        ) from None


OPERATOR_NAMES = {
    ast.Eq: "eq",
    ast.NotEq: "ne",
    ast.Lt: "lt",
    ast.LtE: "le",
    ast.Gt: "gt",
    ast.GtE: "ge",
    ast.In: "in",
}


def _op(node: ast.Compare) -> str:
    return OPERATOR_NAMES.get(type(node.comparator), type(node.comparator).__name__)
