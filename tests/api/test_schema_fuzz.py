"""RELIABILITY.md "Inputs": schemathesis over the whole OpenAPI schema, authenticated, in-process.

No input a client can send may produce a 5xx, and responses must match the documented schema.
Bounded: a few examples per operation, so it stays a unit-test-sized run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks

from apps.accounts.services import api_token_create
from tests.factories import BookingFactory, UserFactory

schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture
def keep_test_connection() -> Iterator[None]:
    """As Django's test client does: the request cycle must not close the test's connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def auth_header(db: Any, emulator: Any, inference_key: str, configure: Any) -> dict[str, str]:
    owner = UserFactory(username="fuzz-owner")
    configure(owner, inference_key)
    other = UserFactory(username="fuzz-other")
    BookingFactory(user=other)  # another tenant's ids exist, and must stay unreachable
    return {"Authorization": f"Bearer {api_token_create(user=owner, name='fuzz').plaintext}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_matches_its_schema_and_never_fails_with_5xx(
    case: Any, auth_header: dict[str, str], keep_test_connection: None
) -> None:
    # Not checked: DRF coerces scalars (0 -> "0") by design, and some valid-by-schema input is
    # refused on purpose (NUL characters, unknown model ids). Everything else is: no 5xx,
    # documented statuses, content types and response bodies.
    case.call_and_validate(
        headers=auth_header,
        excluded_checks=[checks.negative_data_rejection, checks.positive_data_acceptance],
    )
