"""A scale-out Tropa on loopback: nginx in front of two gunicorn instances, two job
workers and two Telegram bot workers, all on one PostgreSQL database and one Redis,
each a process group of its own so that a test can SIGKILL any of them.

The nginx configuration is the reference one (deploy/nginx/tropa-locations.conf,
included as it is), wrapped in a loopback `http { }` with temp paths in the cluster's
folder. Every process gets production settings from the environment, as systemd would
give them (deploy/tropa.env.example), with secrets made up for this run.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import psycopg

from tropa.bench.runner import free_port

REPO = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
BOT_TOKEN = "123456:SCALEOUT-test"


def wait_for_port(port: int, *, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


def _database_url(base: str, name: str) -> str:
    parts = urllib.parse.urlsplit(base)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def _redis_url(base: str, db: int) -> str:
    parts = urllib.parse.urlsplit(base)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{db}"))


def _clean_environment() -> dict[str, str]:
    """The machine's environment without the test run's own Tropa and Django settings."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TROPA_") and key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }


@dataclass
class Cluster:
    root: Path
    base_database_url: str
    base_redis_url: str
    telegram_api: str
    database: str = field(default_factory=lambda: f"tropa_scaleout_{secrets.token_hex(4)}")
    redis_db: int = 7
    webhook_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    blind_index_key: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    nginx_port: int = field(default_factory=free_port)
    web_ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        field_key = base64.b64encode(secrets.token_bytes(32)).decode()
        self.keys = {
            "TROPA_SECRET_KEY": secrets.token_urlsafe(48),
            "TROPA_AUDIT_KEY": secrets.token_urlsafe(48),
            "TROPA_BLIND_INDEX_KEY": self.blind_index_key,
            "TROPA_FIELD_KEYS": json.dumps({"1": field_key}),
        }

    # ------------------------------------------------------------------ set-up

    @property
    def database_url(self) -> str:
        return _database_url(self.base_database_url, self.database)

    @property
    def redis_url(self) -> str:
        return _redis_url(self.base_redis_url, self.redis_db)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.nginx_port}"

    @property
    def env(self) -> dict[str, str]:
        return (
            _clean_environment()
            | self.keys
            | {
                "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}",
                "PYTHONUNBUFFERED": "1",
                "DJANGO_SETTINGS_MODULE": "tropa.settings",
                "DATABASE_URL": self.database_url,
                "TROPA_REDIS_URL": self.redis_url,
                "TROPA_DATA_DIR": str(self.root / "data"),
                "TROPA_ALLOWED_HOSTS": "127.0.0.1,localhost",
                "TROPA_BEHIND_PROXY": "1",
                # nginx here speaks plain HTTP on loopback; production terminates TLS there.
                "TROPA_SECURE_COOKIES": "0",
                "TROPA_SSL_REDIRECT": "0",
                "TROPA_TELEGRAM_TOKEN": BOT_TOKEN,
                "TROPA_TELEGRAM_API": self.telegram_api,
                "TROPA_TELEGRAM_WEBHOOK_SECRET": self.webhook_secret,
                "TROPA_LOG_LEVEL": "INFO",
            }
        )

    def create(self) -> None:
        """A database and a Redis database of this run's own, migrated."""
        (self.root / "data").mkdir(parents=True, exist_ok=True)
        with psycopg.connect(self.base_database_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{self.database}"')
        import redis

        redis.Redis.from_url(self.redis_url).flushdb()
        self.run_tropa("migrate", "--verbosity", "0", "--no-input")

    def run_tropa(self, *args: str) -> str:
        return self._run([sys.executable, "-m", "tropa.cli", *args])

    def stage(self, *args: str) -> Any:
        """tests/scaleout/stage.py in the cluster's environment; its JSON answer."""
        return json.loads(self._run([sys.executable, "-m", "tests.scaleout.stage", *args]))

    def _run(self, command: list[str]) -> str:
        done = subprocess.run(  # noqa: S603  (our interpreter, our modules)
            command, env=self.env, cwd=REPO, capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise AssertionError(f"{command[2:]} failed:\n{done.stderr[-4000:]}")
        return done.stdout

    # --------------------------------------------------------------- processes

    def _spawn(self, name: str, command: list[str]) -> None:
        log = (self.root / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(  # noqa: S603
            command,
            env=self.env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: gunicorn's children die with it
        )
        log.close()

    def start_web(self, name: str) -> None:
        port = self.web_ports.setdefault(name, free_port())
        tropa = [sys.executable, "-m", "tropa.cli"]
        self._spawn(name, [*tropa, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"])

    def start_worker(self, name: str, *, periodic: bool) -> None:
        """A job worker; as in deploy/systemd, only one enqueues the periodic jobs."""
        command = [sys.executable, "-m", "tropa.cli", "worker", "--workers", "2"]
        self._spawn(name, command if periodic else [*command, "--no-periodic"])

    def start_bot(self, name: str) -> None:
        self._spawn(name, [sys.executable, "-m", "tropa.cli", "bot"])

    def start_nginx(self) -> None:
        prefix = self.root / "nginx"
        prefix.mkdir(exist_ok=True)
        servers = "\n".join(
            f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;"
            for port in self.web_ports.values()
        )
        temp = " ".join(
            f"{kind}_temp_path {prefix / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (prefix / "nginx.conf").write_text(
            f"""daemon off;
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {self.root / "nginx-error.log"} error;
events {{ worker_connections 256; }}
http {{
    access_log off;
    {temp}
    upstream tropa_web {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{self.nginx_port};
        server_name localhost;
        include {REPO / "deploy" / "nginx" / "tropa-locations.conf"};
    }}
}}
"""
        )
        self._spawn("nginx", [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf")])
        wait_for_port(self.nginx_port)

    def freeze(self, name: str) -> None:
        """SIGSTOP the process group: connections are still accepted by the kernel and
        requests sent to it hang, as on a machine that is going down."""
        os.killpg(self.processes[name].pid, signal.SIGSTOP)

    def kill(self, name: str) -> None:
        """SIGKILL the whole process group: no clean-up, no goodbye, as a crash."""
        process = self.processes[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def alive(self, name: str) -> bool:
        return self.processes[name].poll() is None

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGCONT)  # a frozen one must hear the TERM
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def drop(self) -> None:
        with psycopg.connect(self.base_database_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        import redis

        redis.Redis.from_url(self.redis_url).flushdb()

    def logs(self) -> dict[str, str]:
        return {
            path.name: path.read_text(errors="replace") for path in sorted(self.root.glob("*.log"))
        }

    # ------------------------------------------------------------------ reading

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url, autocommit=True) as connection:
            return list(connection.execute(query, params).fetchall())


class Browser:
    """A staff member's browser as far as the test needs one: cookies, forms, no JS."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def request(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str, str]:
        """(status, Location, body) of one request; redirects are not followed."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body)  # noqa: S310  (loopback)
        try:
            with self.opener.open(request, timeout=30) as response:
                return (
                    response.status,
                    response.headers.get("Location", ""),
                    response.read().decode(),
                )
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location", ""), error.read().decode()

    def csrf(self, path: str) -> str:
        status, _, body = self.request(path)
        assert status == 200, (path, status, body[:300])
        marker = 'name="csrfmiddlewaretoken" value="'
        start = body.index(marker) + len(marker)
        return body[start : body.index('"', start)]

    def post(self, path: str, data: dict[str, str], *, form: str | None = None) -> tuple[int, str]:
        token = self.csrf(form or path)
        status, location, _ = self.request(path, {"csrfmiddlewaretoken": token, **data})
        return status, location


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None
