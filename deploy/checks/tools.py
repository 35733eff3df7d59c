"""Runs the external validators (systemd-analyze, docker compose) when they exist."""

import shutil
import subprocess


def find(name: str) -> str | None:
    return shutil.which(name)


def run(arguments: list[str], cwd=None, timeout: int = 120) -> tuple[int, str]:
    """Exit status and combined output; 127 when the program cannot be started."""
    try:
        done = subprocess.run(arguments, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=timeout)
    except OSError as error:
        return 127, str(error)
    except subprocess.TimeoutExpired:
        return 124, f"{arguments[0]} did not finish in {timeout} s"
    return done.returncode, done.stdout
