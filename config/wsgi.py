import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()
# Import every view and build the URL maps now, as each worker starts, rather than in its first
# request (seconds on a busy machine: issue 12's API benchmark counted them against the workers).
get_resolver().reverse_dict  # noqa: B018
