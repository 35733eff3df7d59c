"""`check.py --self-test`: proves the checks can fail. It copies deploy/ to a temporary
folder, breaks one thing at a time, and requires each break to be reported as a problem
naming the broken file. An unbroken copy must pass first."""

import shutil
import tempfile
from pathlib import Path

import yaml

from . import tools
from .run import run_all


def text_edit(old: str, new: str):
    def edit(text: str) -> str:
        if old not in text:
            raise LookupError(f"the self-test's break no longer applies: {old!r} is not in the file")
        return text.replace(old, new, 1)
    return edit


def yaml_edit(change):
    """Loads every document, lets `change` alter them, writes them back (comments are lost)."""
    def edit(text: str) -> str:
        documents = list(yaml.safe_load_all(text))
        change(documents)
        return yaml.safe_dump_all(documents, sort_keys=False)
    return edit


def container(documents, index=0):
    return documents[index]["spec"]["template"]["spec"]["containers"][0]


def env_entry(documents, name):
    return next(v for v in container(documents)["env"] if v["name"] == name)


def set_env(name, value):
    def change(documents):
        env_entry(documents, name).update(value)
    return change


def drop_lines(*prefixes):
    def edit(text: str) -> str:
        kept = [line for line in text.splitlines() if not line.startswith(prefixes)]
        if len(kept) == len(text.splitlines()):
            raise LookupError(f"the self-test's break no longer applies: no line starts with {prefixes}")
        return "\n".join(kept) + "\n"
    return edit


def compose_service(name, change):
    def apply(documents):
        change(documents[0]["services"][name])
    return apply


# (what is broken, file, edit, what must be reported, tool it needs or None). What must be
# reported is a text that a problem in the broken file must contain, or a list of
# (file, text) when the break shows in other files too.
BREAKS = [
    ("the API's readiness probe removed", "kubernetes/api-deployment.yaml",
     yaml_edit(lambda d: container(d).pop("readinessProbe")), "readinessProbe", None),
    ("the workers' terminationGracePeriodSeconds set to 10", "kubernetes/worker-deployment.yaml",
     yaml_edit(lambda d: d[0]["spec"]["template"]["spec"].update(terminationGracePeriodSeconds=10)),
     "terminationGracePeriodSeconds 10", None),
    ("the API's termination grace forgets its preStop hook (42 s: enough without it)", "kubernetes/api-deployment.yaml",
     yaml_edit(lambda d: d[0]["spec"]["template"]["spec"].update(terminationGracePeriodSeconds=42)), "preStop 5 s", None),
    ("one worker replica", "kubernetes/worker-deployment.yaml",
     yaml_edit(lambda d: d[0]["spec"].update(replicas=1)), "worker replica", None),
    ("runAsNonRoot removed from the worker pods", "kubernetes/worker-deployment.yaml",
     yaml_edit(lambda d: d[0]["spec"]["template"]["spec"]["securityContext"].pop("runAsNonRoot")), "runAsNonRoot", None),
    ("the workers read a Secret key that does not exist", "kubernetes/worker-deployment.yaml",
     yaml_edit(set_env("DIRECT_URL", {"valueFrom": {"secretKeyRef": {"name": "baton-secrets", "key": "DIRECT_URI"}}})),
     "'DIRECT_URI'", None),
    ("the worker API listens on 127.0.0.1, out of the probes' reach", "kubernetes/worker-deployment.yaml",
     yaml_edit(set_env("BATON_API_HOST", {"value": "127.0.0.1"})), "BATON_API_HOST", None),
    ("the API Service selects the workers", "kubernetes/api-service.yaml",
     yaml_edit(lambda d: d[0]["spec"]["selector"].update({"app.kubernetes.io/component": "worker"})), "baton-worker", None),
    ("the workers' PodDisruptionBudget selects nothing", "kubernetes/poddisruptionbudgets.yaml",
     yaml_edit(lambda d: d[0]["spec"]["selector"]["matchLabels"].update({"app.kubernetes.io/component": "workers"})),
     "matches 0", None),
    ("a longer grace in the ConfigMap than the pods' termination grace allows", "kubernetes/configmap.yaml",
     yaml_edit(lambda d: d[0]["data"].update(BATON_SHUTDOWN_GRACE="60000")),
     [("kubernetes/configmap.yaml", "BATON_SHUTDOWN_GRACE=60000"),
      ("kubernetes/worker-deployment.yaml", "terminationGracePeriodSeconds 45 is 45 s: it must be at least 70 s")], None),
    ("the migration Job pinned to a namespace", "kubernetes/migrate-job.yaml",
     yaml_edit(lambda d: d[0]["metadata"].update(namespace="production")), "namespace", None),
    ("the kustomization forgets the workers", "kubernetes/kustomization.yaml",
     yaml_edit(lambda d: d[0]["resources"].remove("worker-deployment.yaml")), "does not list worker-deployment.yaml", None),
    ("the migration Job reads the ConfigMap", "kubernetes/migrate-job.yaml",
     yaml_edit(lambda d: container(d).setdefault("envFrom", []).append({"configMapRef": {"name": "baton-config"}})),
     "cannot be applied on its own", None),
    ("the kustomization's images entry names another image", "kubernetes/kustomization.yaml",
     yaml_edit(lambda d: d[0]["images"][0].update(name="baton-server")), "keeps the image", "kubectl"),
    ("a field Kubernetes does not know", "kubernetes/worker-deployment.yaml",
     yaml_edit(lambda d: d[0]["spec"].update(replica=2)), "schema", "kubernetes-validate"),
    ("PgBouncer in session pooling", "compose.yaml",
     yaml_edit(compose_service("pgbouncer", lambda s: s["environment"].update(POOL_MODE="session"))),
     "pool_mode=transaction", None),
    ("the workers without DIRECT_URL", "compose.yaml",
     yaml_edit(compose_service("worker", lambda s: s["environment"].pop("DIRECT_URL"))), "no DIRECT_URL", None),
    ("the workers' stop_grace_period shorter than the grace", "compose.yaml",
     yaml_edit(compose_service("worker", lambda s: s.update(stop_grace_period="20s"))), "stop_grace_period 20s", None),
    ("the API does not wait for the migration", "compose.yaml",
     yaml_edit(compose_service("api", lambda s: s["depends_on"].pop("migrate"))), "does not wait for migrate", None),
    ("a password written into compose.yaml", "compose.yaml",
     yaml_edit(compose_service("api", lambda s: s["environment"].update(
         DATABASE_URL="postgresql://baton:hunter2@pgbouncer:6432/baton"))), "password", None),
    ("a key compose does not know", "compose.yaml",
     yaml_edit(compose_service("api", lambda s: s.update(stop_grace_perod="45s"))), "config", "compose"),
    ("TimeoutStopSec=5 for the worker", "systemd/baton-worker.service",
     text_edit("TimeoutStopSec=45s", "TimeoutStopSec=5"), "TimeoutStopSec=5", None),
    ("KillMode=mixed removed from the worker", "systemd/baton-worker.service",
     drop_lines("KillMode="), "KillMode", None),
    ("NoNewPrivileges removed from the API", "systemd/baton-api.service",
     drop_lines("NoNewPrivileges="), "NoNewPrivileges", None),
    ("the migration no longer oneshot", "systemd/baton-migrate.service",
     text_edit("Type=oneshot", "Type=simple"), "oneshot", None),
    ("a value systemd cannot parse", "systemd/baton-api.service",
     text_edit("RestartSec=5s", "RestartSec=soon"), "systemd-analyze verify", "systemd-analyze"),
    ("most of the sandbox removed", "systemd/baton-worker.service",
     drop_lines("PrivateDevices=", "ProtectKernel", "ProtectControlGroups=", "ProtectClock=", "ProtectHostname=",
                "ProtectProc=", "RestrictNamespaces=", "RestrictRealtime=", "RestrictSUIDSGID=",
                "MemoryDenyWriteExecute=", "SystemCallArchitectures=", "SystemCallFilter=~", "UMask="),
     "systemd-analyze security", "systemd-analyze"),
    ("a longer grace in the env file than TimeoutStopSec allows", "systemd/baton.env.example",
     text_edit("BATON_SHUTDOWN_GRACE=30000", "BATON_SHUTDOWN_GRACE=60000"),
     [("systemd/baton.env.example", "BATON_SHUTDOWN_GRACE=60000"),
      ("systemd/baton-worker.service", "TimeoutStopSec=45s is 45 s: it must be at least 70 s")], None),
    ("USER removed from the image", "Containerfile", drop_lines("USER "), "no USER", None),
    ("USER by name", "Containerfile", text_edit("USER 10001:10001", "USER baton"), "not numeric", None),
    ("one stage only", "Containerfile", text_edit("FROM swift:6.3-bookworm AS build", "# no build stage"), "stage", None),
    ("the runtime on full Debian", "Containerfile",
     text_edit("FROM debian:bookworm-slim", "FROM debian:bookworm"), "debian:bookworm-slim", None),
    ("curl in the runtime image", "Containerfile",
     text_edit("libpq5 ca-certificates", "libpq5 ca-certificates curl"), "installs curl", None),
    ("a database URL baked into the image", "Containerfile",
     text_edit("ENV BATON_API_HOST=0.0.0.0", "ENV DATABASE_URL=postgresql://db/baton BATON_API_HOST=0.0.0.0"),
     "never in the image", None),
    ("HEALTHCHECK removed", "Containerfile",
     text_edit("HEALTHCHECK", "# HEALTHCHECK"), "HEALTHCHECK", None),
]


def tool_available(tool) -> bool:
    if tool == "kubernetes-validate":
        try:
            import kubernetes_validate  # noqa: F401
            return True
        except ImportError:
            return False
    if tool == "compose":
        return bool(tools.find("docker-compose")) or (
            bool(tools.find("docker")) and tools.run(["docker", "compose", "version"])[0] == 0)
    return bool(tools.find(tool))


def self_test(deploy: Path, repository: Path) -> int:
    failures = 0
    with tempfile.TemporaryDirectory(prefix="baton-deploy-self-test-") as scratch:
        pristine = Path(scratch) / "pristine" / "deploy"
        shutil.copytree(deploy, pristine, ignore=shutil.ignore_patterns("__pycache__"))
        baseline = run_all(pristine, repository)
        if baseline.problems:
            print("self-test: FAILED: the unbroken copy already has problems:")
            for problem in baseline.problems:
                print("  " + problem)
            return 1
        print("self-test: the unbroken copy passes")
        extra = Path(scratch) / "extra" / "deploy"
        shutil.copytree(pristine, extra)
        (extra / "kubernetes" / "unexplained.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
        cases = BREAKS + [("a manifest nobody explains", None, None,
                           [("README.md", "does not mention kubernetes/unexplained.yaml")], None)]
        for number, (what, file, edit, expected, tool) in enumerate(cases, 1):
            if tool and not tool_available(tool):
                print(f"self-test: skipped ({tool} is not installed): {what}")
                continue
            copy = extra
            if file:
                copy = Path(scratch) / f"break-{number}" / "deploy"
                shutil.copytree(pristine, copy)
                target = copy / file
                try:
                    target.write_text(edit(target.read_text()))
                except (LookupError, KeyError, ValueError, StopIteration) as error:
                    print(f"self-test: FAILED: {what}: cannot break {file}: {error}")
                    failures += 1
                    continue
            found = run_all(copy, repository, run_tools=tool is not None).problems
            wanted = expected if isinstance(expected, list) else [(file, expected)]
            missing = [(where, text) for where, text in wanted
                       if not any(p.startswith(f"deploy/{where}:") and text in p for p in found)]
            if not missing:
                hits = [p for p in found if any(p.startswith(f"deploy/{where}:") and text in p for where, text in wanted)]
                print(f"self-test: reported: {what}: " + "\n    and: ".join(hits))
            else:
                failures += 1
                print(f"self-test: FAILED: {what}: " + "; ".join(f"no problem in deploy/{where} mentions {text!r}"
                                                              for where, text in missing) + "; got:")
                for problem in found or ["(no problems at all)"]:
                    print("  " + problem)
    total = len(BREAKS) + 1
    print(f"self-test: {total - failures} of {total} breaks handled, {failures} not reported")
    return 1 if failures else 0
