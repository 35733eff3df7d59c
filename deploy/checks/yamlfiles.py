"""Every YAML file under deploy/ must parse (all its documents)."""

from pathlib import Path

import yaml


def load_all(report, path: Path) -> list | None:
    """The file's documents (empty ones dropped), or None after reporting why it does not parse."""
    try:
        with open(path) as stream:
            return [document for document in yaml.safe_load_all(stream) if document is not None]
    except (OSError, yaml.YAMLError) as error:
        report.problem(path, f"does not parse as YAML: {' '.join(str(error).split())}")
        return None


def check(report, deploy: Path) -> None:
    for path in sorted(deploy.rglob("*.y*ml")):
        load_all(report, path)
