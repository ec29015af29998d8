"""deploy/nginx.conf in front of gunicorn: each client its own rate limits, bodies capped twice."""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from shop import create_app
from shop.extensions import db
from tests.conftest import need_service
from tests.gunicorn_server import ROOT, Gunicorn, environment
from tests.nginx_server import NGINX, Nginx
from tests.support import wait_for

HOST = "shop.test"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TOO_BIG = b"note=" + b"x" * (2 * 1024 * 1024)  # over the 1 MiB that both nginx and the app allow


@dataclass
class Stack:
    nginx: Nginx
    gunicorn: Gunicorn
    redis_url: str


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not os.path.exists(NGINX):
        need_service("nginx", f"{NGINX} not found (apt-get install nginx)")
    redis_url = os.environ.get("TEST_REDIS_URL") or ""
    if not redis_url:
        need_service("Redis", "TEST_REDIS_URL is not set")
    # The rate limits of an earlier run of this test would still count for these addresses.
    store = redis.Redis.from_url(redis_url)
    for key in store.scan_iter("LIMITS:*"):
        store.delete(key)
    tmp = tmp_path_factory.mktemp("behind-nginx")
    database = f"sqlite:///{tmp / 'shop.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": database})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    gunicorn = Gunicorn(environment(
        DATABASE_URL=database, TRUSTED_PROXY_HOPS=1, PUBLIC_URL=f"https://{HOST}",
        # Two workers count every address's requests together, in Redis.
        REDIS_URL=redis_url,
        # The per-account lockout is set high: these tests count the per-address limit.
        STAFF_LOGIN_MAX_FAILURES=100,
    ), tmp / "gunicorn.log", workers=2)
    nginx = Nginx(tmp, upstream=f"127.0.0.1:{gunicorn.port}")
    try:
        gunicorn.wait_ready()
        nginx.start()
        yield Stack(nginx, gunicorn, redis_url)
    finally:
        nginx.stop()
        gunicorn.stop()


@dataclass
class Client:
    """A browser at one loopback address, speaking https to nginx."""

    address: str
    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection(
            "127.0.0.1", self.port, source_address=(self.address, 0), context=context, timeout=30)
        return exchange(connection, method, path, body, headers, self.cookies)


def exchange(connection: http.client.HTTPConnection, method: str, path: str,
             body: bytes | None, headers: dict[str, str] | None,
             cookies: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    sent = {"Host": HOST} | (headers or {})
    if cookies:
        sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if body is not None:
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    # A server may answer a body it refuses before reading it, then close.
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        connection.request(method, path, body=body, headers=sent)
    response = connection.getresponse()
    answer = response.read()
    for value in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = value.partition("=")
        cookies[name] = rest.split(";", 1)[0]
    connection.close()
    return response.status, {k.lower(): v for k, v in response.headers.items()}, answer


def failed_logins(client: Client, count: int, headers: dict[str, str] | None = None) -> list[int]:
    _, _, page = client.request("GET", "/staff/login")
    token = CSRF.search(page.decode())
    assert token, page[:500]
    form = f"email=nobody%40example.org&password=guess&csrf_token={token.group(1)}".encode()
    # Over https, Flask-WTF also wants the form posted from the shop's own page.
    sent = {"Referer": f"https://{HOST}/staff/login"} | (headers or {})
    return [client.request("POST", "/staff/login", form, sent)[0] for _ in range(count)]


def test_each_client_behind_nginx_has_its_own_rate_limit(stack: Stack) -> None:
    first = Client("127.0.0.2", stack.nginx.https_port)
    second = Client("127.0.0.3", stack.nginx.https_port)
    # Staff login allows 10 posts a minute per address.
    assert failed_logins(first, 11) == [401] * 10 + [429]
    # Another address through the same nginx is not locked out by the first one...
    assert failed_logins(second, 1) == [401]
    # ...and the first cannot escape its bucket by naming another address itself.
    assert failed_logins(first, 1, {"X-Forwarded-For": "127.0.0.9"}) == [429]
    # The counts are in Redis, where both of gunicorn's workers find them.
    keys = [key.decode() for key in redis.Redis.from_url(stack.redis_url).scan_iter("LIMITS:*")]
    assert any("127.0.0.2" in key for key in keys) and any("127.0.0.3" in key for key in keys)


def test_a_body_over_the_limit_is_refused_by_nginx_and_by_the_app_alone(stack: Stack) -> None:
    client = Client("127.0.0.2", stack.nginx.https_port)
    status, _, page = client.request("POST", "/cart/add", TOO_BIG)
    assert status == 413 and b"nginx" in page  # nginx's own page: gunicorn never saw it
    status, _, _ = client.request("POST", "/stripe/webhook", b"{" + b" " * 300_000 + b"}")
    assert status == 413  # the webhook's smaller cap

    direct = http.client.HTTPConnection("127.0.0.1", stack.gunicorn.port, timeout=30)
    status, _, page = exchange(direct, "POST", "/cart/add", TOO_BIG, None, {})
    assert status == 413 and b"That request is too large." in page


def test_nginx_serves_hashed_static_files_for_a_year_and_says_https(stack: Stack) -> None:
    client = Client("127.0.0.2", stack.nginx.https_port)
    css = (ROOT / "shop" / "static" / "shop.css").read_bytes()
    digest = hashlib.sha256(css).hexdigest()[:12]
    status, headers, body = client.request("GET", f"/static/shop.{digest}.css")
    assert status == 200 and body == css
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert headers["x-content-type-options"] == "nosniff"
    # The plain name is nginx's too, kept only briefly (the app would say max-age=0).
    status, headers, _ = client.request("GET", "/static/shop.css")
    assert status == 200 and headers["cache-control"] == "public, max-age=300"
    # The app knows the request came over https: HSTS.
    status, headers, _ = client.request("GET", "/healthz")
    assert status == 200 and "max-age=" in headers["strict-transport-security"]
    # Plain http is sent to https.
    plain = http.client.HTTPConnection("127.0.0.1", stack.nginx.http_port, timeout=10)
    status, headers, _ = exchange(plain, "GET", "/donate", None, None, {})
    assert status == 308 and headers["location"] == f"https://{HOST}/donate"
    # Whatever Host a client claims, it is sent to the shop's own name.
    plain = http.client.HTTPConnection("127.0.0.1", stack.nginx.http_port, timeout=10)
    status, headers, _ = exchange(plain, "GET", "/donate", None, None, {"Host": "evil.example"})
    assert status == 308 and headers["location"] == f"https://{HOST}/donate"


def test_the_access_log_keeps_the_page_but_not_the_donors_token(stack: Stack) -> None:
    client = Client("127.0.0.3", stack.nginx.https_port)
    secret = "Zk3N0tARealT0kenButSecretAnyway"
    client.request("GET", f"/orders/{secret}?session_id=cs_test_secret")
    client.request("GET", f"/api/orders/{secret}")
    # nginx writes a line once the response is sent: the last one may be a moment late.
    wait_for(lambda: "/api/orders/[token]" in Path(stack.nginx.access_log).read_text(),
             timeout=5)
    log = Path(stack.nginx.access_log).read_text()
    assert "/orders/[token]" in log and "/api/orders/[token]" in log
    assert secret not in log and "cs_test_secret" not in log
