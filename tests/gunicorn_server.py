"""The shop under a real gunicorn (as the Procfile runs it), for tests that need its workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[1]


class Gunicorn:
    """`gunicorn 'shop:create_app()'` on 127.0.0.1, configured by environment variables."""

    def __init__(self, env: dict[str, str], log_path: Path, workers: int = 1,
                 port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.log = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(workers), "--timeout", "60", "--graceful-timeout", "5",
             # As the Procfile: no control socket at gunicorn's one path per user.
             "--no-control-socket", "shop:create_app()"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60) -> Gunicorn:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited:\n{self.output()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).ok:
                    return self
            except requests.RequestException:
                pass  # not listening yet, or the worker is still starting
            time.sleep(0.2)
        raise AssertionError(f"gunicorn not ready after {timeout}s:\n{self.output()}")

    def worker_pids(self) -> list[int]:
        """The worker processes (children of the gunicorn master)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

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


def memory_kib(pid: int) -> dict[str, int]:
    """A process's resident memory now (VmRSS) and at its peak (VmHWM), in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def environment(**settings: object) -> dict[str, str]:
    """This process's environment minus the shop's own settings, plus `settings`."""
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("DATABASE_URL", "REDIS", "APP_ENV", "SECRET_KEY", "STRIPE_"))}
    return keep | {k: str(v) for k, v in settings.items() if v is not None}
