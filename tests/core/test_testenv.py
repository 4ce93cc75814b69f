"""`make test` service discovery: CI=true insists on PostgreSQL and Redis, naming what is missing."""
import pytest

from core import testenv

CLOSED = "postgres://postgres@127.0.0.1:1/none"


def test_ci_fails_at_once_naming_the_missing_service_and_how_to_start_it(monkeypatch):
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("DATABASE_URL", CLOSED)
    with pytest.raises(testenv.MissingService) as info:
        testenv.database_url()
    assert "PostgreSQL" in str(info.value) and "pg_ctlcluster" in str(info.value)


def test_without_ci_an_unreachable_service_falls_back(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    assert testenv.redis_url() is None


def test_main_exits_non_zero_with_one_clear_line_in_ci(monkeypatch, capsys):
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    assert testenv.main() == 1
    assert "needs Redis" in capsys.readouterr().err
