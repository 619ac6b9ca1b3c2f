"""The ``dispatch_centers:`` and ``transfers:`` settings: read, checked, secrets from the
environment only."""

from __future__ import annotations

import dataclasses

import pytest

from ivr.platform.config import ConfigError
from ivr.platform.outbox_jobs import delivery_config
from ivr.transfers.centers import secret_env_name, transfer_config


def _with(settings, centers=None, transfers=None):  # type: ignore[no-untyped-def]
    raw = {**settings.raw, "dispatch_centers": centers or {},
           "transfers": {**settings.raw["transfers"], **(transfers or {})}}
    return dataclasses.replace(settings, raw=raw)


def test_the_defaults_have_no_center_and_keep_the_menu_on_the_911_line(settings) -> None:
    config = transfer_config(settings)
    assert config.centers == {} and config.menu == {}
    assert config.ring_seconds == 30 and delivery_config(settings).queue == "ivr-high"
    assert (config.reclassify.line, config.reclassify.queue_class) == ("311", "general")


def test_a_center_its_secret_from_the_environment_and_the_menu(settings) -> None:
    config = transfer_config(_with(settings, {
        "county-psap": {"label": "County 911", "number": "+14435550999",
                        "secondary": "sip:backup@psap.example.org",
                        "handoff_url": "https://cad.example.org/eido"},
    }, {"menu": {"911": "county-psap"}}))
    center = config.center("county-psap")
    assert center is not None and center.label == "County 911"
    assert center.destination("secondary") == "sip:backup@psap.example.org"
    assert center.secret_env == secret_env_name("county-psap") == \
        "IVR_DISPATCH_SECRET_COUNTY_PSAP"
    assert center.secret({"IVR_DISPATCH_SECRET_COUNTY_PSAP": "s"}) == "s"
    assert center.secret({}) is None
    assert config.for_menu_line("911") is center and config.for_menu_line("311") is None


@pytest.mark.parametrize(("centers", "transfers", "says"), [
    ({"p": {"number": "4435550999"}}, {}, "dispatch_centers.p.number"),
    ({"p": {"number": "+14435550999", "secondary": "nope"}}, {}, "dispatch_centers.p.secondary"),
    ({"p": {"number": "+14435550999", "handoff_url": "ftp://x"}}, {}, "handoff_url"),
    ({"bad name!": {"number": "+14435550999"}}, {}, "dispatch_centers"),
    ({}, {"menu": {"911": "nowhere"}}, "transfers.menu"),
    ({}, {"ring_seconds": 2}, "ring_seconds"),
    ({}, {"handoff_backoff": [0]}, "handoff_backoff"),
    ({}, {"reclassify": {"line": "999"}}, "transfers.reclassify.line"),
])
def test_mistakes_name_the_setting(settings, centers, transfers, says) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=says.replace(".", r"\.")):
        transfer_config(_with(settings, centers, transfers))
