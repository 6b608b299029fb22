"""The platform's privacy notice, linked from every questionnaire whose cluster has none of its own."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from survey.access import public

bp = Blueprint("privacy", __name__)


@bp.get("/privacy")
@public
def notice():
    config = current_app.config
    return render_template(
        "privacy.html",
        controller=config["DATA_CONTROLLER"],
        retention_years=config["RETENTION_YEARS"],
        min_cell=config["MIN_CELL_SIZE"],
    )
