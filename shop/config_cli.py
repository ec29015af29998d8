"""`flask --app shop check-config`: the settings' report, without starting the shop.

It is a Flask CLI plugin (the `flask.commands` entry point in pyproject.toml), so it runs
even when the app itself would refuse to start: that is when it is needed.
"""

from __future__ import annotations

import click

from shop.config import ConfigError, derived_settings, load_config
from shop.config_checks import config_problems, config_warnings


@click.command("check-config")
def check_config_command() -> None:
    """Check the settings in the environment as the shop would at start; exit 1 if wrong."""
    try:
        config = load_config()
    except ConfigError as exc:
        _report(exc.problems, [], app_env=None)
        raise click.exceptions.Exit(1) from None
    config.update(derived_settings(config))
    problems = config_problems(config)
    _report(problems, config_warnings(config), app_env=str(config["APP_ENV"]))
    if problems:
        raise click.exceptions.Exit(1)


def _report(problems: list[str], warnings: list[str], app_env: str | None) -> None:
    where = f"APP_ENV={app_env}" if app_env else "The settings"
    if problems:
        click.echo(f"{where}: the shop refuses to start ({len(problems)} "
                   f"problem{'s' if len(problems) != 1 else ''}):")
        for problem in problems:
            click.echo(f"  - {problem}")
    else:
        click.echo(f"{where}: the settings are fine; the shop starts.")
    for warning in warnings:
        click.echo(f"  warning: {warning}")
