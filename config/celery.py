"""The Celery app. The beat schedule is built from the job registry (core.jobs): one place."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _install_beat_schedule(sender, **kwargs):
    from core.jobs import beat_schedule

    sender.conf.beat_schedule = beat_schedule()
