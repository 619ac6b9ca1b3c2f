"""The Flask application factory."""

from __future__ import annotations

import logging
from typing import Any

import redis
from flask import Flask, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix

from ivr.bootstrap import bootstrap
from ivr.platform import heartbeat, logsafe
from ivr.platform.clock import Clock
from ivr.platform.config import Settings, load_settings
from ivr.platform.stores import STORE_ERRORS
from ivr.services import Services
from ivr.voice import agent_routes, caller_routes, transfer_routes
from ivr.web import (
    accounts_api,
    admin,
    console,
    console_api,
    console_live,
    console_requests,
    dispatch_inbox,
    emulated,
    floor_api,
    floor_pages,
    flows_api,
    flows_console,
    monitor_api,
    open311,
    quality_api,
    quality_pages,
    transfer_api,
)
from ivr.web.auth import close_request_db
from ivr.web.console_options import trusted_proxies
from ivr.web.kit import api_http_error, app_headers, store_unavailable


def create_app(
    settings: Settings | None = None,
    services: Services | None = None,
    clock: Clock | None = None,
    test_config: dict[str, Any] | None = None,
) -> Flask:
    """Build the app. Tests pass their own settings (and a virtual clock); processes read config."""
    app = Flask(__name__)
    if services is None:
        settings = settings or load_settings()
        services = bootstrap(settings, clock=clock)
    app.config.update(SECRET_KEY=services.settings.secret_key or None)
    if test_config:
        app.config.update(test_config)
    app.extensions["ivr"] = services
    # The web process masks callers' numbers: its log key is read (or made) now, so a data
    # directory that cannot keep it stops the start, never a call.
    _ = services.settings.log_key
    proxies = trusted_proxies(services.settings)
    if proxies:  # the client's address and scheme, as the trusted proxies forwarded them
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logsafe.install()

    for blueprint in (
        caller_routes.bp, agent_routes.bp, transfer_routes.bp,  # Twilio's webhooks (signed)
        open311.bp,  # Open311 GeoReport v2 (API keys)
        # The JSON API under /api/v1 (web sessions + CSRF, ivr.web.kit), one blueprint a face:
        console_api.bp, console_live.bp, transfer_api.bp, console_requests.bp, flows_api.bp,
        floor_api.bp, accounts_api.bp, monitor_api.bp, quality_api.bp, emulated.bp,
        # The pages:
        console.bp, admin.bp, flows_console.bp, floor_pages.bp, dispatch_inbox.bp,
        quality_pages.bp,
    ):
        app.register_blueprint(blueprint)
    app.teardown_appcontext(close_request_db)
    # Every page says so when the carrier is the offline emulator (`ivr serve --emulate`).
    emulated_carrier = bool(services.settings.emulator_url)
    app.context_processor(lambda: {"emulated_carrier": emulated_carrier})
    app.register_error_handler(404, api_http_error)
    app.register_error_handler(405, api_http_error)
    for unreachable in STORE_ERRORS:
        app.register_error_handler(unreachable, store_unavailable)
    app.after_request(app_headers(services.settings.public_url.startswith("https://")))

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        parts = health(services)
        ok = all(parts.values())
        return jsonify(ok=ok, parts=parts), 200 if ok else 503

    return app


def health(services: Services) -> dict[str, bool]:
    """Each part of the service: Redis and SQL answer, the worker and the ticker have beaten
    lately (`ivr.platform.heartbeat`). Three round trips; nothing is written."""
    parts = {"redis": False, "database": False, **{p: False for p in heartbeat.PARTS}}
    try:
        services.redis.ping()
        parts["redis"] = True
        parts.update(heartbeat.alive(services.redis, services.settings.center))
    except redis.RedisError:
        pass  # the worker and the ticker cannot be known alive without it
    try:
        with services.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        parts["database"] = True
    except SQLAlchemyError:
        pass
    return parts
