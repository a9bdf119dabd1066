"""The click command behind ``main`` is built once for each set of registered commands (typer
builds it anew on every call: about 60 ms a command, thousands of times in the tests)."""

from __future__ import annotations

from medadapt.cli.main import _click_command, app
from tests.cli.helpers import run_cli


def test_the_command_is_built_once_and_again_when_a_command_is_added_or_removed():
    assert run_cli("--help").code == 0  # the commands registered
    first = _click_command()
    assert _click_command() is first

    @app.command("added-for-this-test")
    def _added() -> None:
        print("ran the added command")

    try:
        with_added = _click_command()
        assert with_added is not first and "added-for-this-test" in with_added.commands
        assert run_cli("added-for-this-test").stdout == "ran the added command\n"
    finally:
        app.registered_commands.pop()
    without = _click_command()
    assert "added-for-this-test" not in without.commands
    assert set(without.commands) == set(first.commands)
