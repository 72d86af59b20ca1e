"""``connector users add|list|disable|reset``: passwords from a prompt or stdin only."""

from __future__ import annotations

import json

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner

from connector.access import users
from connector.cli.main import main
from tests.core.conftest import run

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def users_cmd(config: str, *args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["--config", config, "users", *args], input=stdin,
                              catch_exceptions=False)  # fmt: skip


def listed(config: str) -> dict[str, dict]:
    answer = users_cmd(config, "list", "--tenant", "acme", "--json")
    assert answer.exit_code == 0, answer.output
    return {u["name"]: u for u in json.loads(answer.stdout)}


def signs_in(config: str, name: str, password: str) -> bool:
    from connector.cli.support import State

    return users.sign_in(State(config).runtime(), name, password) is not None


def test_add_reads_the_password_from_a_hidden_prompt_asked_twice(example_config: str) -> None:
    answer = users_cmd(example_config, "add", "--tenant", "acme", "rita", "--role", "reviewer",
                       stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert answer.exit_code == 0, answer.output
    assert PASSWORD not in answer.output  # the prompt hides what is typed
    assert "Repeat for confirmation" in answer.output
    assert listed(example_config)["rita"]["role"] == "reviewer"
    assert signs_in(example_config, "rita", PASSWORD)


def test_add_with_password_stdin_and_a_customer_then_list(example_config: str) -> None:
    answer = users_cmd(example_config, "add", "--tenant", "acme", "carla", "--role", "customer",
                       "--customer", "1001", "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    assert answer.exit_code == 0, answer.output
    carla = listed(example_config)["carla"]
    assert (carla["role"], carla["customer"], carla["disabled_at"]) == ("customer", "1001", None)
    assert "password" not in json.dumps(carla).lower()
    table = users_cmd(example_config, "list", "--tenant", "acme")
    assert "carla" in table.output and "1001" in table.output


def test_there_is_no_password_argument(example_config: str) -> None:
    answer = users_cmd(example_config, "add", "--tenant", "acme", "x", "--role", "operator",
                       "--password", PASSWORD)  # fmt: skip
    assert answer.exit_code == 2 and "No such option" in answer.output


def test_add_refuses_a_short_password_and_a_taken_name(example_config: str) -> None:
    short = users_cmd(example_config, "add", "--tenant", "acme", "a", "--role", "operator",
                      "--password-stdin", stdin="short\n")  # fmt: skip
    assert short.exit_code == 2 and "at least 12" in short.output
    users_cmd(example_config, "add", "--tenant", "acme", "a", "--role", "operator",
              "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    again = users_cmd(example_config, "add", "--tenant", "acme", "a", "--role", "read-only",
                      "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    assert again.exit_code == 2 and "there is a user 'a' already" in again.output


def test_disable_stops_sign_in_and_reset_gives_a_new_password_and_enables(
    example_config: str,
) -> None:
    users_cmd(example_config, "add", "--tenant", "acme", "olivia", "--role", "operator",
              "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    disabled = users_cmd(example_config, "disable", "--tenant", "acme", "olivia")
    assert disabled.exit_code == 0 and "disabled" in disabled.output
    assert listed(example_config)["olivia"]["disabled_at"] is not None
    assert not signs_in(example_config, "olivia", PASSWORD)
    new = "another long passphrase"
    reset = users_cmd(example_config, "reset", "--tenant", "acme", "olivia", "--password-stdin",
                      stdin=new + "\n")  # fmt: skip
    assert reset.exit_code == 0, reset.output
    assert signs_in(example_config, "olivia", new) and not signs_in(
        example_config, "olivia", PASSWORD
    )
    unknown = users_cmd(example_config, "disable", "--tenant", "acme", "nobody")
    assert unknown.exit_code == 2 and "has no user 'nobody'" in unknown.output


def test_users_is_listed_in_connector_help() -> None:
    assert "users" in run("--help").output
