from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Platform")

    def ready(self):
        from core import calendar, notifications, twofactor  # noqa: F401  (twofactor: its sign-in receiver)
        from core.models import CalendarDay, CalendarYear

        # JB-1: an authority edit of the calendar takes effect at once, not after the cache expires.
        for model in (CalendarDay, CalendarYear):
            post_save.connect(calendar.clear_cache, sender=model, dispatch_uid=f"calendar-save-{model.__name__}")
            post_delete.connect(calendar.clear_cache, sender=model, dispatch_uid=f"calendar-delete-{model.__name__}")
        notifications._register_job()
