"""Fixtures shared by the API and page tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import Services


@pytest.fixture
def web(imported: Services) -> Iterator[TestClient]:
    """The app over the imported store, as a browser sees it: redirects not followed."""
    with TestClient(create_app(services=imported), follow_redirects=False) as client:
        yield client
