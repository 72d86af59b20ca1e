"""deploy/install.sh into a temporary prefix: the venv, the configuration and the unit
it makes are used as they are, with nothing from the checkout or the test's venv.

It installs every distribution requirements.txt lists (with uv: about 20 s on an
idle two-core machine, most of it building the twelve local distributions).
"""

from __future__ import annotations

import importlib.metadata
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

SANDBOX = REPO / "tests" / "daemon" / "unit_sandbox.py"


def _environment_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines, as systemd's ``EnvironmentFile=`` reads this one."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";")):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def test_install_script_makes_a_venv_configuration_and_unit_that_run(tmp_path: Path) -> None:
    root = tmp_path / "root"
    installed = subprocess.run(
        ["bash", str(REPO / "deploy" / "install.sh"), "--no-compile", str(root)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr
    venv = root / "opt" / "billing-connector" / ".venv"
    etc = root / "etc" / "billing-connector"
    state = root / "var" / "lib" / "billing-connector"
    unit = root / "etc" / "systemd" / "system" / "billing-connector.service"

    # The unit's environment only, in its working directory: nothing of this test's.
    env = {"PATH": "/usr/bin:/bin", **_environment_file(etc / "connector.env")}
    assert env["CONNECTOR_CONFIG"] == str(etc / "connector.yaml")

    def connector(*args: str, sandboxed: bool = False) -> subprocess.CompletedProcess[str]:
        command = [str(venv / "bin" / "connector"), *args]
        if sandboxed:
            command = [sys.executable, str(SANDBOX), str(unit), *command]
        return subprocess.run(
            command, capture_output=True, text=True, timeout=120, cwd=state, env=env
        )

    version = connector("--version")
    assert version.stdout.strip() == (
        f"connector, version {importlib.metadata.version('billing-connector')}"
    )
    # Installed, not linked to the checkout (which an operator may delete).
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-I", "-c", "import connector; print(connector.__file__)"],
        capture_output=True, text=True, cwd=state, env=env,
    )  # fmt: skip
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout + where.stderr

    checked = connector("check-config")
    assert checked.returncode == 0, checked.stdout + checked.stderr

    # The operator's first step: the example tenant, enabled as it was installed.
    example = etc / "tenants" / "acme.yaml.example"
    shutil.copy(example, etc / "tenants" / "acme.yaml")
    checked = connector("check-config")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "ok acme: 3 customers, providers aws, ERP sink csv" in checked.stdout

    # One pass of the installed daemon under the installed unit's sandbox: the demo's
    # AWS data (in the installed package) becomes three drafts in the state folder.
    ran = connector("run", "--once", sandboxed=True)
    assert ran.returncode == 0, ran.stderr
    assert "pass done: 3 unit(s) done, 0 failed" in ran.stderr
    with sqlite3.connect(state / "connector.db") as db:
        assert db.execute("SELECT count(*) FROM statements").fetchone() == (3,)

    unit_text = unit.read_text()
    assert f"ExecStart={venv}/bin/connector run" in unit_text
    assert f"EnvironmentFile={etc}/connector.env" in unit_text
    if shutil.which("systemd-analyze"):  # every machine this project runs on has it
        verified = subprocess.run(
            ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
        )
        assert verified.returncode == 0, verified.stderr
