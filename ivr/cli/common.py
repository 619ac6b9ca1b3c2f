"""What every sub-command of `ivr` shares: the center's settings, with a configuration mistake
printed as one clean line (never a traceback)."""

from __future__ import annotations

import click

from ivr.platform import config


def settings() -> config.Settings:
    """The settings every process reads (defaults, config file, environment)."""
    try:
        return config.load_settings()
    except config.ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
