"""The Flask application factory."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify

from ivr.auth import close_request_db
from ivr.bootstrap import Clock, Services, bootstrap
from ivr.config import Settings, load_settings


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
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    from ivr import flows_api, flows_console  # supervisors' flow editor (issue 6)

    flows_api.attach()  # nested in the console API: /api/v1/flows..., same sign-in and CSRF
    from ivr import accounts_api, admin, connect, console, console_api, open311, voice

    app.register_blueprint(voice.bp)
    app.register_blueprint(connect.bp)
    app.register_blueprint(open311.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(console_api.bp)
    app.register_blueprint(accounts_api.bp)
    app.register_blueprint(admin.bp)
    from ivr import console_requests  # the console's service-request form (issue 8)

    app.register_blueprint(console_requests.bp)
    app.register_blueprint(flows_console.bp)
    app.teardown_appcontext(close_request_db)

    from ivr import dispatch_inbox, transfer_hooks

    app.register_blueprint(transfer_hooks.bp)
    app.register_blueprint(dispatch_inbox.bp)

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        services.redis.ping()
        return jsonify(ok=True)

    return app
