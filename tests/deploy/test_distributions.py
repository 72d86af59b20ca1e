"""Every distribution builds a wheel and an sdist that carry what they need, and the
wheels install the whole connector by one name into a new venv with no package index:
the way an operator installs it without the repository, and what the Dockerfile does.

One slow test (about a minute and a half on an idle two-core machine): deploy/wheels.sh
builds the wheels and fetches the dependencies' wheels from the package index pip is
set up with (the one the README's install command uses), then installs from the folder
alone. An unreachable index fails the test, saying so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from tests.conftest import REPO

WHEELS = REPO / "deploy" / "wheels.sh"
META = REPO / "deploy" / "billing-connector-all"
EXAMPLE = REPO / "examples" / "connector-example-renderer"
PLUGINS = sorted(path.parent for path in REPO.glob("plugins/*/*/pyproject.toml"))


def _project(folder: Path) -> dict:
    return tomllib.loads((folder / "pyproject.toml").read_text())["project"]


def _stem(folder: Path) -> str:
    """The distribution's name as wheel and sdist file names spell it."""
    return _project(folder)["name"].replace("-", "_")


def _packaged_files(folder: Path, packages: list[str]) -> set[str]:
    """What the wheel must hold from ``folder``: every file of its top-level
    ``packages`` (code, templates, migrations, demo data, fonts, static files)."""
    files = set()
    for package in packages:
        for path in (folder / package).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                files.add(path.relative_to(folder).as_posix())
    return files


def _check_wheel(wheel: Path, folder: Path) -> None:
    version = _project(folder)["version"]
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = f"{_stem(folder)}-{version}.dist-info"
        metadata = archive.read(f"{info}/METADATA").decode()
        packages = archive.read(f"{info}/top_level.txt").decode().split()
    assert "License-Expression: Apache-2.0" in metadata.splitlines(), wheel.name
    assert f"{info}/licenses/LICENSE" in names, wheel.name
    missing = _packaged_files(folder, packages) - names
    assert not missing, f"{wheel.name} lacks {sorted(missing)}: add them to package-data"


def _run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]


def test_wheels_install_the_connector_by_one_name_and_run_plugins_and_the_demo(
    tmp_path: Path,
) -> None:
    wheels = tmp_path / "wheels"
    # This venv's setuptools (no isolated build env per distribution: 30 s less); the
    # Dockerfile builds isolated.
    built = _run(
        ["bash", str(WHEELS), "build", str(wheels), "--no-isolation"],
        env={**os.environ, "PYTHON": sys.executable}, timeout=900,
    )  # fmt: skip
    assert built.returncode == 0, (
        "deploy/wheels.sh build failed; it needs the package index pip is set up with "
        f"(for the dependencies' wheels). Its last output:\n{built.stderr[-3000:]}"
    )
    example = _run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(wheels), str(EXAMPLE)],
        timeout=300,
    )  # fmt: skip
    assert example.returncode == 0, example.stderr[-3000:]

    # A wheel and an sdist of each, the wheel built from the sdist (build's default),
    # carrying the licence and every file of its packages.
    for folder in [REPO, *PLUGINS, META, EXAMPLE]:
        version = _project(folder)["version"]
        assert (wheels / f"{_stem(folder)}-{version}.tar.gz").is_file(), folder
        _check_wheel(wheels / f"{_stem(folder)}-{version}-py3-none-any.whl", folder)

    # The meta-distribution names every built-in plugin, and PostgreSQL's driver.
    wanted = {"billing-connector[postgres]", *(_project(p)["name"] for p in PLUGINS)}
    assert {r.split("==")[0] for r in _project(META)["dependencies"]} == wanted

    venv = tmp_path / "venv"
    installed = _run(
        ["bash", str(WHEELS), "install", str(wheels), str(venv)],
        env={**os.environ, "PYTHON": sys.executable}, timeout=600,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]

    # The installed venv alone: none of this test's environment or checkout.
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}
    work = tmp_path / "work"
    work.mkdir()
    python = str(venv / "bin" / "python")
    where = _run(
        [python, "-I", "-c", "import connector, psycopg; print(connector.__file__)"],
        cwd=work, env=env,
    )  # fmt: skip
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(venv)

    listed = _run([str(venv / "bin" / "connector"), "plugins", "--json"], cwd=work, env=env)
    assert listed.returncode == 0, listed.stderr
    plugins = {p["name"]: p for p in json.loads(listed.stdout)}
    declared = {
        name: _project(folder)["name"]
        for folder in PLUGINS
        for name in _project(folder)["entry-points"]["billing_connector"]
    }
    assert {name: p["distribution"] for name, p in plugins.items()} == declared
    assert {p["status"] for p in plugins.values()} == {"loaded"}

    demo = _run([str(venv / "bin" / "connector"), "demo"], cwd=work, env=env, timeout=300)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    statements = work / "demo-output" / "statements"
    for suffix in (".pdf", ".csv", ".detailed.csv", ".html", ".xml"):
        found = [p for p in statements.glob(f"*{suffix}") if p.name.count(".") == suffix.count(".")]
        assert len(found) == 3, (suffix, sorted(p.name for p in statements.iterdir()))
    assert all(p.read_bytes().startswith(b"%PDF-") for p in statements.glob("*.pdf"))
    assert len(list((work / "demo-output" / "acme" / "erp").glob("*.csv"))) == 1
