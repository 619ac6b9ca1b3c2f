"""The Flask application factory."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify
from werkzeug.middleware.proxy_fix import ProxyFix

from ivr.bootstrap import bootstrap
from ivr.platform import logsafe
from ivr.platform.clock import Clock
from ivr.platform.config import Settings, load_settings
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
    floor_api,
    floor_pages,
    flows_api,
    flows_console,
    open311,
    transfer_api,
)
from ivr.web.auth import close_request_db
from ivr.web.console_options import trusted_proxies
from ivr.web.kit import api_http_error, app_headers


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
        floor_api.bp, accounts_api.bp,
        # The pages:
        console.bp, admin.bp, flows_console.bp, floor_pages.bp, dispatch_inbox.bp,
    ):
        app.register_blueprint(blueprint)
    app.teardown_appcontext(close_request_db)
    app.register_error_handler(404, api_http_error)
    app.register_error_handler(405, api_http_error)
    app.after_request(app_headers(services.settings.public_url.startswith("https://")))

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        services.redis.ping()
        return jsonify(ok=True)

    return app
