"""deploy/compose.yaml: PostgreSQL 15, PgBouncer in transaction mode, the migration first,
two workers and the API, each Baton service with a pooled DATABASE_URL and a direct
DIRECT_URL; then `docker compose config` when a compose client is on PATH."""

import re
from pathlib import Path
from urllib.parse import urlsplit

from . import durations, grace, tools
from .yamlfiles import load_all

VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def interpolate(value, variables: dict[str, str], missing: set[str]):
    """Compose's ${VAR}, ${VAR:-default}, ${VAR:?error} over every string in the file."""
    if isinstance(value, dict):
        return {key: interpolate(item, variables, missing) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, variables, missing) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match):
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        operator, argument = match.group(2), match.group(3)
        given = variables.get(name)
        if operator in (":-", "-"):
            return given if given else argument
        if given is None and operator in (":?", "?"):
            missing.add(name)
        return given or ""

    return VARIABLE.sub(replace, value)


def environment(service: dict) -> dict[str, str]:
    given = service.get("environment") or {}
    if isinstance(given, list):
        given = dict(item.split("=", 1) if "=" in item else (item, "") for item in given)
    return {str(key): "" if value is None else str(value) for key, value in given.items()}


def command(service: dict) -> list[str]:
    given = service.get("command") or []
    return given.split() if isinstance(given, str) else [str(word) for word in given]


def host(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def check(report, deploy: Path, default_grace_ms: int, run_tools: bool = True) -> None:
    path = deploy / "compose.yaml"
    example = deploy / ".env.example"
    if not example.exists():
        report.problem(example, "is missing (the settings compose.yaml needs, as placeholders)")
    ignore = deploy / ".gitignore"
    if ".env" not in (ignore.read_text().split() if ignore.exists() else []):
        report.problem(ignore, "does not ignore .env, which holds the real passwords")
    if not path.exists():
        report.problem(path, "is missing")
        return
    documents = load_all(report, path)
    if not documents:
        return
    missing: set[str] = set()
    compose = interpolate(documents[0], env_file(example), missing)
    for name in sorted(missing):
        report.problem(example, f"does not set {name}, which compose.yaml requires")
    services = compose.get("services") or {}
    absent = [name for name in ("postgres", "pgbouncer", "migrate", "worker", "api") if name not in services]
    for name in absent:
        report.problem(path, f"has no service {name!r}")
    if absent:
        return
    postgres, pgbouncer = services["postgres"], services["pgbouncer"]

    if not str(postgres.get("image", "")).startswith("postgres:15"):
        report.problem(path, f"postgres: image {postgres.get('image')!r} is not PostgreSQL 15 (postgres:15...)")
    modes = {key: value for key, value in environment(pgbouncer).items() if key.upper().endswith("POOL_MODE")}
    if not modes:
        report.problem(path, "pgbouncer: no pool mode set (POOL_MODE=transaction)")
    for key, value in modes.items():
        if value != "transaction":
            report.problem(path, f"pgbouncer: {key}={value}: Baton's pooled connections are written for "
                                 f"pool_mode=transaction (session pooling ties up a server connection per client)")
    for name in ("postgres", "pgbouncer", "worker", "api"):
        check_healthcheck(report, path, name, services[name])

    migrate = services["migrate"]
    if command(migrate)[:1] != ["migrate"]:
        report.problem(path, "migrate: command is not [\"migrate\"]")
    migrate_env = environment(migrate)
    migrate_url = migrate_env.get("DIRECT_URL") or migrate_env.get("DATABASE_URL", "")
    if host(migrate_url) != "postgres":
        report.problem(path, "migrate: its database URL does not go straight to the postgres service "
                             "(baton migrate works on the direct connection)")
    if str(migrate.get("restart", "no")) != "no":
        report.problem(path, "migrate: restart must be \"no\" (it runs once)")

    for name, subcommand in (("worker", "worker"), ("api", "api")):
        service = services[name]
        env = environment(service)
        if command(service)[:1] != [subcommand]:
            report.problem(path, f"{name}: command is not [\"{subcommand}\"]")
        if host(env.get("DATABASE_URL", "")) != "pgbouncer":
            report.problem(path, f"{name}: DATABASE_URL does not go through the pgbouncer service")
        if "DIRECT_URL" not in env:
            report.problem(path, f"{name}: no DIRECT_URL: LISTEN, session advisory locks and prepared statements "
                                 f"would go through PgBouncer's transaction pooling, which breaks them")
        elif host(env["DIRECT_URL"]) != "postgres":
            report.problem(path, f"{name}: DIRECT_URL does not go straight to the postgres service")
        depends = service.get("depends_on") or {}
        if not isinstance(depends, dict) or (depends.get("migrate") or {}).get("condition") != "service_completed_successfully":
            report.problem(path, f"{name}: does not wait for migrate (depends_on: migrate: condition: service_completed_successfully)")
        grace_ms = default_grace_ms
        if "BATON_SHUTDOWN_GRACE" in env:
            grace_ms = grace.check_explicit(report, path, env["BATON_SHUTDOWN_GRACE"], default_grace_ms)
        period = service.get("stop_grace_period")
        grace.check_stop_timeout(report, path, f"{name}: stop_grace_period {period}",
                                 durations.compose_seconds(period) if period is not None else None, grace_ms)
        if str(service.get("stop_signal", "SIGTERM")) != "SIGTERM":
            report.problem(path, f"{name}: stop_signal is not SIGTERM")

    replicas = (services["worker"].get("deploy") or {}).get("replicas", services["worker"].get("scale", 1))
    if int(replicas) < 2:
        report.problem(path, f"worker: {replicas} replica(s): expected 2")
    api_env = environment(services["api"])
    if api_env.get("BATON_API_HOST") != "0.0.0.0":
        report.problem(path, "api: BATON_API_HOST is not 0.0.0.0 (127.0.0.1 in a container is unreachable from outside it)")
    if not api_env.get("BATON_API_TOKEN"):
        report.problem(path, "api: no BATON_API_TOKEN: anyone who reaches the port could change sessions")

    if run_tools:
        validate(report, path, example)


def check_healthcheck(report, path, name, service) -> None:
    check = service.get("healthcheck") or {}
    if check.get("disable") or not check.get("test"):
        report.problem(path, f"{name}: has no healthcheck")
    elif name == "worker" and "--url" in check["test"]:
        report.problem(path, "worker: its healthcheck asks an HTTP API, which `baton worker` does not serve")


def validate(report, path: Path, example: Path) -> None:
    """compose's own parser and schema: `config -q` (needs no engine)."""
    candidates = []
    if tools.find("docker") and tools.run(["docker", "compose", "version"])[0] == 0:
        candidates.append(["docker", "compose"])
    if tools.find("docker-compose"):
        candidates.append(["docker-compose"])
    if not candidates:
        report.note("skipped: docker compose config (neither `docker compose` nor docker-compose on PATH)")
        return
    client = candidates[0]
    status, output = tools.run([*client, "--project-directory", str(path.parent), "-f", str(path),
                                "--env-file", str(example), "config", "-q"])
    if status != 0:
        said = " ".join(output.split()).replace(str(path.parent), path.parent.name) or f"exited {status}"
        report.problem(path, f"{' '.join(client)} config: {said[:600]}")
    report.note(f"ran: {' '.join(client)} config -q")
