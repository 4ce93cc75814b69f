"""The README's quick start (`make run`) migrates an empty SQLite file: every migration must apply
there too, not only on PostgreSQL, where the suite runs."""
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from django.conf import settings


def test_the_quick_start_sqlite_database_migrates_from_nothing(tmp_path):
    database = tmp_path / "quickstart.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    env.pop("REDIS_URL", None)
    result = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=Path(settings.BASE_DIR),
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "W040" not in result.stderr  # no warning the quick start's user cannot act on
    with sqlite3.connect(database) as connection:
        triggers = {name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'riskpool_bank_year_%'")}
    assert triggers == {"riskpool_bank_year_insert", "riskpool_bank_year_delete", "riskpool_bank_year_update"}
