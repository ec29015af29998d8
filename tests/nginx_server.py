"""Debian's nginx with deploy/nginx.conf in front of a test gunicorn, all on loopback."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.gunicorn_server import ROOT
from tests.servers import free_port

NGINX = os.environ.get("NGINX_PATH") or shutil.which("nginx") or "/usr/sbin/nginx"
TEMPLATE = ROOT / "deploy" / "nginx.conf"
_NAME = re.compile(r"\$\{(SHOP_[A-Z_]+)\}")


def render(template: str, values: dict[str, str]) -> str:
    """`envsubst` restricted to the template's ${SHOP_...} names; nginx's own $vars stay."""
    missing = set(_NAME.findall(template)) - set(values)
    assert not missing, f"no value for {sorted(missing)}"
    return _NAME.sub(lambda match: values[match.group(1)], template)


def self_signed_certificate(folder: Path, host: str) -> tuple[Path, Path]:
    cert, key = folder / "shop.crt", folder / "shop.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", f"/CN={host}", "-addext", f"subjectAltName=DNS:{host}",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


class Nginx:
    """nginx, not daemonised, with the deploy template; its pid, logs and temp files in `folder`."""

    def __init__(self, folder: Path, upstream: str, host: str = "shop.test") -> None:
        self.folder = folder
        self.http_port, self.https_port = free_port(), free_port()
        self.access_log = folder / "access.log"
        self.error_log = folder / "error.log"
        cert, key = self_signed_certificate(folder, host)
        site = render(TEMPLATE.read_text(), {
            "SHOP_HOST": host,
            "SHOP_LISTEN_HTTP": f"127.0.0.1:{self.http_port}",
            "SHOP_LISTEN_HTTPS": f"127.0.0.1:{self.https_port}",
            "SHOP_UPSTREAM": upstream,
            "SHOP_STATIC": str(ROOT / "shop" / "static"),
            "SHOP_TLS_CERT": str(cert),
            "SHOP_TLS_KEY": str(key),
            "SHOP_ACCESS_LOG": str(self.access_log),
        })
        (folder / "shop.conf").write_text(site)
        temp = "\n".join(f"    {kind}_temp_path {folder / kind};"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        # As root, workers would drop to `nobody`, who cannot enter pytest's private tmp dir.
        user = "user root;\n" if os.geteuid() == 0 else ""
        (folder / "nginx.conf").write_text(
            f"{user}worker_processes 1;\npid {folder / 'nginx.pid'};\n"
            f"error_log {self.error_log} info;\nevents {{ worker_connections 64; }}\n"
            f"http {{\n    include /etc/nginx/mime.types;\n"
            f"    default_type application/octet-stream;\n{temp}\n"
            f"    include {folder / 'shop.conf'};\n}}\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 15) -> Nginx:
        self.process = subprocess.Popen(
            [NGINX, "-e", str(self.error_log), "-c", str(self.folder / "nginx.conf"),
             "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"nginx exited:\n{self.errors()}")
            try:
                socket.create_connection(("127.0.0.1", self.https_port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"nginx not listening after {timeout}s:\n{self.errors()}")

    def errors(self) -> str:
        return self.error_log.read_text(errors="replace")[-4000:] if self.error_log.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: finish, then exit
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
