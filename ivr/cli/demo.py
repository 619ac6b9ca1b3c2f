"""The `ivr demo` command: a shift at the center, through the real application."""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path

import click

from ivr.cli import common
from ivr.demo.carrierlink import CarrierError, running_carrier
from ivr.demo.day import DemoOptions, run_demo
from ivr.demo.dayplan import DayOptions
from ivr.demo.floor import HandleTimes
from ivr.demo.livecalls import place_shift


@click.command("demo")
@click.option("--agents", default=8, show_default=True, type=click.IntRange(min=1),
              help="Call-takers: a quarter on 911 only, half on both lines (911 first), the "
                   "rest on 311.")
@click.option("--calls", default=1000, show_default=True, type=click.IntRange(min=1),
              help="Calls in the shift (311 and 911), shaped by the Baltimore 311 day.")
@click.option("--storm", is_flag=True, help="A surge: half as many calls again in one hour.")
@click.option("--storm-at", default=10.0, show_default=True, type=float,
              help="Local hour the storm starts.")
@click.option("--hours", default="7-19", show_default=True, metavar="START-END",
              help="The shift, in local hours (the 311 line opens 07:00-19:00 on weekdays).")
@click.option("--emergency-share", default=0.15, show_default=True,
              type=click.FloatRange(0, 1), help="Share of the calls on the 911 line.")
@click.option("--patience", default=180.0, show_default=True, type=click.FloatRange(min=1),
              help="Mean seconds a 311 caller waits in line before hanging up (911: x3).")
@click.option("--handle", default=150.0, show_default=True, type=click.FloatRange(min=1),
              help="Median talk time in seconds (log-normal); wrap-up comes from config.")
@click.option("--transfers", "transfer_share", default=0.03, show_default=True,
              type=click.FloatRange(0, 1),
              help="Share of the 311 calls taken that call-takers warm-transfer to 911 dispatch.")
@click.option("--date", "day", default=None, metavar="YYYY-MM-DD",
              help="The local day to simulate (default: the last Monday).")
@click.option("--realtime", is_flag=True,
              help="Run at the pace of the wall clock, starting now (watch it on the "
                   "wallboard; the 311 line keeps its real opening hours). With `ivr serve "
                   "--emulate` running on the data folder, the calls go to it instead, for "
                   "its call-takers to take in the console.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the day's Redis and SQLite here (e.g. var, with `ivr serve` on it, to "
                   "watch the wallboard); default: a temporary folder, removed afterwards.")
@click.option("--chart", "chart_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("demo-day.png"), show_default=True, help="The chart of the day.")
@click.option("--seed", default=7, show_default=True, type=int)
def demo(agents: int, calls: int, storm: bool, storm_at: float, hours: str,
         emergency_share: float, patience: float, handle: float, transfer_share: float,
         day: str | None,
         realtime: bool, data_dir: Path | None, chart_path: Path, seed: int) -> None:
    """Run a simulated shift through the real webhooks, then its figures, chart and audit."""
    try:
        start_hour, end_hour = (int(h) for h in hours.split("-", 1))
        chosen = date.fromisoformat(day) if day else None
    except ValueError:
        raise click.BadParameter("use --hours 7-19 and --date YYYY-MM-DD") from None
    options = DemoOptions(
        day=DayOptions(calls=calls, start_hour=start_hour, end_hour=end_hour,
                       emergency_share=emergency_share, patience_311=patience,
                       patience_911=3 * patience, storm=storm, storm_start_hour=storm_at),
        agents=agents, handle=HandleTimes(median=handle), transfer_share=transfer_share,
        date=chosen, realtime=realtime, seed=seed)
    for noisy in ("twilio", "ivr"):  # a line per REST request and per call: thousands
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if realtime:  # an `ivr serve --emulate` on this data: its call-takers take the calls
        carrier = running_carrier(data_dir or common.settings().data_dir)
        if carrier is not None:
            try:
                place_shift(carrier, options, click.echo)
            except CarrierError as exc:
                raise click.ClickException(str(exc)) from exc
            return
    temporary = data_dir is None
    folder = Path(tempfile.mkdtemp(prefix="ivr-demo-")) if temporary else data_dir
    try:
        settings = common.settings(find_running=False)  # its own folder, never a center's
        violations = run_demo(settings, folder, options, chart_path, click.echo)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)
    if violations:
        sys.exit(1)
