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
    from ivr import floor_pages  # before console_api.bp is registered: adds floor_api's routes
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    from ivr import connect, console, console_api, open311, voice

    app.register_blueprint(voice.bp)
    app.register_blueprint(connect.bp)
    app.register_blueprint(open311.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(console_api.bp)
    app.register_blueprint(floor_pages.bp)
    app.teardown_appcontext(close_request_db)

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        services.redis.ping()
        return jsonify(ok=True)

    return app
