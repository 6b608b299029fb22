"""Load test: questionnaire submissions through gunicorn with the whole stack, against a bare Flask handler.

Both run at once under the same gunicorn.conf.py on loopback, against one PostgreSQL database of their own:

  full  POST /r/<token>: session cookie, CSRF check, invitation lookup and row lock, WTForms validation,
        the response, its clusters, tally counts (survey/operations/tallies.py), the report cache version bump in Redis;
  bare  POST /bare/<organisation> (bench/bare_app.py): only the same rows, through the same driver.

wrk (Debian package `wrk`, installed here with apt-get when missing) drives them with bench/submit.lua, 32
connections, each request a different organisation's submission. The (link, cookie, CSRF token) triples are
made before the run with the servers' secret key, exactly as the questionnaire page would hand them out, so
the timed requests are submissions only. Rounds alternate full and bare; the figures are medians over rounds.

Counted after every round: responses stored against requests answered 303/201 (none lost: stored >= answered;
stored - answered is at most the requests in flight when wrk stopped), no organisation with two responses, and
the tally's response count equal to the responses stored (no double counting).

Two kinds of rounds: back to back (each of the 32 connections submits again as soon as it has its answer: the
sustained rate, where latency is the queue, 32 / rate by Little's law) and paced (each connection is a
respondent who waits about --pause-ms, 1 s by default, between submissions: about 30 submissions a second,
a million responses in nine hours; the latency a respondent sees when the service is busy but not saturated).
Paced runs last 30 s: wrk sends every connection's first request at once when it starts, and those few
requests wait for each other; in 10-second runs they were more than 1% of the requests and made the p99.

    python -m bench.load                         # 3 rounds of 10 s each
    python -m bench.load --rounds 1 --duration 5 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
from sqlalchemy import create_engine, insert, text

from bench.adoption import DEFAULT_POSTGRES, postgres_database
from bench.generate import COUNTRIES, WAVE_ID, load, synthesise

ROOT = Path(__file__).resolve().parent.parent
FULL_PORT, BARE_PORT = 5410, 5411
CONNECTIONS = 32
WRK_THREADS = 2
CLUSTERS = 40


def ensure_wrk() -> str:
    """The wrk binary, installed from Debian when missing (the benchmark machine is a Debian VM)."""
    found = shutil.which("wrk")
    if found:
        return found
    apt = ["apt-get", "install", "-y", "-q", "wrk"]
    if os.geteuid() != 0:
        apt = ["sudo", *apt]
    print("installing wrk:", " ".join(apt), flush=True)
    subprocess.run(apt, check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is needed: apt-get install wrk")
    return found


def _form_values(rng: np.random.Generator, questionnaire, profile: dict) -> dict:
    """What form.values() gives for a valid submission: varied answers, the organisation's own profile."""
    values: dict = {}
    for code, item in questionnaire.items.items():
        if code in profile:
            values[code] = profile[code]
        elif code == "region":
            values[code] = None
        elif item.type in {"choice", "select"}:
            values[code] = item.choices[int(rng.integers(len(item.choices)))].code
        elif item.type == "multi":
            values[code] = [item.choices[0].code]
        elif item.type == "integer":
            values[code] = int(rng.integers(1, 500))
        else:
            values[code] = "All fine."
    return values


def prepare(url: str, base: int, submissions: int, secret_key: str, folder: Path) -> dict[str, list[Path]]:
    """Load `base` responses (bench/generate.py: two waves, half of them in the open one), add `submissions`
    organisations invited to the open wave, write the triple files per run."""
    engine = create_engine(url)
    loaded = load(engine, synthesise(base, clusters=CLUSTERS, seed=3), log=lambda *_: None)
    from survey.models import Invitation, Organisation, membership
    from survey.models.invitations import hash_token
    from survey.questionnaire import default_document, parse

    questionnaire = parse(default_document())
    rng = np.random.default_rng(5)
    profile_items = {item.code: item for item in questionnaire.section("profile").items}
    sizes = [c.code for c in profile_items["size_class"].choices]
    types = [c.code for c in profile_items["org_type"].choices]
    ecosystems = [c.code for c in profile_items["ecosystem"].choices]
    # Ids after the loaded ones (the same number for the organisation and its invitation).
    first = max(loaded["organisations"], loaded["invitations"]) + 1
    organisations, invitations, members, people = [], [], [], []
    for index in range(submissions):
        organisation_id = first + index
        profile = {
            "country": COUNTRIES[int(rng.integers(len(COUNTRIES)))],
            "size_class": sizes[int(rng.integers(3))],
            "org_type": types[int(rng.integers(len(types)))],
            "ecosystem": ecosystems[int(rng.integers(len(ecosystems)))],
        }
        clusters = sorted(
            {int(rng.integers(1, CLUSTERS + 1))}
            | ({int(rng.integers(1, CLUSTERS + 1))} if rng.random() < 0.1 else set())
        )
        token = secrets.token_urlsafe(24)
        organisations.append({"id": organisation_id, "name": f"Load organisation {organisation_id}", **profile})
        invitations.append(
            {
                "id": organisation_id,
                "wave_id": WAVE_ID,
                "organisation_id": organisation_id,
                "token_hash": hash_token(token),
            }
        )
        members += [{"organisation_id": organisation_id, "cluster_id": c} for c in clusters]
        people.append((organisation_id, token, profile, clusters, _form_values(rng, questionnaire, profile)))
    with engine.begin() as conn:
        now = time.strftime("%Y-%m-%d %H:%M:%S")
        conn.execute(insert(Organisation.__table__), [{**o, "created_at": now} for o in organisations])
        conn.execute(insert(membership), members)
        conn.execute(insert(Invitation.__table__), [{**i, "created_at": now} for i in invitations])
        for table in ("organisation", "invitation"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        conn.execute(text("ANALYZE"))
    engine.dispose()

    # Session cookie and CSRF token as the questionnaire page would have set them, signed with the servers' key.
    os.environ.update(APP_ENV="production", SECRET_KEY=secret_key, DATABASE_URL=url)
    from flask import session
    from flask_wtf.csrf import generate_csrf

    from survey import create_app

    app = create_app()
    serializer = app.session_interface.get_signing_serializer(app)
    profile_codes = {item.code for item in questionnaire.section("profile").items}
    full_lines, bare_lines = [], []
    # Every other organisation answers through the full stack, the rest through the bare handler: the two never
    # share an organisation, so neither finds responses the other stored.
    for index, (organisation_id, token, profile, clusters, values) in enumerate(people):
        full = index % 2 == 0
        with app.test_request_context():
            csrf = generate_csrf()
            cookie = f"{app.config['SESSION_COOKIE_NAME']}={serializer.dumps(dict(session))}"
        pairs = [("csrf_token", csrf), ("action", "submit")]
        for code, value in values.items():
            for one in value if isinstance(value, list) else [value]:
                pairs.append((code, "" if one is None else str(one)))
        if full:
            full_lines.append(f"/r/{token}\t{cookie}\t{urlencode(pairs)}")
            continue
        answers = {code: value for code, value in values.items() if code not in profile_codes}
        bare = {**profile, "wave_id": WAVE_ID, "clusters": ",".join(map(str, clusters)), "answers": json.dumps(answers)}
        bare_lines.append(f"/bare/{organisation_id}\t\t{urlencode(bare)}")
    return {"full": _split(full_lines, folder, "full"), "bare": _split(bare_lines, folder, "bare")}


def _split(lines: list[str], folder: Path, kind: str) -> list[Path]:
    """Disjoint files for the warm-up (first) and each round."""
    files = []
    per_file = len(lines) // RUNS_PER_KIND
    for index in range(RUNS_PER_KIND):
        path = folder / f"{kind}-{index}.tsv"
        path.write_text("\n".join(lines[index * per_file : (index + 1) * per_file]) + "\n")
        files.append(path)
    return files


RUNS_PER_KIND = 7  # set from --rounds in main (one warm-up run + rounds back to back + paced rounds)


def start_server(app: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), app],
        cwd=ROOT,
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_ready(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server on port {port} stopped (exit {server.returncode})")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answers (the bare app has no /healthz)
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the server on port {port} did not start")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def run_wrk(
    wrk: str, port: int, triples: Path, duration: int, connections: int = CONNECTIONS, pause_ms: int = 0
) -> dict:
    """One wrk run; also how much CPU wrk itself used (it shares the 2 cores with the server).

    With `pause_ms`, each connection waits about that long between its submissions (see bench/submit.lua).
    """
    started = time.monotonic()
    process = subprocess.Popen(
        [
            wrk,
            f"-t{WRK_THREADS}",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "10s",
            "-s",
            str(Path(__file__).with_name("submit.lua")),
            f"http://127.0.0.1:{port}",
        ],
        env={**os.environ, "TRIPLES": str(triples), "THREADS": str(WRK_THREADS), "PAUSE_MS": str(pause_ms)},
        stdout=subprocess.PIPE,
        text=True,
    )
    out, _ = process.communicate()
    wall = time.monotonic() - started
    line = next((line for line in out.splitlines() if line.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk gave no result:\n{out}")
    result = json.loads(line[len("RESULT ") :])
    result["rate"] = result["succeeded"] / (result["duration_us"] / 1e6)
    result["wall_s"] = wall
    return result


def counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        responses = conn.execute(text("SELECT count(*) FROM response")).scalar_one()
        doubles = conn.execute(
            text(
                "SELECT count(*) FROM (SELECT 1 FROM response GROUP BY wave_id, organisation_id HAVING count(*) > 1) d"
            )
        ).scalar_one()
        tallied = conn.execute(
            text("SELECT coalesce(sum(n), 0) FROM tally WHERE grain = 'total' AND item = '_responses'")
        ).scalar_one()
    engine.dispose()
    return {"responses": int(responses), "doubles": int(doubles), "tallied": int(tallied)}


def settled_counts(url: str) -> dict[str, int]:
    """Counts once no more responses arrive (two readings one second apart agree)."""
    previous = counts(url)
    while True:
        time.sleep(1.0)
        current = counts(url)
        if current == previous:
            return current
        previous = current


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot, from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    global RUNS_PER_KIND
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument(
        "--base",
        type=int,
        default=10_000,
        help="responses already stored, half in the open wave and half in the earlier one",
    )
    parser.add_argument(
        "--capacity",
        type=int,
        default=600,
        help="submissions prepared per second of each run (must exceed the fastest rate)",
    )
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--connections", type=int, default=CONNECTIONS, help="concurrent respondents")
    parser.add_argument(
        "--pause-ms",
        type=int,
        default=1000,
        help="in the paced rounds, how long each respondent waits between submissions (mean)",
    )
    parser.add_argument(
        "--paced-duration",
        type=int,
        default=30,
        help="seconds per paced run: long enough that the first requests, sent by all 32 "
        "connections at once when wrk starts, are under 1%% of the run",
    )
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    RUNS_PER_KIND = 2 * args.rounds + 1
    wrk = ensure_wrk()
    secret_key = secrets.token_urlsafe(48)
    folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
    servers: list[subprocess.Popen] = []
    try:
        with postgres_database(args.postgres_url) as url:
            started = time.perf_counter()
            files = prepare(url, args.base, 2 * args.capacity * args.duration * RUNS_PER_KIND, secret_key, folder)
            print(f"# prepared in {time.perf_counter() - started:.0f} s", flush=True)
            prefix = f"bench-load-{secrets.token_hex(4)}"
            env = {
                **os.environ,
                "APP_ENV": "production",
                "SECRET_KEY": secret_key,
                "DATABASE_URL": url,
                "RATELIMIT_STORAGE_URL": args.redis_url,
                "REPORT_CACHE_URL": args.redis_url,
                "REPORT_CACHE_PREFIX": prefix,
                "RATELIMIT_KEY_PREFIX": prefix,
                "GUNICORN_ACCESS_LOG": "-",
                "PYTHONPATH": str(ROOT),
            }
            servers = [
                start_server("survey:create_app()", FULL_PORT, env, folder / "full.log"),
                start_server("bench.bare_app:create_app()", BARE_PORT, env, folder / "bare.log"),
            ]
            for port, server in zip((FULL_PORT, BARE_PORT), servers, strict=True):
                wait_ready(port, server)
            ports = {"full": FULL_PORT, "bare": BARE_PORT}
            runs: dict[str, list[dict]] = {"full": [], "bare": [], "full paced": [], "bare paced": []}
            # A warm-up run of each, then rounds back to back, then rounds with respondents pausing; the kinds
            # alternate which goes first, so neither always meets a warmer database.
            plan = (
                [("warm-up", 0)]
                + [(f"round {n}", 0) for n in range(1, args.rounds + 1)]
                + [(f"paced {n}", args.pause_ms) for n in range(1, args.rounds + 1)]
            )
            for index, (label, pause_ms) in enumerate(plan):
                for kind in ("full", "bare") if index % 2 == 0 else ("bare", "full"):
                    before = counts(url)
                    cpu_before, ticks_before = children_cpu(), machine_ticks()
                    duration = args.paced_duration if pause_ms else args.duration
                    result = run_wrk(wrk, ports[kind], files[kind][index], duration, args.connections, pause_ms)
                    busy, total = (now - then for now, then in zip(machine_ticks(), ticks_before, strict=True))
                    result["machine_busy"] = busy / total
                    after = settled_counts(url)  # requests in flight when wrk stopped finish first
                    result["wrk_cpu_share"] = (children_cpu() - cpu_before) / result["wall_s"] / (os.cpu_count() or 1)
                    result["stored"] = after["responses"] - before["responses"]
                    result["lost"] = max(0, result["succeeded"] - result["stored"])
                    result["unanswered"] = result["stored"] - result["succeeded"]
                    result["doubles"] = after["doubles"]
                    result["tally_mismatch"] = after["tallied"] - after["responses"]
                    print(
                        f"{label:<8} {kind}: {result['rate']:7.1f}/s  p50 {result['p50_ms']:6.1f} ms  "
                        f"p99 {result['p99_ms']:6.1f} ms  answered {result['succeeded']}  stored {result['stored']}  "
                        f"errors {result['status_errors']}+{result['socket_errors']}  exhausted {result['exhausted']}"
                        f"  CPU busy {result['machine_busy']:.0%} (wrk {result['wrk_cpu_share']:.0%})",
                        flush=True,
                    )
                    if index:
                        runs[f"{kind} paced" if pause_ms else kind].append(result)
    finally:
        for server in servers:
            stop_server(server)
        shutil.rmtree(folder, ignore_errors=True)

    def median(kind: str, name: str) -> float:
        return statistics.median(run[name] for run in runs[kind])

    ratios = [f["rate"] / b["rate"] for f, b in zip(runs["full"], runs["bare"], strict=True)]
    summary = {
        "rounds": args.rounds,
        "duration_s": args.duration,
        "connections": args.connections,
        "base_responses": args.base,
        "full_rate": median("full", "rate"),
        "bare_rate": median("bare", "rate"),
        "ratio": statistics.median(ratios),
        "full_p50_ms": median("full", "p50_ms"),
        "full_p99_ms": median("full", "p99_ms"),
        "bare_p50_ms": median("bare", "p50_ms"),
        "bare_p99_ms": median("bare", "p99_ms"),
        "pause_ms": args.pause_ms,
        "paced_rate": median("full paced", "rate"),
        "paced_p50_ms": median("full paced", "p50_ms"),
        "paced_p99_ms": median("full paced", "p99_ms"),
        "bare_paced_p99_ms": median("bare paced", "p99_ms"),
        "lost": sum(run["lost"] for kind in runs for run in runs[kind]),
        "doubles": max(run["doubles"] for kind in runs for run in runs[kind]),
        "tally_mismatch": max(abs(run["tally_mismatch"]) for kind in runs for run in runs[kind]),
        "errors": sum(run["status_errors"] + run["socket_errors"] for kind in runs for run in runs[kind]),
        "exhausted": sum(run["exhausted"] for kind in runs for run in runs[kind]),
        "wrk_cpu_share": max(run["wrk_cpu_share"] for kind in runs for run in runs[kind]),
        "gunicorn": {name: os.environ.get(f"GUNICORN_{name.upper()}") for name in ("workers", "threads")},
        "runs": runs,
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=1))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
