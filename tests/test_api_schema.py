"""The OpenAPI document is complete, and schemathesis, generating requests from it for every
operation (an admin's token; POST actions change the throwaway database), finds no 5xx."""

from __future__ import annotations

from collections import Counter

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.web_api_support import ApiWorld, world_fixture  # noqa: F401  (world)

OPERATIONS = {
    ("GET", "/mentions"), ("GET", "/mentions.csv"), ("GET", "/mentions.jsonl"),
    ("GET", "/mentions/{mention_id}"), ("POST", "/mentions/{mention_id}/actions"),
    ("GET", "/brands/{name}/stats"), ("GET", "/sources"), ("GET", "/alerts"),
}
EXAMPLES = 30


def test_the_document_lists_every_operation_with_its_answers(world: ApiWorld) -> None:
    answer = world.client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    document = answer.json()
    assert document["info"]["title"] == "Vigía API"
    found = {(method.upper(), path) for path, item in document["paths"].items()
             for method in item}
    assert found == OPERATIONS
    for path, item in document["paths"].items():
        for operation in item.values():
            assert operation["responses"]["200"]["content"], path
            assert "401" in operation["responses"], path
    csv = document["paths"]["/mentions.csv"]["get"]["responses"]["200"]["content"]
    assert "text/csv" in csv
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    # No interactive docs: Swagger UI would need scripts from a CDN the CSP forbids.
    assert world.client.get("/api/v1/docs").status_code == 404


def test_schemathesis_finds_no_server_error(world: ApiWorld) -> None:
    headers = world.auth("admin")
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", world.client.app)
    tried, statuses = set(), Counter[int]()
    for result in schema.get_all_operations():
        operation = result.ok()
        tried.add((operation.method.upper(), operation.path))

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            answer = case.call_and_validate(headers=headers, checks=[not_a_server_error])
            statuses[answer.status_code] += 1

        check()
    assert tried == OPERATIONS
    # The token was accepted (not 401 everywhere) and valid requests got through.
    assert statuses[401] == 0 and statuses[200] > EXAMPLES, statuses
    print(dict(statuses))
