"""All the checks over one deploy/ folder."""

from pathlib import Path

from . import compose, containerfile, grace, kubernetes, readme, secrets, systemd, yamlfiles
from .report import Report


def run_all(deploy: Path, repository: Path, run_tools: bool = True) -> Report:
    report = Report(deploy)
    default_ms = grace.default_grace_ms(repository)
    if default_ms is None:
        report.problem(repository / grace.OPTIONS, "has no default for BATON_SHUTDOWN_GRACE that the checks can read")
        return report
    report.note(f"BATON_SHUTDOWN_GRACE default: {default_ms} ms ({grace.OPTIONS})")
    yamlfiles.check(report, deploy)
    secrets.check(report, deploy)
    readme.check(report, deploy)
    containerfile.check(report, deploy)
    compose.check(report, deploy, default_ms, run_tools)
    systemd.check(report, deploy, default_ms, run_tools)
    kubernetes.check(report, deploy, default_ms, run_tools)
    return report
