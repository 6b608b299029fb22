"""Benchmark: adoption by technology x cluster, at 10,000 and 1,000,000 responses, on SQLite and PostgreSQL.

For each database and size it creates an empty database of its own, bulk-loads synthetic data
(bench/generate.py: the responses split over two waves answered by the same organisations, in 40 clusters),
closes the later wave (results are published at the close) and times its reports a number of times with a warm
cache, prints medians, and drops the database again (nothing is left on disk). The sizes count the responses of
both waves; the later wave holds half.

    python -m bench.adoption                               # both sizes, both databases
    python -m bench.adoption --sizes 10000 --backends sqlite --repeat 20

Timed, each on its own:
  sql       the GROUP BY on the tally table behind the chart (reports.aggregate.count_answers);
  report    reports.results.adoption by cluster: that query, the total for suppression, suppression,
            shares and Wilson intervals;
  api       GET /api/v1/surveys/<slug>/adoption?by=cluster through the Flask app (test client): the above
            plus loading the survey, parsing the parameters and writing the JSON;
  filtered  the same API call with a size filter, which is answered from the finest cluster grain;
  page      GET /reports/<slug> (all five charts, the change from the earlier wave included, tables and
            response rates), without the report cache;
  api cached, page cached   the same with the report cache on (in-process store): what readers get between
            submissions (each submission moves the wave's version, and the next request computes afresh);
  page miss the page with the report cache on, the wave's version moved before each request (as a change to
            its responses would move it): the work of *page*, plus storing the result;
  protect s the close's one-off cost: making the wave's protected partition from every response and storing it
            (survey/operations/protections.py), in seconds, once;
  partition read  a server process's first read of that stored partition (then kept in memory).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.generate import WAVE_ID, WAVE_SLUG, load, synthesise, vacuum

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextmanager
def sqlite_database() -> Iterator[str]:
    folder = tempfile.mkdtemp(prefix="bench-adoption-")
    try:
        yield f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"bench_adoption_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def timed(action: Callable[[], object], repeat: int, warm_up: int = 3) -> list[float]:
    """Milliseconds per call, after a few calls that warm caches (database pages, parsed questionnaire)."""
    for _ in range(warm_up):
        action()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return times


def database_size(conn: sqlalchemy.Connection, url: str) -> int:
    if conn.dialect.name == "postgresql":
        return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
    return Path(make_url(url).database).stat().st_size


def measure(url: str, responses: int, clusters: int, repeat: int) -> dict[str, object]:
    os.environ.setdefault("APP_ENV", "development")  # reports are open in development only
    from reports.aggregate import _CLOSED as protections
    from reports.aggregate import count_answers, load_survey, wave_protection
    from reports.dimensions import Query
    from reports.results import ADOPTION_ANSWERS, adoption
    from survey import clock, create_app
    from survey.cache import report_cache
    from survey.models import Wave
    from survey.models.tallies import RESPONSES_ITEM
    from survey.operations.platform import close_wave
    from survey.operations.protections import store_protection

    engine = create_engine(url)
    started = time.perf_counter()
    counts = load(engine, synthesise(responses, clusters, seed=1), log=lambda *_: None)
    load_seconds = time.perf_counter() - started
    engine.dispose()
    if make_url(url).get_backend_name() == "postgresql":
        vacuum(url)

    from bench.readers import reader_clients

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    client, headers = reader_clients(app)
    cached_app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REPORT_CACHE_URL": "memory://"})
    cached_client, cached_headers = reader_clients(cached_app)
    results: dict[str, object] = {
        "responses": responses,
        "clusters": clusters,
        "tally rows": counts["tally"],
        "load s": round(load_seconds),
    }
    with app.app_context():
        from survey.extensions import db

        # Results are published when a wave closes (release control): close the measured wave as an admin
        # would, which stores its protected partition (the one-off cost of the close, reading every response).
        wave = db.session.get(Wave, WAVE_ID)
        close_wave(wave, clock.now())
        db.session.commit()
        started = time.perf_counter()
        store_protection(wave, clock.now())
        db.session.commit()
        results["protect s"] = round(time.perf_counter() - started, 1)
        conn = db.session.connection()
        k = int(app.config["MIN_CELL_SIZE"])

        def first_read() -> None:  # as a server process started after the close: the stored row, decoded
            protections.clear()
            wave_protection(conn, WAVE_ID, k)

        results["partition read"] = timed(first_read, max(5, repeat // 5))
        results["size MB"] = round(database_size(conn, url) / 1e6)
        survey = load_survey(conn, WAVE_SLUG)
        wave_id = survey.wave_id
        query = Query(wave_ids=(survey.wave_id,), by="cluster")
        items = [*survey.technology_codes, RESPONSES_ITEM]
        table = adoption(conn, survey, query, 5)
        assert len(table) == clusters * len(survey.technologies), "one row per cluster and technology"
        results["sql"] = timed(
            lambda: count_answers(conn, query.wave_ids, items, ADOPTION_ANSWERS, (), "cluster"), repeat
        )
        results["report"] = timed(lambda: adoption(conn, survey, query, 5), repeat)
        db.session.remove()

    def api(reader=client, auth=headers, **params) -> None:
        response = reader.get(
            f"/api/v1/surveys/{WAVE_SLUG}/adoption", query_string={"by": "cluster", **params}, headers=auth
        )
        assert response.status_code == 200, response.status_code

    def page(reader=client) -> None:
        response = reader.get(f"/reports/{WAVE_SLUG}")
        assert response.status_code == 200, response.status_code

    # The page measured is the whole one: its waves section draws the change from the earlier wave.
    assert 'id="spec-waves"' in client.get(f"/reports/{WAVE_SLUG}").get_data(as_text=True), "no waves chart"

    results["api"] = timed(api, repeat)
    results["filtered"] = timed(lambda: api(size="small"), repeat)
    results["page"] = timed(page, max(5, repeat // 5))
    results["api cached"] = timed(lambda: api(cached_client, cached_headers), repeat)
    results["page cached"] = timed(lambda: page(cached_client), repeat)

    def page_after_a_change() -> None:
        with cached_app.app_context():
            report_cache().bump([wave_id])  # what a change to the wave's responses does (a reopened wave)
        page(cached_client)

    # As many calls as the other measures: at 60 ms a call it is cheap, and a median of ten moved by 20 ms
    # between runs. (The uncached page keeps a fifth: at 1M it takes half a second a call.)
    results["page miss"] = timed(page_after_a_change, repeat)
    with cached_app.app_context():
        from survey.extensions import db

        db.engine.dispose()
    with app.app_context():
        from survey.extensions import db

        db.engine.dispose()
    return results


def _median(values: object) -> str:
    return f"{statistics.median(values):.1f}"  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--backends", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    parser.add_argument("--clusters", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=50, help="timed calls per measure (after 3 warm-up calls)")
    parser.add_argument(
        "--postgres-url", default=DEFAULT_POSTGRES, help="a server where this user may create and drop databases"
    )
    parser.add_argument("--json", type=Path, help="write the medians here too (for bench/run_all.py)")
    args = parser.parse_args()
    medians: list[dict[str, object]] = []

    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()},"
        f" SQLAlchemy {sqlalchemy.__version__}, {args.clusters} clusters, two waves, {args.repeat} timed calls each"
    )
    print(
        "backend     responses  clusters  tally rows  size MB  load s   sql ms  report ms   api ms  "
        "filtered ms  page ms  api cached  page cached  page miss  protect s  partition read ms"
        "  (medians; p90 of api)"
    )
    for backend in args.backends:
        for size in args.sizes:
            database = sqlite_database() if backend == "sqlite" else postgres_database(args.postgres_url)
            with database as url:
                row = measure(url, size, args.clusters, args.repeat)
            api = sorted(row["api"])  # type: ignore[arg-type]
            print(
                f"{backend:<10} {size:>10,} {row['clusters']:>9} {row['tally rows']:>11,} {row['size MB']:>8} "
                f"{row['load s']:>7} {_median(row['sql']):>8} {_median(row['report']):>10} "
                f"{_median(row['api']):>8} {_median(row['filtered']):>12} {_median(row['page']):>8} "
                f"{_median(row['api cached']):>11} {_median(row['page cached']):>12} {_median(row['page miss']):>10}"
                f" {row['protect s']:>10} {_median(row['partition read']):>18}"
                f"   p90 {api[int(len(api) * 0.9)]:.1f}"
                f"   (load average {os.getloadavg()[0]:.1f})",
                flush=True,
            )
            medians.append(
                {
                    "backend": backend,
                    "responses": size,
                    **{name: statistics.median(value) for name, value in row.items() if isinstance(value, list)},
                    "protect s": row["protect s"],
                }
            )
    if args.json:
        args.json.write_text(json.dumps(medians, indent=1))


if __name__ == "__main__":
    main()
