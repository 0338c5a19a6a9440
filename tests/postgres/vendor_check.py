"""Run only by tests/postgres/test_on_postgres.py (its name keeps it out of the normal collection):
proves the modules it runs alongside really ran on the database it set up."""

from __future__ import annotations

import os

import pytest
from django.db import connection


@pytest.mark.django_db
def test_the_database_is_the_one_the_runner_set_up() -> None:
    expected = os.environ.get("EXPECT_DATABASE_VENDOR")
    assert expected, "run by tests/postgres/test_on_postgres.py, which says which database to expect"
    assert connection.vendor == expected
