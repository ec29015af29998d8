"""A real Celery worker (and Redis server) in subprocesses, configured like the test app."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from flask import Flask

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[1]

# Settings the worker needs from the test app, passed as the environment it reads.
_ENV_KEYS = {
    "SQLALCHEMY_DATABASE_URI": "DATABASE_URL",
    "REDIS_URL": "REDIS_URL",
    "CELERY_QUEUE": "CELERY_QUEUE",
    "PUBLIC_URL": "PUBLIC_URL",
    "STRIPE_API_BASE": "STRIPE_API_BASE",
    "STRIPE_SECRET_KEY": "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET": "STRIPE_WEBHOOK_SECRET",
    "MAIL_SERVER": "MAIL_SERVER",
    "MAIL_PORT": "MAIL_PORT",
    "MAIL_DEFAULT_SENDER": "MAIL_DEFAULT_SENDER",
    "FULFILMENT_URL": "FULFILMENT_URL",
    "FULFILMENT_SECRET": "FULFILMENT_SECRET",
    "FULFILMENT_EMAIL": "FULFILMENT_EMAIL",
    "FULFILMENT_TIMEOUT": "FULFILMENT_TIMEOUT",
    "MAIL_TIMEOUT": "MAIL_TIMEOUT",
    "MAIL_LOG_URL": "MAIL_LOG_URL",
    "ORG_NAME": "ORG_NAME",
    "ORG_TAX_ID": "ORG_TAX_ID",
    "ORG_ADDRESS": "ORG_ADDRESS",
    "SIDE_EFFECT_DEADLINE": "SIDE_EFFECT_DEADLINE",
    "SIDE_EFFECT_BACKOFF": "SIDE_EFFECT_BACKOFF",
    "SIDE_EFFECT_BACKOFF_MAX": "SIDE_EFFECT_BACKOFF_MAX",
    "SIDE_EFFECT_MAX_ATTEMPTS": "SIDE_EFFECT_MAX_ATTEMPTS",
    "CELERY_VISIBILITY_TIMEOUT": "CELERY_VISIBILITY_TIMEOUT",
    "SECRET_KEY": "SECRET_KEY",
    "CAMPAIGN_START": "CAMPAIGN_START",
    "CAMPAIGN_END": "CAMPAIGN_END",
    "UNIT_SIZE": "UNIT_SIZE",
    "UNIT_PARTIAL_POLICY": "UNIT_PARTIAL_POLICY",
}


def worker_env(app: Flask, **extra: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS"))}
    for key, name in _ENV_KEYS.items():
        value = app.config.get(key)
        if value is not None:
            env[name] = str(value)
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Worker:
    """`celery -A tasks.worker worker` for one test."""

    def __init__(self, app: Flask, log_path: Path) -> None:
        self.log_path = log_path
        self.log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tasks.worker", "worker",
             "--loglevel=INFO", "--pool=threads", "--concurrency=4",
             "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-n", f"test-{os.getpid()}-{time.monotonic_ns()}@%h"],
            cwd=ROOT, env=worker_env(app), stdout=self.log, stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited:\n{self.output()}")
            if b"ready." in self.log_path.read_bytes():
                return
            time.sleep(0.2)
        raise AssertionError(f"worker not ready after {timeout}s:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()

    def kill(self) -> None:
        """Kill -9, as a crash or an OOM would."""
        self.process.kill()
        self.process.wait(timeout=10)


class RedisServer:
    """A Redis of the test's own, on its own port, that the test can stop and start."""

    def __init__(self, data_dir: Path) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not os.path.exists(binary):
            raise FileNotFoundError("redis-server")
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.data_dir = data_dir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.data_dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 15
        while True:
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None
