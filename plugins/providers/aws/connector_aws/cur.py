"""The ``aws`` provider: Cost and Usage Report files (a folder, or S3) -> charge batches.

A cut-off report is refused, with the evidence each form offers: a plain ``.csv`` that
does not end with a line break, whose last row is short or leaves a quote open
(``connector.plugin_kit.file_formats.check_csv_end``, last 64 KB only); a ``.csv.gz`` whose gzip
trailer is missing; a ``.parquet`` without its footer; an S3 manifest naming a key that
is not there. A plain ``.csv`` cut exactly at a line end cannot be detected: the legacy
manifest lists report keys without sizes or row counts, and a folder has no manifest at
all. A file holding only its header is "no data rows".
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import ValidationError

from connector.contracts import BillingPeriod, ChargeBatch, PluginError, SourceDataError
from connector.plugin_kit.scratch import combined_digest, file_digest, reading
from connector.plugin_kit.settings import folder_of
from connector.progress import NO_PROGRESS, Progress
from connector_aws.charges import charge_table
from connector_aws.columns import Header
from connector_aws.line_items import MARKETPLACE_BILLING_ENTITY
from connector_aws.s3 import download_report
from connector_aws.settings import AwsSettings

if TYPE_CHECKING:
    import duckdb


class AwsCurProvider:
    """Reads AWS Cost and Usage Reports: legacy CUR and CUR 2.0 (Data Exports), as
    ``.csv``, ``.csv.gz`` or ``.parquet``, from a folder or from S3 through the manifests.

    All matching files are read in one DuckDB pass and aggregated to one canonical charge
    per payer, usage account, line item type, product, usage type, publisher, currency and
    invoice id, with costs summed exactly as DECIMAL(38,12). One batch per billing period;
    it is ``final`` once every row of the period carries an invoice id.
    """

    name: ClassVar[str] = "aws"
    display_name: ClassVar[str] = "Amazon Web Services"
    settings_model: ClassVar[type | None] = AwsSettings
    # Third-party products are billed by AWS Marketplace and pass through at cost (seeds
    # 002, 003) unless the tenant's providers.<key>.marketplace_pricing says otherwise.
    marketplace_name: ClassVar[str] = MARKETPLACE_BILLING_ENTITY
    marketplace_pricing: ClassVar[str] = "at_cost"

    def __init__(self, settings: Mapping[str, Any], base_dir: Path) -> None:
        try:
            self.settings = AwsSettings.model_validate(dict(settings))
        except ValidationError as exc:
            # include_input=False: the settings may carry a secret access key.
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}"
                for e in exc.errors(include_input=False, include_url=False)
            )
            raise PluginError(f"aws provider settings are invalid: {problems}") from None
        self.folder: Path | None = None
        if self.settings.path is not None:
            self.folder = folder_of(self.settings.path, base_dir)

    def fetch(
        self, period: BillingPeriod | None = None, *, progress: Progress | None = None
    ) -> Iterator[ChargeBatch]:
        """Yield one batch per billing period found (only ``period`` when given).

        ``source`` lists the files that hold the period's rows; ``source_hash`` is a
        sha256 over those files' bytes, so unchanged files give the same hash.
        Raises :class:`SourceDataError` naming file, line, column and value for bad data;
        then nothing is yielded, not even the periods that were fine. ``progress``
        follows the bytes scanned, then the charges made from the rows read.
        """
        from connector_aws.files import find_cur_files, read_header

        progress = progress or NO_PROGRESS
        if self.folder is not None:
            files = find_cur_files(self.folder, self.settings.pattern)
            if not files:
                return
            headers = [read_header(path) for path in files]
            yield from _read(headers, period, progress)
            return
        assert self.settings.s3 is not None
        with tempfile.TemporaryDirectory(prefix="connector-aws-s3-") as tmp:
            progress.stage("downloading the CUR from S3", unit="files")
            downloaded = download_report(self.settings.s3, Path(tmp), period)
            headers = [read_header(f.path, f.label) for f in downloaded]
            # The files stay until the last batch's rows were read: they stream.
            if headers:
                yield from _read(headers, period, progress)


def _read(
    headers: Sequence[Header], period: BillingPeriod | None, progress: Progress = NO_PROGRESS
) -> Iterator[ChargeBatch]:
    """Aggregate in DuckDB, check every period, then yield each period's batch, its rows
    streaming from DuckDB as they are read (see the plugin kit's
    ``charge_tables.QueryRows``).

    Everything that can refuse the data (the groups' checks, the text of every period's
    contexts and accounts) runs before the first batch is yielded: bad data yields
    nothing. A second thread hashes the files meanwhile; it waits until the scan is
    done: until then DuckDB keeps every core busy, and a hash beside it slowed the scan
    down. The checks and the first period's row query leave a core free, and hashlib
    releases the GIL.
    """
    from connector_aws import diagnose
    from connector_aws.query import CurAggregate
    from connector_aws.text_checks import checked_contexts

    with (
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="cur-hash") as pool,
        reading(_names(headers), "the CUR files", partial(_explain, headers)),
        CurAggregate(headers, period, progress) as groups,
    ):
        digests = pool.map(file_digest, [h.path for h in headers])
        problem = groups.first_problem()
        if problem is not None:
            raise SourceDataError(diagnose.problem_message(headers, problem))
        summaries = groups.periods()
        for summary in summaries:
            _check_calendar_month(headers, summary.period)
        rows_read, group_count = groups.rows_read()
        progress.stage(f"making charges of {rows_read:,} CUR rows", total=group_count,
                       unit="charges")  # fmt: skip
        tables = []
        for summary in summaries:
            contexts, accounts, dates, rows = groups.charge_rows(summary.period)
            contexts, accounts = checked_contexts(headers, contexts, accounts)
            tables.append((charge_table(contexts, accounts, dates, rows), rows))
            progress.advance(len(rows))
        if tables:  # the first period's rows are sorted while the files' hash is finished
            tables[0][1].prepare()
        digest_list = list(digests)
        for summary, (table, rows) in zip(summaries, tables, strict=True):
            yield ChargeBatch(
                period=summary.period,
                source=", ".join(headers[i].shown for i in summary.files),
                source_hash=combined_digest(digest_list[i] for i in summary.files),
                charges=table,
                final=summary.final,
            )
            rows.release()


def _check_calendar_month(headers: Sequence[Header], period: BillingPeriod) -> None:
    """Refuse a billing period that is no calendar month, naming its first row.

    AWS bills calendar months in UTC and the CUR writes them so (2026-10-01T00:00:00Z);
    the reader takes a date-time's date as written, so one re-written with an offset
    (2026-09-30T19:00:00-05:00) would make a period September 30 .. October 31.
    """
    start, end = period.start, period.end
    next_month = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    if start.day == 1 and end == next_month:
        return
    from connector_aws import diagnose

    alias = "period_start" if start.day != 1 else "period_end"
    day = start if alias == "period_start" else end
    found = diagnose.first_row(
        headers, lambda h, r: diagnose.date_of(diagnose.value(h, r, alias)) == day
    )
    expected = (
        "the first of a month (AWS bills calendar months in UTC), like 2026-10-01T00:00:00Z"
        if alias == "period_start"
        else f"the first of the month after the period's start {start} (AWS bills calendar "
        f"months in UTC), like {next_month}T00:00:00Z"
    )
    if found is None:
        raise SourceDataError(
            f"{_names(headers)}: the billing period {start} .. {end} is no calendar month; "
            f"its ends must be {expected}"
        )
    header, line, row = found
    raw = diagnose.value(header, row, alias)
    raise SourceDataError(diagnose.bad_value_message(header, line, alias, raw, expected))


def _names(headers: Sequence[Header]) -> str:
    return ", ".join(h.shown for h in headers)


def _explain(headers: Sequence[Header], exc: duckdb.Error) -> PluginError:
    """Turn DuckDB's refusal into a message naming file, line, column and value."""
    from connector_aws import diagnose

    try:
        message = diagnose.find_unreadable_value(headers)  # raises itself for non-CSV rows
    except OSError as error:  # unreadable file: not the data's fault
        return PluginError(f"{_names(headers)}: reading the CUR files failed: {error}")
    if message is not None:
        return SourceDataError(message)
    # The csv module accepted every row: show DuckDB's own words (its first lines name
    # the line and the problem) rather than guessing.
    detail = " ".join(str(exc).splitlines()[:3])
    return SourceDataError(f"{_names(headers)}: DuckDB could not read the CUR data: {detail}")
