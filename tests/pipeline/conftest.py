"""The example tenant on each database, its AWS data pointed at the bundled CUR file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from connector.config.settings import DaemonSettings
from connector.runtime.runtime import open_runtime
from tests.conftest import REPO

CUR = REPO / "connector/demo_data/aws/cur-2026-10-00001.csv"


@pytest.fixture
def runtime(db_url: str, tmp_path: Path):
    tenants = tmp_path / "tenants"
    shutil.copytree(REPO / "config/tenants", tenants)
    text = (tenants / "acme.yaml").read_text()
    (tenants / "acme.yaml").write_text(
        text.replace("../../connector/demo_data/aws", str(CUR.parent))
    )
    rt = open_runtime(
        DaemonSettings(database_url=db_url, tenants_dir=tenants, output_dir=tmp_path / "out")
    )
    yield rt
    rt.db.dispose()
