"""What a run of the checks found: problems (each one line, naming its file) and notes
(what was run, and what was skipped because a tool is missing)."""

from pathlib import Path


class Report:
    def __init__(self, deploy: Path):
        self.deploy = deploy
        self.problems: list[str] = []
        self.notes: list[str] = []

    def name(self, path: Path) -> str:
        """`deploy/...`, also for a copy of deploy/ elsewhere (the self-test's)."""
        try:
            return str(Path(self.deploy.name) / Path(path).relative_to(self.deploy))
        except ValueError:
            return str(path)

    def problem(self, path: Path, message: str) -> None:
        self.problems.append(f"{self.name(path)}: {message}")

    def note(self, message: str) -> None:
        self.notes.append(message)
