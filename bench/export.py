"""Benchmark: the streamed full response export (admins' responses.csv) at 1,000,000 responses.

Loads a synthetic wave with bench/generate.py (in a child process, so that its memory does not count), then
streams GET /reports/<slug>/responses.csv through the app's WSGI interface as an admin and reads the body a
chunk at a time, as a server would send it. Prints rows per second and the process's peak RSS.

    python -m bench.export --responses 1000000                      # SQLite in a temporary folder
    python -m bench.export --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_export
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.generate import WAVE_SLUG


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="an empty database; default: a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'export.sqlite3'}"
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bench.generate", "--database-url", url,
                        "--responses", str(args.responses)], check=True, stdout=subprocess.DEVNULL)
        print(f"loaded {args.responses:,} responses in {time.perf_counter() - started:.0f} s")
        run(url)


def run(url: str) -> None:
    from survey import clock, create_app
    from survey.extensions import db
    from survey.models import Role
    from survey.operations.accounts import create_user, start_login_session

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "EXPORT_RATE_LIMIT": "1000 per minute"})
    with app.app_context():
        db.create_all()  # only the tables the generator does not make (users, audit log)
        user = create_user("bench@example.org", "a long benchmark password", Role.ADMIN, [])
        token = start_login_session(user, clock.now())
        db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    response = client.get(f"/reports/{WAVE_SLUG}/responses.csv", buffered=False)
    assert response.status_code == 200, response.status
    size = lines = 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\n")
    response.close()
    elapsed = time.perf_counter() - started
    rows = lines - 1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{rows:,} rows, {size / 1e6:,.0f} MB of CSV in {elapsed:.1f} s: {rows / elapsed:,.0f} rows/s; "
          f"peak RSS {peak:,.0f} MB (before the export {before:,.0f} MB)")


if __name__ == "__main__":
    main()
