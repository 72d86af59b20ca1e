"""A tenant workspace in a deep temporary tree, and a CLI runner that checks every run.

Everything a test writes lives under ``root/d1/.../work``: the settings file, tenants,
the CUR folder, the database and ``out/`` (the connector's output folder). The working
directory is ``work/cwd``, so a relative path resolved against it is caught too. Each
run lists ``root`` before and after: every new file must be under ``out/`` or be the
database; the tree is deep enough that ``../../../../x`` from any folder stays inside
``root`` and is seen.
"""

from __future__ import annotations

import copy
import csv
import io
import os
import re
import traceback
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml
from click.testing import CliRunner, Result

from connector.cli.main import main
from connector.storage.db import Database
from tests.conftest import REPO
from tests.providers.cur_files import row, write_cur
from tests.security.corpus import MARKER

# Counted across the whole session; test_zz_summary prints them.
STATS: Counter[str] = Counter()

# Exit codes of a clear refusal (cli/main.py): configuration, provider data, billing, plugin.
REFUSED = {1, 4, 5, 6}
# Absolute places a path traversal could reach outside the tree.
ESCAPE_TARGETS = [Path("/tmp/ESCAPED"), Path("/ESCAPED"), Path("/x")]


@dataclass
class Workspace:
    root: Path
    work: Path
    tenants: Path
    cur: Path
    out: Path
    config: Path

    @property
    def db(self) -> Path:
        return self.work / "c.db"


def base_tenant() -> dict:
    """The documented example tenant with one customer (1001) and no comments."""
    data = yaml.safe_load((REPO / "config/tenants/acme.yaml").read_text())
    data["customers"] = [copy.deepcopy(data["customers"][0])]
    return data


def make_workspace(root: Path) -> Workspace:
    work = root / "d1" / "d2" / "d3" / "d4" / "d5" / "work"
    ws = Workspace(root, work, work / "tenants", work / "cur", work / "out",
                   work / "connector.yaml")  # fmt: skip
    for folder in (ws.tenants, ws.cur, work / "cwd"):
        folder.mkdir(parents=True, exist_ok=True)
    ws.config.write_text(
        f"database_url: sqlite:///{ws.db}\ntenants_dir: {ws.tenants}\noutput_dir: {ws.out}\n"
    )
    write_cur(ws.cur / "cur-2026-10-00001.csv", [row()])
    Database(f"sqlite:///{ws.db}").dispose()  # `connector db upgrade`: commands do not migrate
    return ws


def write_tenant(ws: Workspace, data: dict, extra_yaml: str = "") -> Path:
    """``data`` as acme.yaml (provider path pointing at the workspace's CUR folder)."""
    data = copy.deepcopy(data)
    aws = data.get("providers", {}).get("aws")
    if aws and aws["settings"]["path"] == "../../connector/demo_data/aws":
        aws["settings"]["path"] = str(ws.cur)
    path = ws.tenants / "acme.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=False) + extra_yaml)
    return path


def write_cur_rows(ws: Workspace, **values: str) -> None:
    write_cur(ws.cur / "cur-2026-10-00001.csv", [row(**values)])


def files_under(root: Path) -> set[Path]:
    found = set()
    for folder, _, names in os.walk(root):
        found.update(Path(folder) / name for name in names)
    return found


def outside_folders(ws: Workspace, before: set[Path], after: set[Path]) -> list[Path]:
    """New files not in out/ and not the database (or its journal)."""
    allowed = (ws.out,)
    return sorted(
        p for p in after - before
        if not any(p.is_relative_to(a) for a in allowed) and not p.name.startswith("c.db")
    )  # fmt: skip


def cli(ws: Workspace, *args: str, stage: str = "cli") -> Result:
    """``connector --config ... ARGS`` from work/cwd; fails on a traceback, an unhandled
    exception or a file written outside the folders, and counts the run."""
    STATS["runs"] += 1
    before = files_under(ws.root)
    escapes_before = {p for p in ESCAPE_TARGETS if p.exists()}
    cwd = os.getcwd()
    os.chdir(ws.work / "cwd")
    try:
        result = CliRunner().invoke(main, ["--config", str(ws.config), *args],
                                    catch_exceptions=False)  # fmt: skip
    except BaseException:
        STATS["tracebacks"] += 1
        STATS[f"traceback:{stage}"] += 1
        raise
    finally:
        os.chdir(cwd)
    after = files_under(ws.root)
    outside = outside_folders(ws, before, after)
    outside += [p for p in ESCAPE_TARGETS if p.exists() and p not in escapes_before]
    if outside:
        STATS["outside"] += 1
    output = result.output
    if "Traceback" in output:
        STATS["tracebacks"] += 1
    assert "Traceback" not in output, output[-3000:]
    assert not outside, f"files written outside the configured folders: {outside}"
    assert not MARKER.exists(), "a template injection ran code"
    assert "uid=" not in output, "a template injection ran `id`"
    return result


def assert_refused_or_ok(result: Result, ok: Iterable[int] = (0,)) -> None:
    """Exit 0 (accepted) or a refusal exit code with a message."""
    assert result.exit_code in {*ok, *REFUSED}, (result.exit_code, result.output[-2000:])
    if result.exit_code in REFUSED:
        assert result.output.strip(), "refused without saying why"


_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def unsafe_cells(text: str) -> list[str]:
    """Cells a spreadsheet would read as a formula: starting with = + - @ tab or CR and
    not a plain number (a neutralised cell starts with ')."""
    cells = [cell for record in csv.reader(io.StringIO(text)) for cell in record]
    return [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.match(c)]


def reset_marker() -> None:
    MARKER.unlink(missing_ok=True)


def show_exception() -> str:  # pragma: no cover - used in failure messages only
    return traceback.format_exc()[-1500:]


def mutate(data: dict, change: Callable[[dict], None]) -> dict:
    data = copy.deepcopy(data)
    change(data)
    return data
