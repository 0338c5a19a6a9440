"""Fixtures shared by the unit tests that read the store through pages and views."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache


@pytest.fixture
def clean_cache():
    """An empty snapshot cache before and after the test (the store lives in it)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def viewer(client):
    """The test client logged in as a viewer."""
    client.force_login(get_user_model().objects.create_user("v", password="pw-viewer-123"))
    return client
