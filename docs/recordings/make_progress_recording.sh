#!/usr/bin/env bash
# Re-make docs/recordings/progress.md: `connector ingest` of a generated legacy CUR
# (600,000 rows by default) and `connector statements generate` for 2,000 customers, run
# in a 120x30 tmux pane whose screen is captured twice a second; the frames kept show
# each long stage's bar while it runs and the screen at the end.
#
#   docs/recordings/make_progress_recording.sh [ROWS] [CUSTOMERS]
#
# Needs tmux and the project's virtualenv (.venv). Writes only docs/recordings/progress.md
# (and a temporary folder it removes).
set -euo pipefail

ROWS=${1:-600000}
CUSTOMERS=${2:-2000}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
PY="$REPO/.venv/bin/python"
OUT="$REPO/docs/recordings/progress.md"
SESSION="progress-recording-$$"
WORK=$(mktemp -d /tmp/connector-recording.XXXXXX)
trap 'tmux kill-session -t "$SESSION" 2>/dev/null || true; rm -rf "$WORK"' EXIT

# The data: a synthetic CUR (benchmarks/cur_synth.py: every row has an invoice id, so
# October 2026 is final) and a tenant whose customers own its usage accounts.
"$PY" "$REPO/benchmarks/cur_synth.py" "$WORK/cur/cur-2026-10.csv.gz" --rows "$ROWS" \
    --accounts "$CUSTOMERS" > /dev/null
mkdir -p "$WORK/tenants"
"$PY" - "$WORK" "$CUSTOMERS" <<'PYTHON'
import sys
from pathlib import Path

work, customers = Path(sys.argv[1]), int(sys.argv[2])
lines = [
    "tenant: acme",
    "profile: {name: Acme Cloud Partners}",
    "invoice_options: {next_invoice_number: 1001}",
    f"providers:\n  aws: {{settings: {{path: {work / 'cur'}}}}}",
    "erp: {sink: csv}",
    "pricebooks:",
    "  - id: aws-standard",
    "    provider: aws",
    "    versions: [{effective: 2026-01-01, rules: [{adjust: markup, percent: 15}]}]",
    "customers:",
]
for i in range(customers):  # cur_synth's usage account of account number i
    lines += [
        f'  - id: "C{i:05d}"',
        f"    name: Customer {i}",
        "    invoice_currency: USD",
        "    pricebooks: {aws: aws-standard}",
        f'    accounts: {{aws: ["{100000000000 + i * 7919}"]}}',
    ]
(work / "tenants" / "acme.yaml").write_text("\n".join(lines) + "\n")
(work / "connector.yaml").write_text(
    f"database_url: sqlite:///{work / 'connector.db'}\n"
    f"tenants_dir: {work / 'tenants'}\noutput_dir: {work / 'out'}\n"
)
PYTHON

# What the pane runs: each command shown as typed, then run.
cat > "$WORK/session.sh" <<SESSION
cd "$WORK"
export PATH="$REPO/.venv/bin:\$PATH"
run() { printf '\$ %s\n' "\$*"; "\$@"; }
run connector --config connector.yaml db upgrade
run connector --config connector.yaml ingest --tenant acme --provider aws
run connector --config connector.yaml statements generate --tenant acme --provider aws \
    --period 2026-10 > /dev/null
echo "(generate's table of $CUSTOMERS statements sent to /dev/null)"
echo RECORDING-DONE
sleep 600
SESSION

mkdir -p "$WORK/frames"
tmux new-session -d -s "$SESSION" -x 120 -y 30 "bash $WORK/session.sh"
for i in $(seq -w 0 2399); do  # at most 20 minutes
    tmux capture-pane -p -t "$SESSION" > "$WORK/frames/$i.txt"
    grep -q RECORDING-DONE "$WORK/frames/$i.txt" && break
    sleep 0.5
done

"$PY" - "$WORK/frames" "$OUT" "$ROWS" "$CUSTOMERS" <<'PYTHON'
import sys
from pathlib import Path

frames_dir, out, rows, customers = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
frames = [p.read_text().rstrip() for p in sorted(frames_dir.glob("*.txt"))]


def running(frame: str, stage: str) -> bool:
    """A bar of ``stage`` is on screen and not finished (finished ones start with ✓)."""
    return any(stage in line and not line.lstrip().startswith("✓") for line in frame.splitlines())


def last(test, name):  # type: ignore[no-untyped-def]
    """The last frame ``test`` accepts: the stage still running, as far as it got."""
    found = [f for f in frames if test(f)]
    if not found:
        sys.exit(f"no frame shows {name}; the last one:\n{frames[-1]}")
    return found[-1]


chosen = [
    ("ingest: reading the CUR file", last(lambda f: running(f, "reading cur-2026-10"), "reading")),
    ("ingest: storing the charges", last(lambda f: running(f, "storing 2026-10"), "storing")),
    ("build: building the statements",
     last(lambda f: running(f, "building aws 2026-10 statements"), "building")),
    ("the end", frames[-1]),
]
text = [
    "# Progress bars of a long ingest and build (terminal recording)",
    "",
    f"`connector ingest` of a generated legacy CUR ({int(rows):,} rows, CSV.gz) and",
    f"`connector statements generate` for {int(customers):,} customers, in a 120x30 tmux",
    "pane, captured as text (`tmux capture-pane -p`) twice a second. Four frames are kept:",
    "the last one on which each long stage was still running (reading the file, storing",
    "the charges, building the statements), then the end. Off a terminal the same progress",
    "is a log line every few seconds on stderr (see `connector/progress.py`).",
    "",
    "Made by `docs/recordings/make_progress_recording.sh` (arguments: rows, customers), which",
    "generates the data with `benchmarks/cur_synth.py`, writes the tenant, and runs in the pane:",
    "",
    "```",
    "connector --config connector.yaml db upgrade",
    "connector --config connector.yaml ingest --tenant acme --provider aws",
    "connector --config connector.yaml statements generate --tenant acme --provider aws \\",
    "    --period 2026-10 > /dev/null",
    "```",
    "",
]
for title, frame in chosen:
    text += [f"## {title}", "", "```text", frame.rstrip(), "```", ""]
out.write_text("\n".join(text))
print(f"wrote {out} from {len(frames)} frames")
PYTHON
