"""deploy/Containerfile: a Swift build stage and a small Debian runtime stage that runs baton
as a numeric non-root user, with the health check, port and stop signal Baton needs."""

import json
import re
import shlex
from pathlib import Path

RUNTIME_PACKAGES = {"libpq5", "ca-certificates"}
SECRET_NAMES = re.compile(r"PASSWORD|TOKEN|SECRET|DATABASE_URL|DIRECT_URL", re.IGNORECASE)


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    result, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = pending + stripped
        pending = ""
        keyword, _, rest = whole.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def words(arguments: str) -> list[str]:
    """Exec form (a JSON list) or shell form."""
    if arguments.startswith("["):
        try:
            return [str(word) for word in json.loads(arguments)]
        except ValueError:
            return []
    return shlex.split(arguments)


def check(report, deploy: Path) -> None:
    path = deploy / "Containerfile"
    if not path.exists():
        report.problem(path, "is missing")
        return
    steps = instructions(path.read_text())
    stages: list[list[tuple[str, str]]] = []
    for keyword, arguments in steps:
        if keyword == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((keyword, arguments))
    if len(stages) < 2:
        report.problem(path, f"has {len(stages)} stage(s): it must build in one stage and run in another (2+ FROM)")
        return
    build, runtime = stages[0], stages[-1]
    build_image = build[0][1].split()[0]
    runtime_image = runtime[0][1].split()[0]

    if not re.fullmatch(r"swift:6[.\d]*-(bookworm|jammy|noble)", build_image):
        report.problem(path, f"the build stage is FROM {build_image}: expected the official swift:6.x image on Debian or Ubuntu")
    build_runs = " ".join(arguments for keyword, arguments in build if keyword == "RUN")
    if "libpq-dev" not in build_runs:
        report.problem(path, "the build stage does not install libpq-dev")
    for flag in ("swift build", "-c release", "--product baton", "--static-swift-stdlib"):
        if flag not in build_runs:
            report.problem(path, f"the build stage does not run `swift build -c release --product baton --static-swift-stdlib` (no {flag!r})")

    if runtime_image != "debian:bookworm-slim":
        report.problem(path, f"the runtime stage is FROM {runtime_image}: expected debian:bookworm-slim")
    # The binary needs the glibc it was linked against: build and run on the same release.
    if "bookworm" in runtime_image and not build_image.endswith("-bookworm"):
        report.problem(path, f"the build stage ({build_image}) is not Debian bookworm like the runtime ({runtime_image})")
    for keyword, arguments in runtime:
        if keyword == "RUN" and "apt-get install" in arguments:
            installed = re.split(r"&&|;", arguments.split("apt-get install", 1)[1])[0].split()
            extra = sorted({word for word in installed if not word.startswith("-")} - RUNTIME_PACKAGES)
            if extra:
                report.problem(path, f"the runtime stage installs {', '.join(extra)}: only {', '.join(sorted(RUNTIME_PACKAGES))} belong there")

    users = [arguments for keyword, arguments in runtime if keyword == "USER"]
    if not users:
        report.problem(path, "the runtime stage has no USER: baton would run as root")
    else:
        user = users[-1].split(":")[0]
        if not user.isdigit():
            report.problem(path, f"USER {users[-1]} is not numeric: Kubernetes' runAsNonRoot cannot verify a user name")
        elif int(user) == 0:
            report.problem(path, "USER 0 is root")

    def last(keyword):
        found = [arguments for k, arguments in runtime if k == keyword]
        return found[-1] if found else None

    entrypoint = words(last("ENTRYPOINT") or "")
    if not entrypoint or Path(entrypoint[0]).name != "baton":
        report.problem(path, "ENTRYPOINT is not baton")
    if words(last("CMD") or "") != ["start"]:
        report.problem(path, "CMD is not [\"start\"] (worker and API in one process by default)")
    if "8080" not in (last("EXPOSE") or "").replace("/tcp", "").split():
        report.problem(path, "does not EXPOSE 8080")
    if (last("STOPSIGNAL") or "") != "SIGTERM":
        report.problem(path, "STOPSIGNAL is not SIGTERM (Baton's graceful stop)")
    health = last("HEALTHCHECK") or ""
    if not re.search(r"baton\"?,?\s*\"?health\"?,?\s*\"?--url\"?,?\s*\"?http://127\.0\.0\.1:8080", health):
        report.problem(path, "has no HEALTHCHECK running `baton health --url http://127.0.0.1:8080`")
    if not any(keyword == "COPY" and "--from=" in arguments and "baton" in arguments for keyword, arguments in runtime):
        report.problem(path, "the runtime stage does not COPY the baton binary from the build stage")

    for keyword, arguments in steps:
        if keyword in ("ENV", "ARG") and SECRET_NAMES.search(arguments):
            report.problem(path, f"{keyword} {arguments.split()[0]}: secrets and database URLs belong in the "
                                 f"environment at run time, never in the image")
