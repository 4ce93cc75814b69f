"""Fixtures the risk-pool test modules share: the worked-example world (the private media root
is tests/conftest.py's, for every test)."""
import pytest

from tests.riskpool.factories import World


@pytest.fixture
def world():
    return World()
