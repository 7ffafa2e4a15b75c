"""Settings of the minimal RapidSMS 2.2 site used as the real peer in end-to-end tests.

Everything that differs between test runs comes from the environment (set by tests/e2e/conftest.py):
  E2E_RAPIDSMS_DB        sqlite file (already migrated or to be migrated)
  E2E_SENDSMS_URL        where KannelBackend sends replies (the bridge's /cgi-bin/sendsms)
  E2E_SENDSMS_USERNAME   sendsms username (default "rapidsms")
  E2E_SENDSMS_PASSWORD   sendsms password (default "secret")
  E2E_SITE_URL           this site's own base URL, used for the dlr-url (empty = no delivery reports)
  E2E_CHARSET            KannelBackend charset (default "UTF-8"; "" = RapidSMS's default, ascii)
"""

from __future__ import annotations

import os

SECRET_KEY = "e2e-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "rapidsms_site.urls"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("E2E_RAPIDSMS_DB", "rapidsms-e2e.sqlite3"),
        # runserver is threaded: wait for the lock instead of failing with "database is locked"
        "OPTIONS": {"timeout": 20},
    }
}

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rapidsms",
    "rapidsms.backends.kannel",
    "rapidsms.contrib.handlers",
    "rapidsms.contrib.messagelog",
]
# like a stock Django project: APPEND_SLASH redirects a GET without its trailing slash (301)
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]

RAPIDSMS_ROUTER = "rapidsms.router.blocking.BlockingRouter"
RAPIDSMS_HANDLERS = [
    "rapidsms.contrib.echo.handlers.echo.EchoHandler",
    "rapidsms.contrib.echo.handlers.ping.PingHandler",
    "rapidsms_site.handlers.SlowHandler",
]

_backend: dict[str, object] = {
    "ENGINE": "rapidsms.backends.kannel.outgoing.KannelBackend",
    "sendsms_url": os.environ.get("E2E_SENDSMS_URL", "http://127.0.0.1:13013/cgi-bin/sendsms"),
    "sendsms_params": {
        "smsc": "modem1",
        "from": "rapidsms",
        "username": os.environ.get("E2E_SENDSMS_USERNAME", "rapidsms"),
        "password": os.environ.get("E2E_SENDSMS_PASSWORD", "secret"),
    },
    "coding": 0,
    "encode_errors": "ignore",
}
_charset = os.environ.get("E2E_CHARSET", "UTF-8")
if _charset:
    _backend["charset"] = _charset
if os.environ.get("E2E_SITE_URL"):
    _backend["delivery_report_url"] = os.environ["E2E_SITE_URL"]
INSTALLED_BACKENDS = {"kannel-bridge": _backend}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": "INFO"},
}
