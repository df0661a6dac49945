"""Property-based fuzz of every operation in the served OpenAPI spec (schemathesis): whatever
the body, the real server answers without a 5xx.

Schemathesis's own pytest plugin does not run under this pytest version, so the test drives
its per-operation Hypothesis strategies directly.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error

from test_api_support import Server


@pytest.mark.slow
def test_no_server_errors(server: Server) -> None:
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    headers = {"Authorization": f"Bearer {server.keys['fuzz']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    statuses: list[int] = []
    modes = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
    for operation, mode in ((op, mode) for op in operations for mode in modes):

        @given(case=operation.as_strategy(mode))
        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            response = case.call(headers=headers, timeout=30)
            statuses.append(response.status_code)
            case.validate_response(response, checks=[not_a_server_error])

        try:
            check()
        except Unsatisfiable:  # nothing to make invalid (an operation without inputs)
            assert mode is schemathesis.GenerationMode.NEGATIVE
    assert len(statuses) > 100 and {200, 422} <= set(statuses)
