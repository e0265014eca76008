"""Graph endpoint test helpers: its list addresses, and what a page or a refusal holds."""

V1_LIST = "/graph/v1.0/auditLogs/directoryAudits"
BETA_LIST = "/graph/beta/auditLogs/directoryAudits"


def served_ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [record["id"] for record in response.json()["value"]]


def graph_error(response, status: int) -> dict:
    """The error of a refusal, checked to be in Graph's form."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"code", "message", "innerError"}
    assert error["innerError"]["request-id"] == response["request-id"]
    assert error["innerError"]["date"]
    return error
