"""The Celery worker bench.served starts: `celery -A bench.worker worker`, the shop's settings
from BENCH_SHOP_CONFIG (as bench.wsgi serves it)."""

from bench.wsgi import shop_app

celery_app = shop_app().extensions["celery"]
