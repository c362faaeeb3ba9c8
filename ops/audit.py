"""``make audit``: pip-audit over requirements.lock, online when its services answer, offline otherwise.

pip-audit (pinned in requirements-audit.lock, in its own virtualenv - see
requirements-audit.in for why) checks every pin of requirements.lock, with
``--strict`` so that a dependency it could not check fails the audit instead
of being skipped. Every finding must be listed in security/vulnerabilities.yml
with the reason it does not apply (or be fixed by a compatible pin); a listed
entry without a reason fails too.

Why an offline mode: on the machines this project builds on, only the package
registries answer. pip-audit's default service asks PyPI for
``/pypi/<name>/<version>/json``, which answers 404 here, so pip-audit reports
every package as "not found on PyPI", *skips it*, and - without ``--strict`` -
prints "No known vulnerabilities found": a green audit that audited nothing.
Its other service, OSV, does not resolve at all. So the audit first tries the
real services; when they cannot be reached it serves the reviewed list in
security/vulnerabilities.yml as a local OSV feed on loopback
(``--vulnerability-service osv --osv-url``) and runs the same pip-audit, with
the same ``--strict``, against it - and says loudly that it did so.

    python -m ops.audit            # online, falling back to offline
    python -m ops.audit --online   # online only: fail when the services are unreachable
    python -m ops.audit --offline  # offline only
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional

import yaml
from packaging.utils import canonicalize_name
from packaging.version import Version

PROJECT = Path(__file__).resolve().parent.parent
LOCK = PROJECT / "requirements.lock"
KNOWN = PROJECT / "security" / "vulnerabilities.yml"
AUDIT_VENV = PROJECT / "build" / "audit-venv"
REPORT_DIR = PROJECT / "build" / "audit"


class AuditError(RuntimeError):
    """The audit could not be run, or the list of known vulnerabilities is invalid."""


@dataclass(frozen=True)
class Known:
    id: str
    aliases: tuple[str, ...]
    package: str
    fixed: str
    summary: str
    accepted: str

    @property
    def ids(self) -> set[str]:
        return {self.id, *self.aliases}

    def osv(self) -> dict[str, Any]:
        """The entry as an OSV record (what api.osv.dev would answer)."""
        return {
            "id": self.id,
            "aliases": list(self.aliases),
            "summary": self.summary,
            "details": self.summary,
            "affected": [
                {
                    "package": {"ecosystem": "PyPI", "name": self.package},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": self.fixed}]}],
                }
            ],
        }

    def affects(self, package: str, version: str) -> bool:
        return canonicalize_name(package) == canonicalize_name(self.package) and Version(version) < Version(self.fixed)


def load_known(path: Path = KNOWN) -> list[Known]:
    data = yaml.safe_load(path.read_text()) or {}
    entries = []
    for raw in data.get("vulnerabilities") or []:
        missing = [k for k in ("id", "package", "fixed") if not raw.get(k)]
        if missing:
            raise AuditError(f"{path.name}: entry {raw!r} lacks {', '.join(missing)}")
        entries.append(
            Known(
                id=str(raw["id"]),
                aliases=tuple(str(a) for a in raw.get("aliases") or ()),
                package=str(raw["package"]),
                fixed=str(raw["fixed"]),
                summary=str(raw.get("summary") or ""),
                accepted=" ".join(str(raw.get("accepted") or "").split()),
            )
        )
    return entries


def pins(path: Path = LOCK) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            found[canonicalize_name(name.strip())] = version.strip()
    return found


# -- the local OSV feed ---------------------------------------------------------------------


class LocalOSV:
    """api.osv.dev's ``/v1/query`` on loopback, answering from the reviewed list."""

    def __init__(self, known: list[Known]) -> None:
        self.known = known
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                query = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                package = (query.get("package") or {}).get("name", "")
                version = query.get("version", "")
                vulns = [k.osv() for k in feed.known if k.affects(package, version)]
                body = json.dumps({"vulns": vulns} if vulns else {}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1/query"

    def __enter__(self) -> LocalOSV:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- running pip-audit ------------------------------------------------------------------------


def pip_audit(service_args: list[str], report: Path) -> tuple[int, Optional[dict[str, Any]], str]:
    executable = AUDIT_VENV / "bin" / "pip-audit"
    if not executable.exists():
        raise AuditError(f"{executable} is missing: run `make audit` (it installs requirements-audit.lock there)")
    report.parent.mkdir(parents=True, exist_ok=True)
    report.unlink(missing_ok=True)
    args = [
        str(executable),
        "--requirement",
        str(LOCK),
        "--no-deps",
        "--disable-pip",
        "--strict",
        "--progress-spinner",
        "off",
        "--format",
        "json",
        "--output",
        str(report),
        "--cache-dir",
        str(REPORT_DIR / "cache"),
        "--timeout",
        "20",
        *service_args,
    ]
    result = subprocess.run(args, capture_output=True, text=True, timeout=900)
    data = json.loads(report.read_text()) if report.exists() and report.stat().st_size else None
    return result.returncode, data, result.stdout + result.stderr


def unreachable(output: str) -> bool:
    """pip-audit's way of saying its service could not be asked (vs. having found something)."""
    markers = ("not found on PyPI and could not be audited", "ConnectionError", "Could not connect", "NameResolutionError")
    return any(m in output for m in markers)


def findings(report: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(d["name"], d.get("version", "?"), v) for d in report.get("dependencies", []) for v in d.get("vulns", [])]


def evaluate(report: dict[str, Any], known: list[Known]) -> list[str]:
    """What fails the audit: findings without an accepted entry, entries without a reason."""
    problems = [f"{k.id} ({k.package}): listed in {KNOWN.name} without a reason (`accepted:`)" for k in known if not k.accepted]
    by_id = {i: k for k in known for i in k.ids}
    for package, version, vuln in findings(report):
        ids = {vuln.get("id", ""), *vuln.get("aliases", [])}
        entry = next((by_id[i] for i in ids if i in by_id), None)
        if entry is None or not entry.accepted:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "none"
            problems.append(
                f"{package}=={version}: {vuln.get('id')} (aliases {', '.join(vuln.get('aliases') or []) or '-'}; "
                f"fixed in {fixes}) - pin a compatible fixed version, or list it in security/{KNOWN.name} with the "
                "reason it does not apply"
            )
    return problems


def print_accepted(report: dict[str, Any], known: list[Known]) -> None:
    by_id = {i: k for k in known for i in k.ids}
    for package, version, vuln in findings(report):
        entry = next((by_id[i] for i in {vuln.get("id", ""), *vuln.get("aliases", [])} if i in by_id), None)
        if entry is not None and entry.accepted:
            print(f"  accepted  {package}=={version}  {entry.id}: {entry.accepted}")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--online", action="store_true", help="fail when pip-audit's services cannot be reached")
    mode.add_argument("--offline", action="store_true", help="only check against security/vulnerabilities.yml")
    args = parser.parse_args(argv)
    try:
        known = load_known()
        locked = pins()
        report: Optional[dict[str, Any]] = None
        if not args.offline:
            code, report, output = pip_audit([], REPORT_DIR / "pip-audit-online.json")
            if unreachable(output):
                if args.online:
                    raise AuditError("pip-audit could not reach its vulnerability service:\n" + output[-2000:])
                print(
                    "pip-audit: PyPI's vulnerability data is unreachable from here (per-release JSON API answers "
                    "404 / connection failed); auditing OFFLINE against security/vulnerabilities.yml "
                    f"(reviewed {yaml.safe_load(KNOWN.read_text()).get('reviewed', '?')}). An online run "
                    "(`python -m ops.audit --online` on a machine that reaches PyPI or OSV) is what finds new advisories."
                )
                report = None
            elif report is None:
                raise AuditError("pip-audit failed:\n" + output[-2000:])
            else:
                print(f"pip-audit: audited {len(locked)} pinned packages online (PyPI advisory data).")
        if report is None:
            with LocalOSV(known) as feed:
                code, report, output = pip_audit(
                    ["--vulnerability-service", "osv", "--osv-url", feed.url], REPORT_DIR / "pip-audit.json"
                )
            if report is None:
                raise AuditError("pip-audit failed against the local feed:\n" + output[-2000:])
            print(f"pip-audit: audited {len(report.get('dependencies', []))} pinned packages offline (local OSV feed).")
        skipped = [d["name"] for d in report.get("dependencies", []) if d.get("skip_reason")]
        if skipped:
            raise AuditError(f"pip-audit could not audit {len(skipped)} packages: {', '.join(skipped[:10])} ...")
        print_accepted(report, known)
        problems = evaluate(report, known)
    except AuditError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if problems:
        print("Dependency audit failed:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    print(f"Dependency audit passed: {len(findings(report))} known vulnerabilities, each listed with why it does not apply.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
