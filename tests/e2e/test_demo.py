"""`make demo` brings up a working login page and a 2FA-protected staff home (real server)."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from tests.e2e.conftest import DemoServer

pytestmark = pytest.mark.server


def _get(url: str) -> tuple[int, dict[str, str], str]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:  # noqa: S310 (loopback only)
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def test_demo_prints_a_login_with_totp_for_every_demo_account(demo_server: DemoServer) -> None:
    assert set(demo_server.totp_secrets) >= {"coordinator", "legal", "visa"}
    assert any("Web app: http://127.0.0.1:" in line for line in demo_server.output)


def test_login_page_is_served_in_russian_with_strict_headers(demo_server: DemoServer) -> None:
    status, headers, body = _get(demo_server.url + "/accounts/login/")
    assert status == 200
    assert "Войти" in body
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"


def test_staff_home_needs_login(demo_server: DemoServer) -> None:
    status, headers, _ = _get(demo_server.url + "/accounts/home/")
    assert status == 302
    assert headers["Location"] == "/accounts/login/"


def test_static_files_are_served_by_the_app(demo_server: DemoServer) -> None:
    status, headers, body = _get(demo_server.url + "/static/tropa/tropa.css")
    assert status == 200
    assert "Mobile first" in body
