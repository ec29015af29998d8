"""The worker's entry point: `celery -A tasks.worker worker` (and `... beat`)."""

from shop import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
# Pages give Redis REDIS_TIMEOUT per command; the worker's blocking reads of its queue
# (BRPOP, about a second each) must not time out, so its commands get longer.
celery_app.conf.broker_transport_options = {
    **celery_app.conf.broker_transport_options,
    "socket_timeout": max(5.0, float(flask_app.config["REDIS_TIMEOUT"])),
}
