"""Settings of an ordinary Django project, read from the environment.

Nothing here is about Lambda: the app is served by gunicorn on
127.0.0.1:$PORT like any Django app behind a reverse proxy.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# Set DJANGO_SECRET_KEY in production (the function's environment, from a
# secret store); the default is for running it on a laptop only.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "insecure-local-only-key-change-me")
DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"

# API Gateway, Function URLs and ALB send their own host name
# (*.execute-api.<region>.amazonaws.com, *.lambda-url.<region>.on.aws, the
# load balancer's DNS name or your domain): list yours in DJANGO_ALLOWED_HOSTS.
ALLOWED_HOSTS = os.environ.get(
    "DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,.amazonaws.com,.on.aws"
).split(",")

INSTALLED_APPS = ["django.contrib.contenttypes", "shop"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "shop.urls"
WSGI_APPLICATION = "shop.wsgi.application"

# No database: this example keeps no data. (On Lambda only /tmp is writable;
# use RDS, Aurora or DynamoDB for real storage.)
DATABASES = {}

TEMPLATES = []
USE_TZ = True
LANGUAGE_CODE = "en-us"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# 200 KB uploads and form posts stay in memory (Django's default is 2.5 MB).
DATA_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024
