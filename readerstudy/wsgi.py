"""WSGI entry point (gunicorn readerstudy.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "readerstudy.settings.base")
application = get_wsgi_application()
