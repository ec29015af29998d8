"""The worker's entry point: `celery -A tasks.worker worker` (and `... beat`)."""

from shop import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
