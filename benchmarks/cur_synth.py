"""Synthetic legacy AWS Cost and Usage Report (CUR) files, written fast by DuckDB.

The rows are generated inside DuckDB from ``range(N)`` and written with ``COPY``, so a
5,000,000-row CSV.gz takes seconds rather than the minutes a Python loop would need.
Every value is derived from a hash of the row number and the seed: the same arguments
always give the same file.

The shape follows a real reseller's CUR: a handful of payer accounts, thousands of
usage accounts that each use a few of ~20 services, mostly ``Usage`` line items with
every other legacy line item type mixed in, ~2 % AWS Marketplace rows, costs with 10
decimal places and an invoice id on every row (a closed period).

A ``.parquet`` target gets the same rows as a CUR 2.0 (Data Exports) Parquet file, typed
as real exports are: snake_case columns, DOUBLE costs and amounts, TIMESTAMP dates and
the product's attributes in a ``product`` MAP column.

Usable as a library (tests, benchmarks) and as a command::

    python benchmarks/cur_synth.py OUT.csv.gz --rows 100000 --accounts 5000
    python benchmarks/cur_synth.py OUT.parquet --rows 100000 --accounts 5000
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import duckdb

# (product code, product name, usage types): each account uses five of these.
SERVICES: list[tuple[str, str, tuple[str, str, str]]] = [
    (
        "AmazonEC2",
        "Amazon Elastic Compute Cloud",
        ("USE1-BoxUsage:m5.large", "USE1-EBS:VolumeUsage.gp3", "USE1-DataTransfer-Out-Bytes"),
    ),
    (
        "AmazonS3",
        "Amazon Simple Storage Service",
        ("USE1-TimedStorage-ByteHrs", "USE1-Requests-Tier1", "USE1-Requests-Tier2"),
    ),
    (
        "AmazonRDS",
        "Amazon Relational Database Service",
        ("USE1-InstanceUsage:db.t3.medium", "USE1-RDS:GP2-Storage", "USE1-RDS:ChargedBackupUsage"),
    ),
    (
        "AWSLambda",
        "AWS Lambda",
        ("USE1-Lambda-GB-Second", "USE1-Request", "USE1-Lambda-Provisioned-GB-Second"),
    ),
    (
        "AmazonCloudFront",
        "Amazon CloudFront",
        ("US-DataTransfer-Out-Bytes", "US-Requests-Tier1", "US-Requests-HTTP-Proxy"),
    ),
    (
        "AmazonDynamoDB",
        "Amazon DynamoDB",
        ("USE1-TimedStorage-ByteHrs", "USE1-ReadRequestUnits", "USE1-WriteRequestUnits"),
    ),
    (
        "AmazonVPC",
        "Amazon Virtual Private Cloud",
        ("USE1-NatGateway-Hours", "USE1-NatGateway-Bytes", "USE1-VpcEndpoint-Hours"),
    ),
    (
        "AmazonCloudWatch",
        "AmazonCloudWatch",
        ("USE1-CW:MetricMonitorUsage", "USE1-DataProcessing-Bytes", "USE1-CW:Requests"),
    ),
    (
        "AmazonEKS",
        "Amazon Elastic Container Service for Kubernetes",
        (
            "USE1-AmazonEKS-Hours:perCluster",
            "USE1-Fargate-vCPU-Hours:perCPU",
            "USE1-Fargate-GB-Hours",
        ),
    ),
    (
        "AmazonElastiCache",
        "Amazon ElastiCache",
        (
            "USE1-NodeUsage:cache.t3.micro",
            "USE1-NodeUsage:cache.r6g.large",
            "USE1-ElastiCache:BackupUsage",
        ),
    ),
    ("AmazonRoute53", "Amazon Route 53", ("HostedZone", "DNS-Queries", "Health-Check-AWS")),
    (
        "AWSELB",
        "Elastic Load Balancing",
        ("USE1-LoadBalancerUsage", "USE1-LCUUsage", "USE1-DataProcessing-Bytes"),
    ),
    (
        "AmazonSNS",
        "Amazon Simple Notification Service",
        ("USE1-Requests-Tier1", "USE1-DeliveryAttempts-HTTP", "USE1-DeliveryAttempts-SMS"),
    ),
    (
        "AWSQueueService",
        "Amazon Simple Queue Service",
        ("USE1-Requests-Tier1", "USE1-Requests-FIFO-Tier1", "USE1-DataTransfer-Out-Bytes"),
    ),
    (
        "awskms",
        "AWS Key Management Service",
        ("USE1-KMS-Keys", "USE1-KMS-Requests", "USE1-KMS-Requests-Asymmetric"),
    ),
    (
        "AmazonECR",
        "Amazon EC2 Container Registry (ECR)",
        ("USE1-TimedStorage-ByteHrs", "USE1-DataTransfer-Out-Bytes", "USE1-DataTransfer-In-Bytes"),
    ),
    (
        "AmazonEFS",
        "Amazon Elastic File System",
        ("USE1-TimedStorage-ByteHrs", "USE1-IATimedStorage-ByteHrs", "USE1-ProvisionedTP-MiBpsHrs"),
    ),
    (
        "AWSSecretsManager",
        "AWS Secrets Manager",
        (
            "USE1-AWSSecretsManager-Secrets",
            "USE1-AWSSecretsManagerAPIRequest",
            "USE1-AWSSecretsManager-Rotation",
        ),
    ),
    (
        "AmazonGuardDuty",
        "Amazon GuardDuty",
        ("USE1-PaidEventsAnalyzed", "USE1-PaidS3DataEventsAnalyzed", "USE1-PaidVPCLogsAnalyzed"),
    ),
    (
        "AWSCloudTrail",
        "AWS CloudTrail",
        ("USE1-PaidEventsRecorded", "USE1-DataEventsRecorded", "USE1-InsightsEvents"),
    ),
]

# (product code, product name, publisher): what AWS Marketplace rows bill.
MARKETPLACE: list[tuple[str, str, str]] = [
    ("6njl3yd4r0u8yyc6j1cvbf2mv", "Datadog Pro", "Datadog, Inc."),
    ("b3u2e5yxk0s2xbkg5wn1nf7a6", "Trend Micro Cloud One", "Trend Micro Inc."),
    (
        "4vz0lcq4r7jxmfj1a9t2y3pcz",
        "CIS Hardened Image Ubuntu 22.04",
        "Center for Internet Security",
    ),
    ("9qwk3e1cpj7d5d6x0tn0l5qkr", "Snowflake Data Cloud", "Snowflake Inc."),
]

# Cumulative per-mille thresholds: mostly Usage, every legacy type present.
LINE_ITEM_TYPES: list[tuple[int, str]] = [
    (900, "Usage"),
    (930, "DiscountedUsage"),
    (950, "SavingsPlanCoveredUsage"),
    (960, "SavingsPlanNegation"),
    (965, "RIFee"),
    (970, "Fee"),
    (975, "SavingsPlanRecurringFee"),
    (976, "SavingsPlanUpfrontFee"),
    (985, "Tax"),
    (990, "Credit"),
    (992, "Refund"),
    (994, "BundledDiscount"),
    (996, "EdpDiscount"),
    (998, "PrivateRateDiscount"),
    (1000, "Discount"),
]

# Types whose cost is negative in a real CUR.
NEGATIVE_TYPES = (
    "SavingsPlanNegation",
    "Credit",
    "Refund",
    "BundledDiscount",
    "EdpDiscount",
    "PrivateRateDiscount",
    "Discount",
)

# Usage, DiscountedUsage and SavingsPlanCoveredUsage: the first 950 per mille above.
USAGE_FAMILY_PER_MILLE = 950
PAYER_COUNT = 5
MARKETPLACE_PER_MILLE = 20
DEFAULT_SEED = 20261001


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _line_item_type_case(pick: str) -> str:
    branches = " ".join(f"WHEN {pick} < {limit} THEN '{name}'" for limit, name in LINE_ITEM_TYPES)
    return f"CASE {branches} END"


def _period_bounds(period: str) -> tuple[dt.date, dt.date]:
    start = dt.date.fromisoformat(f"{period}-01")
    end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start, end


def synthetic_cur_sql(rows: int, accounts: int, period: str, seed: int) -> str:
    """The ``SELECT`` that yields ``rows`` synthetic legacy-CUR rows (all VARCHAR)."""
    start, end = _period_bounds(period)
    hours = int((end - start).total_seconds() // 3600)
    codes = _sql_list([s[0] for s in SERVICES])
    names = _sql_list([s[1] for s in SERVICES])
    usage_types = _sql_list([u for s in SERVICES for u in s[2]])
    mp_codes = _sql_list([m[0] for m in MARKETPLACE])
    mp_names = _sql_list([m[1] for m in MARKETPLACE])
    mp_publishers = _sql_list([m[2] for m in MARKETPLACE])
    negative = ", ".join(f"'{t}'" for t in NEGATIVE_TYPES)
    n_services = len(SERVICES)
    # hash(i, seed, k) gives independent, reproducible pseudo-random draws per row.
    return f"""
    WITH draws AS (
        SELECT
            i,
            (hash(i, {seed}, 1) % {accounts})::BIGINT AS acct,
            (hash(i, {seed}, 2) % 5)::BIGINT AS svc_pick,
            (hash(i, {seed}, 3) % 3)::BIGINT AS ut_pick,
            (hash(i, {seed}, 4) % 1000)::BIGINT AS lit_pick,
            (hash(i, {seed}, 5) % 1000)::BIGINT AS mp_pick,
            (hash(i, {seed}, 6) % {hours})::BIGINT AS hour,
            (hash(i, {seed}, 7) % 1000000000000)::BIGINT AS cost_units,
            (hash(i, {seed}, 8) % 100000000000)::BIGINT AS amount_units
        FROM range({rows}) AS t(i)
    ), shaped AS (
        SELECT
            *,
            -- Each account uses five services, spread over the list by its number, with
            -- three usage types each; fees, taxes, credits and discounts land on two of
            -- them and one usage type, as in a real bill (not on every usage type).
            (acct * 7 + (CASE WHEN lit_pick < {USAGE_FAMILY_PER_MILLE} THEN svc_pick
                              ELSE svc_pick % 2 END) * 3) % {n_services} AS svc,
            CASE WHEN lit_pick < {USAGE_FAMILY_PER_MILLE} THEN ut_pick ELSE 0 END AS ut,
            mp_pick < {MARKETPLACE_PER_MILLE} AS marketplace,
            (hash(acct, {seed}, 9) % {len(MARKETPLACE)})::BIGINT AS mp_product,
            {_line_item_type_case("lit_pick")} AS lit,
            TIMESTAMP '{start.isoformat()}' + to_hours(hour::BIGINT) AS usage_start
        FROM draws
    ), costed AS (
        SELECT
            *,
            CASE
                WHEN marketplace THEN 'Usage' ELSE lit
            END AS line_item_type,
            -- 0..100 with 10 decimal places; a marketplace row in 40 is a $0 free trial
            CASE
                WHEN marketplace AND mp_pick % 40 = 0 THEN 0::DECIMAL(18, 10)
                ELSE (cost_units::DECIMAL(18, 0) / 10000000000)::DECIMAL(18, 10)
            END AS cost
        FROM shaped
    )
    SELECT
        'li-' || lpad(i::VARCHAR, 12, '0') AS "identity/LineItemId",
        '{start.isoformat()}T00:00:00Z/{end.isoformat()}T00:00:00Z' AS "identity/TimeInterval",
        'EUINUS26-' || lpad((100000 + acct % {PAYER_COUNT})::VARCHAR, 6, '0')
            || CASE WHEN marketplace THEN '-MP' ELSE '' END AS "bill/InvoiceId",
        CASE WHEN marketplace THEN 'AWS Marketplace' ELSE 'AWS' END AS "bill/BillingEntity",
        'Anniversary' AS "bill/BillType",
        (900000000000 + acct % {PAYER_COUNT})::VARCHAR AS "bill/PayerAccountId",
        '{start.isoformat()}T00:00:00Z' AS "bill/BillingPeriodStartDate",
        '{end.isoformat()}T00:00:00Z' AS "bill/BillingPeriodEndDate",
        (100000000000 + acct * 7919)::VARCHAR AS "lineItem/UsageAccountId",
        line_item_type AS "lineItem/LineItemType",
        strftime(usage_start, '%Y-%m-%dT%H:%M:%SZ') AS "lineItem/UsageStartDate",
        strftime(usage_start + INTERVAL 1 HOUR, '%Y-%m-%dT%H:%M:%SZ') AS "lineItem/UsageEndDate",
        CASE WHEN marketplace THEN {mp_codes}[mp_product + 1]
             ELSE {codes}[svc + 1] END AS "lineItem/ProductCode",
        CASE WHEN marketplace THEN 'USE1-MP:Units'
             ELSE {usage_types}[svc * 3 + ut + 1] END AS "lineItem/UsageType",
        CASE WHEN line_item_type <> 'Tax' THEN 'RunInstances' END AS "lineItem/Operation",
        'us-east-1a' AS "lineItem/AvailabilityZone",
        'arn:aws:ec2:us-east-1:' || (100000000000 + acct * 7919)::VARCHAR
            || ':instance/i-' || lpad(printf('%x', hash(acct, svc, {seed}) % 65536), 4, '0')
            AS "lineItem/ResourceId",
        (amount_units::DECIMAL(18, 0) / 1000000)::DECIMAL(18, 6)::VARCHAR
            AS "lineItem/UsageAmount",
        'USD' AS "lineItem/CurrencyCode",
        '0.0960000000' AS "lineItem/UnblendedRate",
        (CASE WHEN line_item_type IN ({negative}) THEN -cost ELSE cost END)::VARCHAR
            AS "lineItem/UnblendedCost",
        (CASE WHEN line_item_type IN ({negative}) THEN -cost ELSE cost END)::VARCHAR
            AS "lineItem/BlendedCost",
        'Synthetic charge for ' || line_item_type AS "lineItem/LineItemDescription",
        CASE WHEN marketplace THEN {mp_publishers}[mp_product + 1]
             ELSE 'Amazon Web Services, Inc.' END AS "lineItem/LegalEntity",
        CASE WHEN marketplace THEN {mp_names}[mp_product + 1]
             ELSE {names}[svc + 1] END AS "product/ProductName",
        'us-east-1' AS "product/region",
        -- list price is the unblended cost plus a 0..25 % discount the customer got
        (CASE WHEN line_item_type IN ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage')
              THEN (cost * (1 + (hash(i, {seed}, 10) % 250)::DECIMAL(18, 0) / 1000))
                   ::DECIMAL(18, 10)::VARCHAR
              END) AS "pricing/publicOnDemandCost",
        'Hrs' AS "pricing/unit"
    FROM costed
    """


# Legacy column -> (CUR 2.0 column, Parquet type) for the Parquet flavour. The product
# name and region go into the "product" map instead, as CUR 2.0 has them.
CUR2_COLUMNS: dict[str, tuple[str, str]] = {
    "identity/LineItemId": ("identity_line_item_id", "VARCHAR"),
    "identity/TimeInterval": ("identity_time_interval", "VARCHAR"),
    "bill/InvoiceId": ("bill_invoice_id", "VARCHAR"),
    "bill/BillingEntity": ("bill_billing_entity", "VARCHAR"),
    "bill/BillType": ("bill_bill_type", "VARCHAR"),
    "bill/PayerAccountId": ("bill_payer_account_id", "VARCHAR"),
    "bill/BillingPeriodStartDate": ("bill_billing_period_start_date", "TIMESTAMP"),
    "bill/BillingPeriodEndDate": ("bill_billing_period_end_date", "TIMESTAMP"),
    "lineItem/UsageAccountId": ("line_item_usage_account_id", "VARCHAR"),
    "lineItem/LineItemType": ("line_item_line_item_type", "VARCHAR"),
    "lineItem/UsageStartDate": ("line_item_usage_start_date", "TIMESTAMP"),
    "lineItem/UsageEndDate": ("line_item_usage_end_date", "TIMESTAMP"),
    "lineItem/ProductCode": ("line_item_product_code", "VARCHAR"),
    "lineItem/UsageType": ("line_item_usage_type", "VARCHAR"),
    "lineItem/Operation": ("line_item_operation", "VARCHAR"),
    "lineItem/AvailabilityZone": ("line_item_availability_zone", "VARCHAR"),
    "lineItem/ResourceId": ("line_item_resource_id", "VARCHAR"),
    "lineItem/UsageAmount": ("line_item_usage_amount", "DOUBLE"),
    "lineItem/CurrencyCode": ("line_item_currency_code", "VARCHAR"),
    "lineItem/UnblendedRate": ("line_item_unblended_rate", "VARCHAR"),
    "lineItem/UnblendedCost": ("line_item_unblended_cost", "DOUBLE"),
    "lineItem/BlendedCost": ("line_item_blended_cost", "DOUBLE"),
    "lineItem/LineItemDescription": ("line_item_line_item_description", "VARCHAR"),
    "lineItem/LegalEntity": ("line_item_legal_entity", "VARCHAR"),
    "pricing/publicOnDemandCost": ("pricing_public_on_demand_cost", "DOUBLE"),
    "pricing/unit": ("pricing_unit", "VARCHAR"),
}


def synthetic_cur2_sql(rows: int, accounts: int, period: str, seed: int) -> str:
    """The same rows as :func:`synthetic_cur_sql`, shaped as a typed CUR 2.0 export."""
    columns = ", ".join(
        f'CAST("{legacy}" AS {kind}) AS {snake}' for legacy, (snake, kind) in CUR2_COLUMNS.items()
    )
    return f"""
    SELECT {columns},
        MAP {{'product_name': "product/ProductName", 'region': "product/region"}} AS product
    FROM ({synthetic_cur_sql(rows, accounts, period, seed)})
    """


def write_synthetic_cur(
    path: str | Path,
    rows: int,
    accounts: int = 5000,
    period: str = "2026-10",
    seed: int = DEFAULT_SEED,
) -> Path:
    """Write ``rows`` synthetic legacy-CUR rows to ``path`` and return it.

    :param path: ending ``.csv.gz`` writes gzip CSV, ``.parquet`` a CUR 2.0 Parquet
        file (snappy), anything else plain CSV.
    :param accounts: number of distinct usage accounts (spread over 5 payers).
    :param period: billing period ``YYYY-MM``.
    :param seed: same seed and arguments, same file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    compression = "gzip" if path.name.endswith(".gz") else "none"
    target = str(path).replace("'", "''")
    con = duckdb.connect(config={"threads": "2", "memory_limit": "1GB"})
    try:
        # DuckDB preserves insertion order by default, so rows come out in range() order
        # and the file is byte-identical however the threads were scheduled.
        if path.name.endswith(".parquet"):
            con.execute(
                f"COPY ({synthetic_cur2_sql(rows, accounts, period, seed)}) "
                f"TO '{target}' (FORMAT parquet, COMPRESSION snappy)"
            )
        else:
            con.execute(
                f"COPY ({synthetic_cur_sql(rows, accounts, period, seed)}) "
                f"TO '{target}' (FORMAT csv, HEADER true, COMPRESSION {compression})"
            )
    finally:
        con.close()
    return path


def main(argv: list[str] | None = None) -> None:
    """Command line: ``cur_synth.py OUT --rows N [--accounts A] [--period P] [--seed S]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="file to write (.csv, .csv.gz or .parquet)")
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--period", default="2026-10", help="billing period YYYY-MM")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    written = write_synthetic_cur(args.out, args.rows, args.accounts, args.period, args.seed)
    print(written)


if __name__ == "__main__":
    main()
