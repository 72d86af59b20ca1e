"""Running pytest in a subprocess, as a plugin author runs it on their own plugin."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

KIT_PLUGIN = "connector.testing.pytest_plugin"


def kit_entry_point_installed() -> bool:
    """Whether pytest loads the kit by itself (the ``pytest11`` entry point ``connector``)."""
    return any(ep.value == KIT_PLUGIN for ep in entry_points(group="pytest11"))


@dataclass(frozen=True, slots=True)
class PytestRun:
    """How a pytest subprocess fared: the process, passed tests, failed tests' messages.

    Tests are named ``Class::test[params]`` (or ``test`` for module-level functions).
    """

    process: subprocess.CompletedProcess[str]
    passed: set[str]
    failures: dict[str, str]

    def message(self, test: str) -> str:
        """The failure message of ``test``, which must have failed."""
        assert test in self.failures, f"{test} did not fail:\n{self.process.stdout}"
        return self.failures[test]


def run_pytest(args: Sequence[str], cwd: Path, pythonpath: Sequence[Path] = ()) -> PytestRun:
    """``python -m pytest ARGS`` in ``cwd`` with the kit loaded, read back from JUnit XML."""
    # Before the entry point is installed, load the kit by module name; after, -p would
    # register the same module a second time.
    kit = [] if kit_entry_point_installed() else ["-p", KIT_PLUGIN]
    inherited = [os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*map(str, pythonpath), *inherited])}
    env.pop("PYTEST_ADDOPTS", None)
    # The report goes to a temporary folder: ``cwd`` may be a source tree (the example).
    with tempfile.TemporaryDirectory(prefix="kit-report-") as folder:
        report = Path(folder) / "report.xml"
        process = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *kit,
             f"--junitxml={report}", *args],
            cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert report.exists(), process.stdout + process.stderr
        cases = list(ET.parse(report).iter("testcase"))
    passed, failures = set(), {}
    for case in cases:
        cls = case.get("classname", "").rsplit(".", 1)[-1]
        name = f"{cls}::{case.get('name')}" if cls.startswith("Test") else str(case.get("name"))
        failure = case.find("failure")
        if failure is not None:
            failures[name] = failure.get("message", "")
        elif case.find("error") is None and case.find("skipped") is None:
            passed.add(name)
    return PytestRun(process, passed, failures)
