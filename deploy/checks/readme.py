"""deploy/README.md names every file it is about, so a new file comes with its explanation."""

from pathlib import Path

# The checker explains itself in its own docstrings.
SKIPPED_DIRS = {"checks", "__pycache__"}


def check(report, deploy: Path) -> None:
    path = deploy / "README.md"
    if not path.exists():
        report.problem(path, "is missing")
        return
    text = path.read_text()
    for file in sorted(p for p in deploy.rglob("*") if p.is_file()):
        relative = file.relative_to(deploy)
        if relative.parts[0] in SKIPPED_DIRS or file == path:
            continue
        if file.name not in text:
            report.problem(path, f"does not mention {relative}")
