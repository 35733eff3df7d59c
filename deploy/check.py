#!/usr/bin/env python3
"""Checks Baton's deployment files in deploy/ (container image, compose, systemd, Kubernetes).

    python3 deploy/check.py               one line per problem, exit 1 if any
    python3 deploy/check.py --self-test   breaks copies of the files one way at a time and
                                          requires each break to be reported (exit 1 if not)

Needs PyYAML. Also runs, when present: the kubernetes-validate package (the Kubernetes
schemas, offline), systemd-analyze (verify, security --offline) and `docker compose` or
docker-compose (`config -q`); it says which it skipped. scripts/test runs both modes
(before the Swift tests) with the examples' Python.
"""

import sys

sys.dont_write_bytecode = True  # no __pycache__ next to the committed files

import argparse  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main() -> int:
    parser = argparse.ArgumentParser(description="Checks Baton's deployment files in deploy/.")
    parser.add_argument("--self-test", action="store_true", help="prove that every check can fail")
    options = parser.parse_args()
    try:
        import yaml  # noqa: F401
    except ImportError:
        print("check.py: PyYAML is not installed (pip install pyyaml; scripts/test's .venv-examples has it)")
        return 2
    from checks.run import run_all
    from checks.selftest import self_test

    repository = HERE.parent
    if options.self_test:
        return self_test(HERE, repository)
    report = run_all(HERE, repository)
    for note in report.notes:
        print(note)
    for problem in report.problems:
        print(problem)
    if report.problems:
        print(f"check.py: {len(report.problems)} problem(s) in deploy/")
        return 1
    print("check.py: deploy/ passes every check")
    return 0


if __name__ == "__main__":
    sys.exit(main())
