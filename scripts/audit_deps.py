"""`make audit-deps`: pip-audit over the exact pins in pyproject.toml.

The pins (dependencies and every extra) go to pip-audit with --no-deps and
--strict, on the first vulnerability service that answers: OSV, then PyPI's
JSON API (/pypi/NAME/VERSION/json, whose "vulnerabilities" list is the
service pip-audit calls "pypi"). An audit that could not look a package up is a
failure, never a pass.

When no service answers, nothing was audited, and the script says so loudly.
It exits 0 only when CI=true and the cause is the network (a name that does
not resolve, a refused or timed-out connection, or a proxy or mirror that
answers the vulnerability API with an HTTP error): a CI machine without that
access should not block every change, but its log must show that nothing was
checked. Anywhere else (a developer's machine) it fails, so nobody takes
"no output" for "no vulnerabilities".

Exit codes: 0 audited and clean (or the CI network case above), 1 known
vulnerabilities or packages left unaudited, 2 could not audit.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;]+)$")
TIMEOUT_SECONDS = 15


class NotPinned(ValueError):
    pass


@dataclass(frozen=True)
class Probe:
    service: str  # pip-audit's name for it: "osv" or "pypi"
    usable: bool
    why: str  # what was seen, for the log
    network: bool = False  # the failure is the network's (or a proxy's)


def pins(pyproject: Path) -> list[tuple[str, str]]:
    """(name, version) of every requirement, each of which must be an exact pin."""
    project = tomllib.loads(pyproject.read_text())["project"]
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    found = []
    for requirement in requirements:
        match = PIN.match(requirement.replace(" ", ""))
        if match is None:
            raise NotPinned(f"not an exact pin: {requirement!r}")
        found.append((match.group(1), match.group(3)))
    return found


def _fetch(request: urllib.request.Request) -> tuple[int, bytes]:
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
        return response.status, response.read()


def _probe(service: str, request: urllib.request.Request, expect_key: str) -> Probe:
    """One real query for a pinned package; usable if the answer has the expected field."""
    try:
        status, body = _fetch(request)
    except urllib.error.HTTPError as error:
        return Probe(service, False, f"HTTP {error.code} from {request.full_url}", network=True)
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        reason = getattr(error, "reason", error)
        return Probe(service, False, f"{request.full_url}: {reason}", network=True)
    try:
        answer = json.loads(body)
    except ValueError:
        return Probe(service, False, f"{request.full_url} answered {status} without JSON", True)
    if not isinstance(answer, dict) or (expect_key and expect_key not in answer):
        return Probe(service, False, f"{request.full_url} answered without {expect_key!r}", True)
    return Probe(service, True, f"{request.full_url} answered")


def probe_osv(name: str, version: str) -> Probe:
    query = {"package": {"name": name, "ecosystem": "PyPI"}, "version": version}
    request = urllib.request.Request(  # noqa: S310 (a fixed https URL)
        "https://api.osv.dev/v1/query",
        data=json.dumps(query).encode(),
        headers={"Content-Type": "application/json"},
    )
    return _probe("osv", request, "")


def probe_pypi(name: str, version: str) -> Probe:
    request = urllib.request.Request(f"https://pypi.org/pypi/{name}/{version}/json")  # noqa: S310
    return _probe("pypi", request, "vulnerabilities")


def audit(service: str, requirements: Path, *, osv_url: str | None = None) -> int:
    """pip-audit itself; 1 on a known vulnerability or a package it could not look up.
    (`osv_url` lets the tests stand a fake OSV on loopback.)"""
    report = requirements.with_suffix(".json")
    command = [
        *(sys.executable, "-m", "pip_audit", "--requirement", str(requirements)),
        # Exactly the pins, read from the file: no resolver, no virtualenv, no index.
        *("--no-deps", "--disable-pip", "--strict", "--vulnerability-service", service),
        *("--progress-spinner", "off", "--timeout", str(TIMEOUT_SECONDS)),
        *("--format", "json", "--output", str(report)),
        *(("--osv-url", osv_url) if osv_url else ()),
    ]
    result = subprocess.run(command)  # noqa: S603
    if not report.is_file():
        print(f"audit-deps: pip-audit stopped (exit {result.returncode})", file=sys.stderr)
        return 1
    return summarise(json.loads(report.read_text())["dependencies"])


def summarise(dependencies: list[dict[str, Any]]) -> int:
    """Print every finding and every package not looked up; 0 only if neither."""
    problems = 0
    for dependency in dependencies:
        label = f"{dependency['name']}=={dependency.get('version', '?')}"
        if "skip_reason" in dependency:
            print(f"NOT AUDITED: {label}: {dependency['skip_reason']}", file=sys.stderr)
            problems += 1
        for vuln in dependency.get("vulns") or []:
            fixes = ", ".join(vuln.get("fix_versions", [])) or "none yet"
            print(f"VULNERABLE: {label}: {vuln['id']} (fixed in {fixes})", file=sys.stderr)
            problems += 1
    if not problems:
        print(f"audit-deps: {len(dependencies)} pinned packages audited, no known vulnerability")
    return 1 if problems else 0


def could_not_audit(probes: list[Probe], *, ci: bool) -> int:
    lines = [
        "=" * 72,
        "COULD NOT AUDIT: no vulnerability service is reachable from this machine.",
        "Nothing was checked; this is not a pass.",
        *(f"  {probe.service}: {probe.why}" for probe in probes),
    ]
    network = all(probe.network for probe in probes)
    if ci and network:
        lines.append("CI=true and the cause is the network: exiting 0 (see scripts/audit_deps.py).")
    else:
        lines.append("Run it where OSV or PyPI's JSON API is reachable.")
    print("\n".join([*lines, "=" * 72]), file=sys.stderr)
    return 0 if ci and network else 2


def main() -> int:
    try:
        pinned = pins(ROOT / "pyproject.toml")
    except NotPinned as error:
        print(f"audit-deps: {error}", file=sys.stderr)
        return 1
    name, version = pinned[0]  # Django: a package both services know
    probes = []
    for probe_service in (probe_osv, probe_pypi):
        probe = probe_service(name, version)
        print(f"audit-deps: {probe.service}: {probe.why}")
        if probe.usable:
            with tempfile.TemporaryDirectory(prefix="tropa-audit-") as folder:
                requirements = Path(folder) / "requirements.txt"
                requirements.write_text("".join(f"{n}=={v}\n" for n, v in pinned))
                return audit(probe.service, requirements)
        probes.append(probe)
    return could_not_audit(probes, ci=os.environ.get("CI", "").lower() == "true")


if __name__ == "__main__":
    sys.exit(main())
