"""``connector webhooks list|retry|test`` for an operator."""

from __future__ import annotations

import json

from click.testing import CliRunner

from connector.cli.support import State
from connector.cli.webhooks import webhooks as webhooks_cli
from connector.pipeline.publish.webhooks import deliver
from tests.webhooks.conftest import SECRET
from tests.webhooks.flow import drafts


def cli(runtime):
    state = State(None)
    state._runtime = runtime  # the fixture's runtime, not one from a settings file

    def run(*args: str):
        return CliRunner().invoke(webhooks_cli, list(args), obj=state)

    return run


def test_an_operator_lists_deliveries_and_sends_a_dead_one_again(runtime, receiver) -> None:
    run = cli(runtime)
    drafts(runtime)
    receiver.status = 500
    deliver(runtime, "acme")
    listed = run("list", "--tenant", "acme", "--state", "failed", "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert len(rows) == 3 and {r["endpoint"] for r in rows} == {"books"}
    tried = next(r for r in rows if r["attempts"] == 1)
    assert tried["last_status"] == 500 and tried["event_type"] == "statement.drafted"

    table = run("list", "--tenant", "acme")
    assert tried["event_id"][:8] in table.output and "HTTP 500" in table.output

    receiver.status = 200
    again = run("retry", "--tenant", "acme", tried["event_id"][:8])
    assert again.exit_code == 0 and "1 event pending again" in again.output
    deliver(runtime, "acme")
    assert receiver.ids().count(tried["event_id"]) == 2

    unknown = run("retry", "--tenant", "acme", "ffffffff")
    assert unknown.exit_code == 5 and "has no webhook event 'ffffffff'" in unknown.output


def test_a_test_event_goes_to_the_named_endpoint_now(runtime, receiver) -> None:
    run = cli(runtime)
    done = run("test", "--tenant", "acme", "books")
    assert done.exit_code == 0, done.output
    (event,) = receiver.events(SECRET)
    assert event["type"] == "webhook.test" and event["data"]["endpoint"] == "books"
    assert f"webhook.test {event['id']} to books: delivered (HTTP 200)" in done.output

    receiver.stop()
    down = run("test", "--tenant", "acme", "books")
    assert down.exit_code == 6 and "ConnectError" in down.output
    missing = run("test", "--tenant", "acme", "crm")
    assert missing.exit_code == 5
    assert "no webhook endpoint 'crm' (books, payments)" in missing.output
