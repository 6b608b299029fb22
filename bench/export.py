"""Benchmark: the streamed full response export (admins' responses.csv) at 1,000,000 responses.

Loads a synthetic wave with bench/generate.py (in a child process, so that its memory does not count) into a
database made for the run (on PostgreSQL then VACUUMed, as autovacuum would have done), then streams
GET /reports/<slug>/responses.csv through the app's WSGI interface as an admin and reads the body a chunk at a
time, as a server would send it. The generator makes one wave only (`--waves 1`, 40 clusters), so that the
exported wave holds all N responses: by default it would split them over two waves. Prints rows per second,
the process's peak RSS and, on a local PostgreSQL, the CPU time and largest peak RSS of the server processes
that ran the COPY statements (the export's writers). The last line is a one-line summary (bench/run_all.py quotes it).

    python -m bench.export --responses 1000000                          # SQLite in a temporary folder
    python -m bench.export --responses 1000000 --backend postgresql     # a database created and dropped here
    python -m bench.export --database-url postgresql+psycopg://…/empty  # an existing empty database
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.generate import WAVE_SLUG, vacuum

#: Where `--backend postgresql` creates its database (the server's maintenance database).
SERVER_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument(
        "--backend",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="where to load the wave: a temporary SQLite file, or a PostgreSQL database created on "
        "--server-url and dropped at the end",
    )
    parser.add_argument("--server-url", default=SERVER_URL, help="PostgreSQL server for --backend postgresql")
    parser.add_argument("--database-url", help="an existing empty database instead (not dropped)")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with _database(args) as url:
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.generate",
                "--database-url",
                url,
                "--responses",
                str(args.responses),
                "--waves",
                "1",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(f"loaded {args.responses:,} responses in {time.perf_counter() - started:.0f} s", flush=True)
        if make_url(url).get_backend_name() == "postgresql":
            vacuum(url)
        figures = run(url)
    figures.update(
        backend=make_url(url).get_backend_name(),
        responses=args.responses,
        load_average=[round(load_before, 2), round(os.getloadavg()[0], 2)],
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    server = (
        f" (PostgreSQL: {figures['server_processes']} processes, {figures['server_cpu_s']:.1f} s CPU, "
        f"peak RSS {figures['server_rss_mb']:,.0f} MB)"
        if figures.get("server_cpu_s") is not None
        else ""
    )
    print(
        f"{figures['rows']:,} rows on {figures['backend']}: {figures['rows_per_s']:,.0f} rows/s, "
        f"peak RSS {figures['peak_rss_mb']:,.0f} MB{server}; load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after"
    )


@contextmanager
def _database(args) -> Iterator[str]:
    """The URL of an empty database for this run; a temporary one is removed afterwards, even on failure."""
    if args.database_url:
        yield args.database_url
    elif args.backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'export.sqlite3'}"
    else:
        server = make_url(args.server_url)
        name = f"bench_export_{os.getpid()}_{uuid.uuid4().hex[:6]}"  # made here: safe to quote as is
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
            print(f"dropped database {name}")


def run(url: str) -> dict:
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
    cpu = time.process_time()
    started = time.perf_counter()
    response = client.get(f"/reports/{WAVE_SLUG}/responses.csv", buffered=False)
    assert response.status_code == 200, response.status
    size = lines = 0
    server, probe = None, make_url(url).get_backend_name() == "postgresql"
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\n")
        if probe and lines > 1:  # the COPY is running
            server, probe = _copy_processes(url), False
    server_cpu, server_rss, writers = server() if server else (None, None, 0)
    response.close()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    rows = lines - 1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{rows:,} rows, {size / 1e6:,.0f} MB of CSV in {elapsed:.1f} s: {rows / elapsed:,.0f} rows/s; "
        f"peak RSS {peak:,.0f} MB (before the export {before:,.0f} MB); this process's CPU {cpu:.1f} s"
    )
    if server_cpu is not None:
        print(
            f"PostgreSQL processes that ran the COPY: {writers}, {server_cpu:.1f} s CPU in all "
            f"({rows / server_cpu:,.0f} rows per CPU second), peak RSS {server_rss:,.0f} MB"
        )
    with app.app_context():
        db.engine.dispose()
    return {
        "rows": rows,
        "mb": round(size / 1e6),
        "seconds": round(elapsed, 2),
        "rows_per_s": round(rows / elapsed),
        "peak_rss_mb": round(peak),
        "rss_before_mb": round(before),
        "client_cpu_s": round(cpu, 2),
        "server_cpu_s": server_cpu and round(server_cpu, 2),
        "server_rss_mb": server_rss and round(server_rss),
        "server_processes": writers,
    }


def _copy_processes(url: str):
    """For a PostgreSQL on this machine: a function giving the CPU seconds spent since now by the server processes
    running the export's COPY statements (its writers, see survey.exports.responses.copy_chunks), and their
    largest peak RSS (from /proc). None for a remote server."""
    engine = create_engine(url)
    with engine.connect() as conn:
        pids = (
            conn.execute(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND query LIKE 'COPY%'"
                )
            )
            .scalars()
            .all()
        )
    engine.dispose()
    procs = [Path(f"/proc/{pid}") for pid in pids]
    if not procs or not all(proc.exists() for proc in procs):
        return None

    def cpu_seconds() -> float:
        total = 0.0
        for proc in procs:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
        return total

    start = cpu_seconds()

    def peak_mb(proc: Path) -> float:
        status = dict(line.split(":", 1) for line in (proc / "status").read_text().splitlines())
        return int(status["VmHWM"].split()[0]) / 1024

    def figures() -> tuple[float, float, int]:
        return cpu_seconds() - start, max(map(peak_mb, procs)), len(procs)

    return figures


if __name__ == "__main__":
    main()
