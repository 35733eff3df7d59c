"""No real secret in a committed deploy file: every password, token or credentialed URL is a
placeholder (CHANGE-ME) or read from somewhere else (${VAR}, a Secret, an env file)."""

import re
from pathlib import Path

PLACEHOLDER = "CHANGE-ME"

# Files the checks themselves are made of hold examples of bad lines on purpose.
SKIPPED_DIRS = {"checks"}
SKIPPED_FILES = {"check.py"}

# user:password@ in a URL.
URL_PASSWORD = re.compile(r"://[^/\s:@]+:([^@\s/]+)@")
# A line that sets NAME=value or NAME: value (an env file, YAML, a compose list item) where
# NAME names a secret.
SECRET_SETTING = re.compile(r"^\s*(?:-\s*)?(?:export\s+)?([A-Z][A-Z0-9_]*(?:PASSWORD|TOKEN|SECRET)[A-Z0-9_]*)\s*[=:]\s*(\S.*)$")


def allowed(value: str) -> bool:
    value = value.strip().strip("'\"")
    return value == "" or PLACEHOLDER in value or value.startswith("${") or value.startswith("$(") \
        or value.startswith("...") or value.endswith("...")


def check(report, deploy: Path) -> None:
    for path in sorted(p for p in deploy.rglob("*") if p.is_file()):
        relative = path.relative_to(deploy)
        if relative.parts[0] in SKIPPED_DIRS or path.name in SKIPPED_FILES or path.suffix == ".md":
            continue
        try:
            lines = path.read_text().splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for number, line in enumerate(lines, 1):
            for match in URL_PASSWORD.finditer(line):
                if not allowed(match.group(1)):
                    report.problem(path, f"line {number}: a URL carries a password that is not a placeholder "
                                         f"({PLACEHOLDER}) or a variable")
            setting = SECRET_SETTING.search(line)
            if setting and not line.lstrip().startswith("#") and not allowed(setting.group(2)):
                # valueFrom / secretKeyRef blocks have no value on the line: nothing to see there.
                report.problem(path, f"line {number}: {setting.group(1)} has a value that is not a "
                                     f"placeholder ({PLACEHOLDER}) or a variable")
