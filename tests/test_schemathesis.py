"""Schemathesis on ``/api/openapi.json``: generated requests against the Flask app in-process (WSGI, no network),
a bounded number of examples per operation; every response must pass schemathesis' checks (no 5xx, status,
headers and body as documented, content type as declared, invalid input rejected).

One check is left out: *positive data acceptance*. A schema-valid ``from=walking`` is a string of the right
length that names no place, so a 400 saying so is the right answer; the schema cannot express "a real address".
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is a test extra (pip install -e .[test])")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis.generation.modes import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402

#: examples per API operation: enough to reach the error paths, small enough for the default run
MAX_EXAMPLES = 12


@pytest.fixture(scope="module")
def api_schema():
    from mobility.interfaces.web import create_app
    from mobility.planning.context import load_context

    # uncompressed answers: the in-process (WSGI) transport does not decode a compressed body, and the
    # generated Accept-Encoding may name zstd (compression is tested in test_i18n_edges.py)
    app = create_app({"COMPRESS_REGISTER": False}, context=load_context())
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


@pytest.mark.slow  # generated requests against every operation (~4 s with its app): CI's second step
def test_api_conforms_to_its_openapi_document(api_schema):
    """Each operation, MAX_EXAMPLES generated requests, valid and invalid (derandomised: the same every run)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 8
    for op in operations:
        @given(case=st.one_of(op.as_strategy(GenerationMode.POSITIVE), op.as_strategy(GenerationMode.NEGATIVE)))
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        check()
