"""``/docs`` in real headless Chromium, under its Content-Security-Policy: Swagger UI
starts, lists the operations, and "Try it out" calls this server; the browser reports
no violation of the policy."""

from __future__ import annotations

from tests.api.browser import chromium, server  # noqa: F401 (a fixture)

VIOLATIONS = """() => {
  window.__violations = [];
  document.addEventListener("securitypolicyviolation",
    (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI));
}"""


def test_swagger_ui_works_under_the_docs_pages_policy(server: str) -> None:  # noqa: F811
    executable = chromium()
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.add_init_script(f"({VIOLATIONS})()")
            answer = page.goto(f"{server}/docs")
            assert answer is not None and "script-src" in answer.headers["content-security-policy"]
            expect(page.locator(".info .title")).to_contain_text("Billing Connector API")
            health = page.locator(".opblock-get", has_text="/health").first
            expect(health).to_be_visible()
            health.locator(".opblock-summary").click()
            page.get_by_role("button", name="Try it out").click()
            page.get_by_role("button", name="Execute").click()
            expect(
                page.locator(".live-responses-table tr.response .response-col_status")
            ).to_have_text("200")
            assert page.evaluate("window.__violations") == []
            assert errors == []
        finally:
            browser.close()
