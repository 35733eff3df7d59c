"""deploy/systemd: the three units (migrate, worker, api) and their env-file example:
hardening, graceful stop, ordering; then `systemd-analyze verify` and its offline security
review when systemd-analyze is on PATH."""

import re
import tempfile
from pathlib import Path

from . import durations, grace, tools

BINARY = "/usr/local/bin/baton"
# Each unit and the subcommands it may run (`start` is worker and API in one process).
UNITS = {"baton-migrate.service": {"migrate"}, "baton-worker.service": {"worker", "start"},
         "baton-api.service": {"api", "start"}}
# Every unit runs in this sandbox (values as systemd spells them; sets for lists).
HARDENING = {
    "DynamicUser": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "NoNewPrivileges": "yes",
    "LockPersonality": "yes",
    "CapabilityBoundingSet": "",
    "RestrictAddressFamilies": {"AF_UNIX", "AF_INET", "AF_INET6"},
}
# Highest overall exposure `systemd-analyze security` may give (it scores 0-10; these score 1.5).
EXPOSURE_LIMIT = 2.0


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """Sections -> key -> every value given (systemd lets a key repeat; an empty value resets)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
        elif "=" in line and current is not None:
            key, _, value = line.partition("=")
            current.setdefault(key.strip(), []).append(value.strip())
    return sections


def last(unit, section, key) -> str | None:
    values = unit.get(section, {}).get(key)
    return values[-1] if values else None


def env_file(path: Path) -> dict[str, str]:
    values = {}
    if path.exists():
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, _, value = line.partition("=")
                values[key.strip()] = value.strip().strip('"')
    return values


def check(report, deploy: Path, default_grace_ms: int, run_tools: bool = True) -> None:
    folder = deploy / "systemd"
    example = folder / "baton.env.example"
    if not example.exists():
        report.problem(example, "is missing")
    environment = env_file(example)
    for name in ("DATABASE_URL", "DIRECT_URL", "BATON_HANDLER"):
        if name not in environment:
            report.problem(example, f"does not set {name}")
    grace_ms = default_grace_ms
    if "BATON_SHUTDOWN_GRACE" in environment:
        grace_ms = grace.check_explicit(report, example, environment["BATON_SHUTDOWN_GRACE"], default_grace_ms)

    found = []
    for name, commands in UNITS.items():
        path = folder / name
        if not path.exists():
            report.problem(path, "is missing")
            continue
        found.append(path)
        unit = parse_unit(path.read_text())
        service = unit.get("Service", {})
        exec_start = (last(unit, "Service", "ExecStart") or "").split()
        if exec_start[:1] != [BINARY] or not set(exec_start[1:2]) & commands:
            report.problem(path, f"ExecStart is not `{BINARY} {' | '.join(sorted(commands))}`")
        if not service.get("EnvironmentFile"):
            report.problem(path, "has no EnvironmentFile= (DATABASE_URL and the other settings)")
        for key, wanted in HARDENING.items():
            value = last(unit, "Service", key)
            if value is None:
                report.problem(path, f"does not set {key}= (hardening)")
            elif isinstance(wanted, set):
                given = set(" ".join(service[key]).split())
                if given != wanted:
                    report.problem(path, f"{key}={' '.join(sorted(given))}: expected {' '.join(sorted(wanted))}")
            elif value != wanted:
                report.problem(path, f"{key}={value}: expected {key}={wanted}")
        if "@system-service" not in " ".join(service.get("SystemCallFilter", [])).split():
            report.problem(path, "SystemCallFilter= does not allow only @system-service")
        if "Install" not in unit:
            report.problem(path, "has no [Install] section (systemctl enable)")

        if commands == {"migrate"}:
            if last(unit, "Service", "Type") != "oneshot":
                report.problem(path, "is not Type=oneshot")
            continue
        after = " ".join(unit.get("Unit", {}).get("After", [])).split()
        wants = " ".join(unit.get("Unit", {}).get("Wants", []) + unit.get("Unit", {}).get("Requires", [])).split()
        if "baton-migrate.service" not in after or "baton-migrate.service" not in wants:
            report.problem(path, "does not come After= baton-migrate.service (with Wants= or Requires=)")
        if last(unit, "Service", "Restart") != "on-failure":
            report.problem(path, "Restart= is not on-failure")
        if last(unit, "Service", "RestartSec") is None:
            report.problem(path, "has no RestartSec=")
        if last(unit, "Service", "KillSignal") != "SIGTERM":
            report.problem(path, "KillSignal= is not SIGTERM (Baton's graceful stop)")
        # control-group (the default) would SIGTERM the handlers too, at once, instead of
        # letting baton give them the grace.
        if last(unit, "Service", "KillMode") != "mixed":
            report.problem(path, "KillMode= is not mixed: the handlers would get SIGTERM together with baton")
        timeout = last(unit, "Service", "TimeoutStopSec")
        grace.check_stop_timeout(report, path, f"TimeoutStopSec={timeout}",
                                 durations.systemd_seconds(timeout) if timeout else None, grace_ms)

    if run_tools and found:
        analyze(report, found)


def analyze(report, units: list[Path]) -> None:
    program = tools.find("systemd-analyze")
    if not program:
        report.note("skipped: systemd-analyze verify and security (no systemd-analyze on PATH)")
        return
    # `verify` insists that ExecStart's program exists and is executable, and baton is not
    # installed here. --root= does not help (it then also looks for systemd's own units, such
    # as sysinit.target, under that root), so the units are verified as copies in a temporary
    # folder whose only change is ExecStart pointing at an executable stand-in.
    with tempfile.TemporaryDirectory(prefix="baton-units-") as scratch:
        stand_in = Path(scratch) / "baton"
        stand_in.write_text("#!/bin/sh\nexit 0\n")
        stand_in.chmod(0o755)
        copies = {}
        for unit in units:
            copy = Path(scratch) / unit.name
            copy.write_text(unit.read_text().replace(BINARY, str(stand_in)))
            copies[copy.name] = unit
        status, output = tools.run([program, "verify", "--man=no", *(str(Path(scratch) / name) for name in copies)],
                                   cwd=scratch)
        # verify exits 0 on unknown keys and bad values, but says so: any output is a problem.
        for line in output.splitlines():
            if line.strip():
                name = line.split(":", 1)[0].rsplit("/", 1)[-1]
                report.problem(copies.get(name, units[0]), "systemd-analyze verify: " + line.replace(scratch + "/", ""))
        if status != 0 and not output.strip():
            report.problem(units[0], f"systemd-analyze verify exited {status}")
        for name, unit in copies.items():
            status, output = tools.run([program, "security", "--offline=yes", "--no-pager",
                                        f"--threshold={int(EXPOSURE_LIMIT * 10)}", str(Path(scratch) / name)],
                                       cwd=scratch)
            level = re.search(r"Overall exposure level for [^:]*: ([\d.]+)", output)
            if status != 0:
                found = f"exposure {level.group(1)}" if level else output.strip()[-200:]
                report.problem(unit, f"systemd-analyze security: {found}, above {EXPOSURE_LIMIT}: the sandbox lost some of its hardening")
    report.note(f"ran: systemd-analyze verify and security --offline on {len(units)} units")
