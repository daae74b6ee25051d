"""`make audit-deps` (scripts/audit_deps.py): pip-audit over the pins, which
never reports a pass it did not earn. The vulnerability services are stood in
by a loopback HTTP server, so these tests run without the network."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_deps", ROOT / "scripts" / "audit_deps.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["audit_deps"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


audit_deps = _script()


class FakeServices(BaseHTTPRequestHandler):
    """OSV's /v1/query and PyPI's /pypi/NAME/VERSION/json, as the test sets them."""

    vulnerable: set[str] = set()
    status = 200

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        name = query["package"]["name"].lower()
        vulns = (
            [
                {
                    "id": "GHSA-test-0000-0000",
                    "modified": "2026-01-01T00:00:00Z",
                    "summary": "synthetic",
                    "affected": [
                        {
                            "package": {"name": name, "ecosystem": "PyPI"},
                            "ranges": [
                                {
                                    "type": "ECOSYSTEM",
                                    "events": [{"introduced": "0"}, {"fixed": "99.0"}],
                                }
                            ],
                        }
                    ],
                }
            ]
            if name in self.vulnerable
            else []
        )
        self._answer({"vulns": vulns} if vulns else {})

    def do_GET(self) -> None:  # noqa: N802
        self._answer({"info": {}, "vulnerabilities": []})

    def _answer(self, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def services(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    # pip-audit runs in a subprocess, beyond the socket guard: any proxy-aware
    # request of its own that is not for loopback goes to a closed port.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    FakeServices.vulnerable = set()
    FakeServices.status = 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeServices)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_every_requirement_is_an_exact_pin_and_pip_audit_is_one() -> None:
    pinned = dict(audit_deps.pins(ROOT / "pyproject.toml"))
    assert pinned["Django"]
    assert pinned["pip-audit"]  # in the test extra


def test_a_loose_requirement_is_refused(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\ndependencies = ["Django>=5"]\n')
    with pytest.raises(audit_deps.NotPinned):
        audit_deps.pins(pyproject)


def _requirements(tmp_path: Path) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text("Django==5.2.19\nPyYAML==6.0.4\n")
    return path


def test_a_known_vulnerability_fails_the_audit(
    services: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    FakeServices.vulnerable = {"django"}
    code = audit_deps.audit("osv", _requirements(tmp_path), osv_url=f"{services}/v1/query")
    assert code == 1
    assert "VULNERABLE: django==5.2.19: GHSA-test-0000-0000" in capsys.readouterr().err


def test_a_clean_audit_passes_and_says_how_many(
    services: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = audit_deps.audit("osv", _requirements(tmp_path), osv_url=f"{services}/v1/query")
    assert code == 0
    out = capsys.readouterr().out
    assert "audit-deps: 2 pinned packages audited, no known vulnerability" in out


def test_a_package_the_service_could_not_look_up_is_not_a_pass(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = audit_deps.summarise(
        [{"name": "django", "version": "5.2.19", "skip_reason": "Dependency not found on PyPI"}]
    )
    assert code == 1
    assert "NOT AUDITED: django==5.2.19" in capsys.readouterr().err


def test_probes_tell_a_working_api_from_a_proxy_without_it(services: str) -> None:
    import urllib.request

    def probe(path: str) -> Any:
        request = urllib.request.Request(f"{services}{path}")  # noqa: S310 (loopback)
        return audit_deps._probe("pypi", request, "vulnerabilities")

    assert probe("/pypi/Django/5.2.19/json").usable
    FakeServices.status = 404  # what this machine's PyPI proxy answers
    missing = probe("/pypi/Django/5.2.19/json")
    assert not missing.usable and missing.network and "HTTP 404" in missing.why
    closed = audit_deps._probe(
        "osv", urllib.request.Request("http://127.0.0.1:9/v1/query", data=b"{}"), ""
    )
    assert not closed.usable and closed.network


@pytest.mark.parametrize(
    ("ci", "network", "code"),
    [(True, True, 0), (False, True, 2), (True, False, 2), (False, False, 2)],
)
def test_could_not_audit_passes_only_in_ci_and_only_for_the_network(
    ci: bool, network: bool, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    probes = [
        audit_deps.Probe("osv", False, "name does not resolve", network=True),
        audit_deps.Probe("pypi", False, "answered without the field", network=network),
    ]
    assert audit_deps.could_not_audit(probes, ci=ci) == code
    assert "COULD NOT AUDIT" in capsys.readouterr().err
