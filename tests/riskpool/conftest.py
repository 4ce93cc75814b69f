"""Fixtures the risk-pool test modules share: the worked-example world and a private media root."""
import pytest

from tests.riskpool.test_services import World


@pytest.fixture
def media_root(settings, tmp_path):
    """Claim documents are written under the test's own folder, never the real MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def world():
    return World()
