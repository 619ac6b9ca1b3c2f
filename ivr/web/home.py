"""The landing page ``/``: every page of the center under the people it is for, with the
signed-in account's own pages first in the bar. Open to anyone: it holds links and the center's
name, nothing else; each page it links to checks its own role."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, url_for

from ivr.web import csrf
from ivr.web.kit import current_services, page_blueprint
from ivr.web.nav import by_audience, viewer

bp = page_blueprint("home")


@bp.get("/")
def page() -> Any:
    account = viewer()
    settings = current_services().settings
    return render_template("home.html", account=account, groups=by_audience(),
                           center=settings.center, timezone=settings.timezone,
                           csrf_token=csrf.token())


@bp.get("/favicon.ico")
def favicon() -> Any:
    """Browsers ask here for pages that name no icon (the JSON of Open311, say)."""
    return redirect(url_for("static", filename="shared/favicon.svg"), 301)
