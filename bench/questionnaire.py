"""The questionnaire page: its weight (HTML and the CSS it links), whether it needs JavaScript, server time.

    python -m bench.questionnaire [--repeat 200] [--json out.json]

Serves GET /r/<token> from a throw-away SQLite database through the Flask test client (no network): the time
is the server's, medians over `repeat` calls after a few warm-up calls. The load average at the end is printed too:
on a shared machine, only figures taken under similar load compare.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path


def measure(repeat: int) -> dict[str, object]:
    folder = tempfile.mkdtemp(prefix="bench-questionnaire-")
    try:
        os.environ.setdefault("APP_ENV", "development")
        from survey import clock, create_app
        from survey.extensions import db
        from survey.models import Cluster, Organisation
        from survey.operations.setup import create_wave, invite_organisation, load_questionnaire

        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'q.sqlite3'}"})
        with app.app_context():
            db.create_all()
            today = clock.today()
            wave = create_wave(
                "bench", "Bench", load_questionnaire(), today - timedelta(days=1), today + timedelta(days=30)
            )
            wave.open(clock.now())
            cluster = Cluster(slug="c", name="Cluster", country="ES", ecosystem="digital")
            organisation = Organisation(
                name="Org", country="ES", org_type="sme", size_class="small", ecosystem="digital", clusters=[cluster]
            )
            db.session.add_all([cluster, organisation])
            _invitation, token = invite_organisation(wave, organisation, clock.now())
            db.session.commit()
            db.session.remove()
        client = app.test_client()
        url = f"/r/{token}"
        page = client.get(url)
        assert page.status_code == 200
        html = page.data
        css = 0
        for href in re.findall(rb'<link rel="stylesheet" href="([^"]+)"', html):
            css += len(client.get(href.decode()).data)
        for _ in range(5):
            client.get(url)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        with app.app_context():
            db.engine.dispose()
        return {
            "html_bytes": len(html),
            "css_bytes": css,
            "total_kb": (len(html) + css) / 1000,
            "scripts": len(re.findall(rb"<script", html)),
            "median_ms": statistics.median(times),
            "p90_ms": sorted(times)[int(len(times) * 0.9)],
            "load_average_1min": os.getloadavg()[0],
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = measure(args.repeat)
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
