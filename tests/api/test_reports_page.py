"""The reports page without a browser: rows, filters, drill-down, CSV, charts, who may see it.

The CSV is compared with ``connector report --format csv`` run in-process on the same
database, so the page and the command are shown to give the same numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest

from connector.access.api_keys import create_key, verify_key
from connector.api import reports_page
from connector.api.sessions import COOKIE
from tests.api.test_review_page import login
from tests.core.conftest import run, settings_file

AS_OF = dt.date(2026, 11, 20)
OCTOBER = {"range": "custom", "from": "2026-10-01", "to": "2026-10-31"}
PAGE = reports_page.PREFIX


@pytest.fixture(autouse=True)
def _report_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reports_page, "clock", lambda: AS_OF)


@pytest.fixture
def signed_in(client, keys):  # type: ignore[no-untyped-def]
    login(client, keys.operator)
    return client


def cli_csv(runtime, db_url: str, tmp_path: Path, *args: str) -> list[dict]:  # type: ignore[no-untyped-def]
    """``connector report --format csv`` on the page's database, as rows."""
    (tmp_path / "cli").mkdir(exist_ok=True)
    config = settings_file(tmp_path / "cli", tmp_path / "tenants", db_url, upgrade=False)
    result = run("--config", str(config), "report", "--tenant", "acme", "--provider", "aws",
                 "--as-of", AS_OF.isoformat(), "--format", "csv", *args)  # fmt: skip
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.output)))


def rows_of(page: str) -> list[tuple[str, str]]:
    """(level, customer) of each report row on the page."""
    return re.findall(r'<tr data-level="([^"]+)" data-customer="([^"]+)"', page)


def drill_links(page: str) -> list[str]:
    """The rows' links one level down (not the path's links back up)."""
    found = re.findall(rf'<th scope="row" class="label"><a href="({PAGE}\?[^"]+)">', page)
    return [html.unescape(h) for h in found]


def test_the_page_lists_a_row_per_customer_with_the_report_and_bill_views(signed_in) -> None:
    page = signed_in.get(PAGE, params=OCTOBER)
    assert page.status_code == 200, page.text
    assert rows_of(page.text) == [("customer", "1001"), ("customer", "1002"),
                                  ("customer", "1003")]  # fmt: skip
    assert "Blue Harbor Logistics LLC" in page.text
    for view in ("report-view", "bill-view", "view-difference"):
        assert re.search(rf'class="{view}">[+-]?[\d,]+\.\d\d', page.text), view
    assert "Why do the report view and the bill view differ?" in page.text
    assert "rounded to the cent once per service category line" in page.text


def test_ticking_customers_narrows_the_rows_and_the_totals(signed_in) -> None:
    every = signed_in.get(PAGE, params=OCTOBER).text
    one = signed_in.get(PAGE, params={**OCTOBER, "customer": ["1002"]}).text
    two = signed_in.get(PAGE, params={**OCTOBER, "customer": ["1001", "1003"]}).text
    assert rows_of(one) == [("customer", "1002")]
    assert rows_of(two) == [("customer", "1001"), ("customer", "1003")]

    def bill(page: str) -> Decimal:
        found = re.search(r'class="bill-view">([\d,.]+)', page)
        assert found
        return Decimal(found[1].replace(",", ""))

    assert bill(one) + bill(two) == bill(every)


def test_drilling_down_goes_customer_account_service_usage_type(signed_in) -> None:
    page = signed_in.get(PAGE, params={**OCTOBER, "customer": ["1001"]}).text
    levels = []
    for _ in range(3):
        links = drill_links(page)
        assert links, page
        page = signed_in.get(links[0]).text
        found = {level for level, _ in rows_of(page)}
        levels.append(found)
        assert {customer for _, customer in rows_of(page)} == {"1001"}
    assert levels == [{"account"}, {"service"}, {"usage-type"}]
    # the usage type is the finest level: its rows link nowhere further
    assert not re.search(r'<th scope="row" class="label"><a', page)
    assert 'aria-current="page">Service ' in page


def test_the_csv_download_is_connector_report_for_the_same_range(
    signed_in, runtime, db_url: str, tmp_path: Path
) -> None:
    answer = signed_in.get(f"{PAGE}/report.csv", params=OCTOBER)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    downloaded = list(csv.DictReader(io.StringIO(answer.text)))
    expected = cli_csv(runtime, db_url, tmp_path, "--range", "2026-10-01..2026-10-31")
    assert downloaded == expected
    (total,) = [r for r in downloaded if r["level"] == "total"]
    assert Decimal(total["price_bill"]) > 0


def test_the_csv_of_a_drilled_down_view_holds_what_is_shown(
    signed_in, runtime, db_url: str, tmp_path: Path
) -> None:
    expected = cli_csv(runtime, db_url, tmp_path, "--range", "2026-10-01..2026-10-31",
                       "--by", "usage-type", "--customer", "1001")  # fmt: skip
    first = next(r for r in expected if r["level"] == "usage-type")
    wanted = [
        r
        for r in expected
        if r["level"] == "usage-type"
        and (r["account"], r["service_category"], r["marketplace"])
        == (first["account"], first["service_category"], first["marketplace"])
    ]
    params = {**OCTOBER, "customer": ["1001"], "by": "usage-type", "account": first["account"],
              "category": first["service_category"],
              "marketplace": "1" if first["marketplace"] == "True" else "0"}  # fmt: skip
    downloaded = list(
        csv.DictReader(io.StringIO(signed_in.get(f"{PAGE}/report.csv", params=params).text))
    )
    body = [r for r in downloaded if r["level"] != "total"]
    (total,) = [r for r in downloaded if r["level"] == "total"]
    assert body == wanted
    assert Decimal(total["price_report"]) == sum(Decimal(r["price_report"]) for r in wanted)
    assert len(wanted) < len([r for r in expected if r["level"] == "usage-type"])


def test_the_charts_name_the_months_and_the_services(
    signed_in, runtime, db_url: str, tmp_path: Path
) -> None:
    page = signed_in.get(PAGE, params=OCTOBER).text
    services = {
        ("Marketplace: " if r["marketplace"].lower() == "true" else "") + r["service_category"]
        for r in cli_csv(
            runtime, db_url, tmp_path, "--range", "2026-10-01..2026-10-31", "--by", "service"
        )  # fmt: skip
        if r["level"] == "service"
    }
    months = re.search(r'<svg[^>]*id="chart-months-USD".*?</svg>', page, re.S)
    by_service = re.search(r'<svg[^>]*id="chart-services-USD".*?</svg>', page, re.S)
    assert months and by_service
    assert "<title>2026-10, Spend: " in months[0]
    named = set(re.findall(r"<title>([^<]+), Spend: ", by_service[0]))
    assert services and named == {html.escape(s) for s in services}
    assert "Spend" in months[0] and "Margin" in months[0]


def test_an_invalid_range_or_provider_is_named_with_what_would_be_valid(signed_in) -> None:
    bad_range = signed_in.get(PAGE, params={"range": "custom", "from": "2026-10-31",
                                            "to": "2026-10-01"})  # fmt: skip
    assert bad_range.status_code == 422
    assert "ends before it starts" in bad_range.text
    bad_provider = signed_in.get(PAGE, params={**OCTOBER, "provider": "nope"})
    assert bad_provider.status_code == 422
    assert "no provider &#39;nope&#39;" in bad_provider.text


def test_without_a_session_the_reports_need_sign_in(client) -> None:
    answer = client.get(PAGE, params=OCTOBER, follow_redirects=False)
    assert answer.status_code in (302, 303)
    assert "login" in answer.headers["location"]
    assert client.get(f"{PAGE}/report.csv", follow_redirects=False).status_code in (302, 303)


@pytest.mark.parametrize(("scope", "allowed"), [("read", True), ("customer", False)])
def test_read_only_users_see_reports_and_customer_users_do_not(
    client, runtime, scope: str, allowed: bool
) -> None:
    token = create_key(runtime, "acme", scope, "1001" if scope == "customer" else None).token
    session_id, _ = client.app.state.review_sessions.start(verify_key(runtime, token))
    client.cookies.set(COOKIE, session_id)
    page = client.get(PAGE, params=OCTOBER, follow_redirects=False)
    csv_answer = client.get(f"{PAGE}/report.csv", params=OCTOBER, follow_redirects=False)
    if allowed:
        assert page.status_code == 200 and rows_of(page.text)
        assert csv_answer.status_code == 200
    else:
        assert page.status_code in (403, 404) and "1002" not in page.text
        assert csv_answer.status_code in (403, 404) and "price_bill" not in csv_answer.text


def test_month_to_date_without_data_says_what_to_run(signed_in) -> None:
    # the report date is 2026-11-20: November has no charges stored yet
    page = signed_in.get(PAGE)
    assert page.status_code == 200
    assert rows_of(page.text) == []
    assert "2026-11-01 to 2026-11-20" in page.text
    assert "connector ingest --tenant acme --provider aws" in page.text
