"""deploy/kubernetes: the manifests fit together (selectors, ports, Secret and ConfigMap
references, the kustomization), each workload runs hardened with probes on /healthz and a
termination grace above Baton's shutdown grace; then the Kubernetes API schemas (strict),
when the kubernetes-validate package is installed."""

import base64
from pathlib import Path

import yaml

from . import grace, tools
from .secrets import PLACEHOLDER
from .yamlfiles import load_all

SECRET_EXAMPLE = "secret.example.yaml"
KUSTOMIZATION = "kustomization.yaml"
# The oldest Kubernetes these manifests are meant for, and the newest schema the package has.
SCHEMA_VERSIONS = ("1.29.0", "newest")
SECRET_WORDS = ("PASSWORD", "TOKEN", "SECRET", "DATABASE_URL", "DIRECT_URL")


class Manifests:
    """Every document of deploy/kubernetes, by kind, with the file it came from."""

    def __init__(self, report, folder: Path):
        self.documents: list[tuple[Path, dict]] = []
        for path in sorted(folder.glob("*.yaml")):
            for document in load_all(report, path) or []:
                if not isinstance(document, dict):
                    report.problem(path, "a document is not a mapping")
                    continue
                self.documents.append((path, document))

    def of(self, kind: str) -> list[tuple[Path, dict]]:
        return [(path, document) for path, document in self.documents if document.get("kind") == kind]


def label(document: dict) -> str:
    return f"{document.get('kind')} {document.get('metadata', {}).get('name')}"


def subcommand(container: dict) -> str:
    """What `baton` runs in the container: its first argument, or the image's CMD (start)."""
    words = container.get("args") or (container.get("command") or [])[1:]
    return str(words[0]) if words else "start"


def pod_spec(document: dict) -> dict:
    return ((document.get("spec") or {}).get("template") or {}).get("spec") or {}


def template_labels(document: dict) -> dict:
    return (((document.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}


def selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


def check(report, deploy: Path, default_grace_ms: int, run_tools: bool = True) -> None:
    folder = deploy / "kubernetes"
    manifests = Manifests(report, folder)
    secrets = check_secrets(report, folder, manifests)
    config_maps = check_config_maps(report, manifests, default_grace_ms)
    check_kustomization(report, folder, manifests)

    for path, document in manifests.documents:
        if document.get("kind") == "Kustomization":
            continue
        for field in ("apiVersion", "kind"):
            if not document.get(field):
                report.problem(path, f"a document has no {field}")
        metadata = document.get("metadata") or {}
        if not metadata.get("name"):
            report.problem(path, f"{label(document)}: no metadata.name")
        if "namespace" in metadata:
            report.problem(path, f"{label(document)}: sets a namespace; the manifests are namespace-agnostic (kubectl -n)")

    deployments = manifests.of("Deployment")
    for path, document in deployments + manifests.of("Job"):
        check_workload(report, path, document, secrets, config_maps, default_grace_ms)
    check_services(report, manifests, deployments)
    check_disruption_budgets(report, manifests, deployments)
    if run_tools:
        validate_schemas(report, manifests)
        build_kustomization(report, folder)


def check_secrets(report, folder: Path, manifests: Manifests) -> dict[str, set[str]]:
    """Secret name -> its keys, from secret.example.yaml (the only file a Secret may be in)."""
    keys: dict[str, set[str]] = {}
    if not (folder / SECRET_EXAMPLE).exists():
        report.problem(folder / SECRET_EXAMPLE, "is missing (the Secret the workloads read, with placeholders)")
    for path, document in manifests.of("Secret"):
        if path.name != SECRET_EXAMPLE:
            report.problem(path, f"{label(document)}: a Secret belongs in {SECRET_EXAMPLE}, as an example with placeholders")
            continue
        values = dict(document.get("stringData") or {})
        for key, value in (document.get("data") or {}).items():
            try:
                values[key] = base64.b64decode(str(value)).decode()
            except ValueError:
                report.problem(path, f"{label(document)}: data.{key} is not base64")
        for key, value in values.items():
            if PLACEHOLDER not in str(value):
                report.problem(path, f"{label(document)}: {key} is not a placeholder ({PLACEHOLDER})")
        keys[document["metadata"]["name"]] = set(values)
    return keys


def check_config_maps(report, manifests: Manifests, default_grace_ms: int) -> dict[str, dict]:
    data = {}
    for path, document in manifests.of("ConfigMap"):
        values = document.get("data") or {}
        for key in values:
            if any(word in key.upper() for word in SECRET_WORDS):
                report.problem(path, f"{label(document)}: {key} belongs in the Secret, not a ConfigMap")
        if "BATON_SHUTDOWN_GRACE" in values:
            grace.check_explicit(report, path, values["BATON_SHUTDOWN_GRACE"], default_grace_ms)
        data[document["metadata"]["name"]] = values
    return data


def check_kustomization(report, folder: Path, manifests: Manifests) -> None:
    path = folder / KUSTOMIZATION
    documents = [document for p, document in manifests.documents if p.name == KUSTOMIZATION]
    if not documents:
        report.problem(path, "is missing")
        return
    listed = [str(item) for item in documents[0].get("resources") or []]
    for item in listed:
        if not (folder / item).exists():
            report.problem(path, f"lists {item}, which does not exist")
    if SECRET_EXAMPLE in listed:
        report.problem(path, f"lists {SECRET_EXAMPLE}: its placeholders would be deployed")
    for manifest in sorted({p.name for p, _ in manifests.documents} - {KUSTOMIZATION, SECRET_EXAMPLE}):
        if manifest not in listed:
            report.problem(path, f"does not list {manifest}")


def grace_of(container: dict, config_maps: dict[str, dict], default_grace_ms: int) -> int:
    """The BATON_SHUTDOWN_GRACE the container gets (env, then envFrom ConfigMaps, then the default)."""
    for variable in container.get("env") or []:
        if variable.get("name") == "BATON_SHUTDOWN_GRACE":
            if "value" in variable:
                return grace.parse_ms(variable["value"]) or default_grace_ms
            reference = (variable.get("valueFrom") or {}).get("configMapKeyRef") or {}
            value = config_maps.get(reference.get("name"), {}).get(reference.get("key"))
            return grace.parse_ms(value) or default_grace_ms if value is not None else default_grace_ms
    for source in container.get("envFrom") or []:
        name = (source.get("configMapRef") or {}).get("name")
        if "BATON_SHUTDOWN_GRACE" in config_maps.get(name, {}):
            return grace.parse_ms(config_maps[name]["BATON_SHUTDOWN_GRACE"]) or default_grace_ms
    return default_grace_ms


def env_names(container: dict, secrets, config_maps) -> dict[str, str]:
    """Variable -> where it comes from ("value", "secret", "configmap")."""
    names = {}
    for source in container.get("envFrom") or []:
        if "configMapRef" in source:
            for key in config_maps.get(source["configMapRef"].get("name"), {}):
                names[key] = "configmap"
        if "secretRef" in source:
            for key in secrets.get(source["secretRef"].get("name"), set()):
                names[key] = "secret"
    for variable in container.get("env") or []:
        origin = "value"
        if "valueFrom" in variable:
            origin = "secret" if "secretKeyRef" in variable["valueFrom"] else "configmap"
        names[variable.get("name")] = origin
    return names


def check_references(report, path, where, container, secrets, config_maps) -> None:
    for source in container.get("envFrom") or []:
        for kind, known in (("secretRef", secrets), ("configMapRef", config_maps)):
            name = (source.get(kind) or {}).get("name")
            if kind in source and name not in known:
                report.problem(path, f"{where}: envFrom {kind} {name!r} is not defined in deploy/kubernetes")
    for variable in container.get("env") or []:
        value_from = variable.get("valueFrom") or {}
        for kind, known in (("secretKeyRef", secrets), ("configMapKeyRef", config_maps)):
            if kind not in value_from:
                continue
            name, key = value_from[kind].get("name"), value_from[kind].get("key")
            if name not in known:
                defined_in = SECRET_EXAMPLE if kind == "secretKeyRef" else "a ConfigMap"
                report.problem(path, f"{where}: {variable.get('name')} reads {kind} {name!r}, which is not in {defined_in}")
            elif key not in known[name]:
                report.problem(path, f"{where}: {variable.get('name')} reads key {key!r} of {name!r}, which has no such key")


def check_workload(report, path, document, secrets, config_maps, default_grace_ms) -> None:
    spec = document.get("spec") or {}
    pod = pod_spec(document)
    containers = pod.get("containers") or []
    name = label(document)
    if not containers:
        report.problem(path, f"{name}: no containers")
        return
    pod_security = pod.get("securityContext") or {}
    kind = document.get("kind")

    if kind == "Deployment":
        replicas = spec.get("replicas")
        if not isinstance(replicas, int) or replicas < 1:
            report.problem(path, f"{name}: spec.replicas must be a number of pods (it is {replicas!r})")
        elif replicas < 2 and any(subcommand(c) in ("worker", "start") for c in containers):
            report.problem(path, f"{name}: {replicas} worker replica(s): run at least 2")
        selector = (spec.get("selector") or {}).get("matchLabels") or {}
        if not selects(selector, template_labels(document)):
            report.problem(path, f"{name}: spec.selector.matchLabels {selector} does not match the pod template's labels "
                                 f"{template_labels(document)}")
    if kind == "Job":
        if pod.get("restartPolicy") not in ("OnFailure", "Never"):
            report.problem(path, f"{name}: restartPolicy must be OnFailure or Never")
        if not any(subcommand(c) == "migrate" for c in containers):
            report.problem(path, f"{name}: no container runs `baton migrate`")
        if spec.get("backoffLimit") is None:
            report.problem(path, f"{name}: no backoffLimit")
        # README.md applies the Job alone first (kubectl apply -k ... -l component=migrate),
        # when only the Secret exists.
        if template_labels(document).get("app.kubernetes.io/component") != "migrate" or \
                (document.get("metadata", {}).get("labels") or {}).get("app.kubernetes.io/component") != "migrate":
            report.problem(path, f"{name}: it and its pods need the label app.kubernetes.io/component: migrate")
        if "configMap" in str(pod):
            report.problem(path, f"{name}: reads a ConfigMap, so it cannot be applied on its own before the rest")

    for container in containers:
        where = f"{name}: container {container.get('name')}"
        if not container.get("image"):
            report.problem(path, f"{where}: no image")
        security = container.get("securityContext") or {}
        if not (security.get("runAsNonRoot", pod_security.get("runAsNonRoot")) is True):
            report.problem(path, f"{where}: securityContext.runAsNonRoot is not true")
        if security.get("allowPrivilegeEscalation") is not False:
            report.problem(path, f"{where}: securityContext.allowPrivilegeEscalation is not false")
        if security.get("readOnlyRootFilesystem") is not True:
            report.problem(path, f"{where}: securityContext.readOnlyRootFilesystem is not true")
        if "ALL" not in ((security.get("capabilities") or {}).get("drop") or []):
            report.problem(path, f"{where}: securityContext.capabilities.drop does not include ALL")
        resources = container.get("resources") or {}
        for part in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                if resource not in (resources.get(part) or {}):
                    report.problem(path, f"{where}: no resources.{part}.{resource}")
        check_references(report, path, where, container, secrets, config_maps)

        command = subcommand(container)
        names = env_names(container, secrets, config_maps)
        if command in ("worker", "start", "api", "migrate"):
            for variable in ("DATABASE_URL", "DIRECT_URL"):
                if names.get(variable) != "secret":
                    report.problem(path, f"{where}: {variable} does not come from the Secret"
                                   + (" (LISTEN and session advisory locks need the direct connection)" if variable == "DIRECT_URL" else ""))
        if command in ("start", "api"):
            host = next((v.get("value") for v in container.get("env") or [] if v.get("name") == "BATON_API_HOST"), None)
            if host != "0.0.0.0":
                report.problem(path, f"{where}: BATON_API_HOST is not 0.0.0.0, so the kubelet's probes cannot reach the API")
            if names.get("BATON_API_TOKEN") != "secret":
                report.problem(path, f"{where}: the API is reachable in the cluster without BATON_API_TOKEN (from the Secret)")
        if kind == "Deployment":
            check_probes(report, path, where, container)
            grace_ms = grace_of(container, config_maps, default_grace_ms)
            seconds = pod.get("terminationGracePeriodSeconds")
            grace.check_stop_timeout(report, path, f"{where}: terminationGracePeriodSeconds {seconds}",
                                     seconds if isinstance(seconds, (int, float)) else None,
                                     grace_ms, before_s=pre_stop_seconds(container))


def pre_stop_seconds(container: dict) -> float:
    """How long a preStop hook holds SIGTERM back: a pause command or the pause action."""
    hook = ((container.get("lifecycle") or {}).get("preStop")) or {}
    if "sleep" in hook:  # allowed: reads the manifest's pause action, waits for nothing
        return float(hook["sleep"].get("seconds", 0))  # allowed: reads the manifest, waits for nothing
    command = (hook.get("exec") or {}).get("command") or []
    if len(command) == 2 and Path(str(command[0])).name == "sleep":  # allowed: reads the manifest, waits for nothing
        try:
            return float(command[1])
        except ValueError:
            return 0.0
    return 0.0


def check_probes(report, path, where, container) -> None:
    ports = container.get("ports") or []
    port_names = {p.get("name") for p in ports} | {p.get("containerPort") for p in ports}
    for probe in ("readinessProbe", "livenessProbe"):
        given = (container.get(probe) or {}).get("httpGet") or {}
        if given.get("path") != "/healthz":
            report.problem(path, f"{where}: no {probe} on /healthz")
        elif given.get("port") not in port_names:
            report.problem(path, f"{where}: {probe} port {given.get('port')!r} is not one of the container's ports")


def check_services(report, manifests: Manifests, deployments) -> None:
    for path, service in manifests.of("Service"):
        selector = (service.get("spec") or {}).get("selector") or {}
        chosen = [(p, d) for p, d in deployments if selects(selector, template_labels(d))]
        name = label(service)
        if not chosen:
            report.problem(path, f"{name}: selector {selector} matches no Deployment's pod labels")
            continue
        for _, deployment in chosen:
            commands = {subcommand(c) for c in pod_spec(deployment).get("containers") or []}
            if commands != {"api"}:
                report.problem(path, f"{name}: selector {selector} also selects {label(deployment)}, which runs "
                                     f"{', '.join(sorted(commands))}, not the API Deployment alone")
        for port in (service.get("spec") or {}).get("ports") or []:
            target = port.get("targetPort", port.get("port"))
            for _, deployment in chosen:
                known = {p.get(field) for c in pod_spec(deployment).get("containers") or []
                         for p in c.get("ports") or [] for field in ("name", "containerPort")}
                if target not in known:
                    report.problem(path, f"{name}: targetPort {target!r} is not a port of {label(deployment)}")


def check_disruption_budgets(report, manifests: Manifests, deployments) -> None:
    covered = set()
    for path, budget in manifests.of("PodDisruptionBudget"):
        spec = budget.get("spec") or {}
        selector = (spec.get("selector") or {}).get("matchLabels") or {}
        chosen = [d for _, d in deployments if selects(selector, template_labels(d))]
        name = label(budget)
        if len(chosen) != 1:
            report.problem(path, f"{name}: selector {selector} matches {len(chosen)} Deployments' pods; it should match one")
            continue
        deployment = chosen[0]
        covered.add(label(deployment))
        replicas = (deployment.get("spec") or {}).get("replicas", 1)
        minimum = spec.get("minAvailable")
        if isinstance(minimum, int) and isinstance(replicas, int) and minimum >= replicas:
            report.problem(path, f"{name}: minAvailable {minimum} with {replicas} replicas of {label(deployment)} "
                                 f"blocks every node drain")
        if minimum is None and spec.get("maxUnavailable") is None:
            report.problem(path, f"{name}: sets neither minAvailable nor maxUnavailable")
    for path, deployment in deployments:
        if label(deployment) not in covered:
            report.problem(path, f"{label(deployment)}: no PodDisruptionBudget selects its pods")


def validate_schemas(report, manifests: Manifests) -> None:
    try:
        import kubernetes_validate
        from kubernetes_validate.utils import latest_version
    except ImportError:
        report.note("skipped: Kubernetes schema validation (the kubernetes-validate package is not installed)")
        return
    versions = [latest_version() if version == "newest" else version for version in SCHEMA_VERSIONS]
    for path, document in manifests.documents:
        if document.get("kind") == "Kustomization":
            continue
        for version in versions:
            try:
                kubernetes_validate.validate(document, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                where = ".".join(str(part) for part in error.path) or "(top)"
                report.problem(path, f"{label(document)}: Kubernetes {error.version} schema: {where}: {error.message}")
            except Exception as error:  # an unknown kind or apiVersion
                report.problem(path, f"{label(document)}: Kubernetes {version} schema: {getattr(error, 'message', error)}")
    report.note(f"ran: Kubernetes schema validation (strict) against {', '.join(versions)}")


def build_kustomization(report, folder: Path) -> None:
    """`kubectl kustomize` (offline): the kustomization builds, and sets every image."""
    if not tools.find("kubectl"):
        report.note("skipped: kubectl kustomize (no kubectl on PATH)")
        return
    status, output = tools.run(["kubectl", "kustomize", str(folder)])
    path = folder / KUSTOMIZATION
    if status != 0:
        report.problem(path, "kubectl kustomize: " + " ".join(output.split())[:600])
        return
    try:
        built = [document for document in yaml.safe_load_all(output) if document]
    except yaml.YAMLError as error:
        report.problem(path, f"kubectl kustomize printed YAML that does not parse: {' '.join(str(error).split())}")
        return
    for document in built:
        for container in pod_spec(document).get("containers") or []:
            if "/" not in str(container.get("image")) and ":" not in str(container.get("image")):
                report.problem(path, f"kubectl kustomize: {label(document)} keeps the image {container.get('image')!r}: "
                                     f"the images: entry does not set it")
    report.note(f"ran: kubectl kustomize ({len(built)} resources)")
