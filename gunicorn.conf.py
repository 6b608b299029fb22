"""gunicorn settings for production: `gunicorn 'survey:create_app()'` picks this file up from the working folder.

Every value can be overridden from the environment, so one image serves a laptop and a cluster of app servers.
"""

import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Requests spend most of their time waiting for the database, so a few threads per process keep the cores busy
# without the memory of many processes.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", 4))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 5))
# Recycle workers now and then so that a slow leak can never take a server down.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 10_000))
max_requests_jitter = 1_000
# Build the app once in the master: workers share its memory and start faster.
preload_app = True
# Access lines go to standard output; survey/weblog.py removes invitation tokens from them.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def _refuse_limits_per_worker() -> None:
    """In production, rate limits counted in each worker's memory would multiply every limit by the number of
    workers (ten wrong passwords a minute become fifty): refuse to start; one worker may count in memory."""
    from config import load_config

    settings = load_config()
    if (
        settings["APP_ENV"] == "production"
        and str(settings["RATELIMIT_STORAGE_URI"]).startswith("memory://")
        and workers > 1
    ):
        raise SystemExit(
            f"refusing to start {workers} workers with rate limits counted in memory: set REDIS_URL "
            "(or RATELIMIT_STORAGE_URL) to a Redis server shared by the workers, or GUNICORN_WORKERS=1"
        )


_refuse_limits_per_worker()


def pre_fork(server, worker):
    """Move every object the master made (the app, Altair's Vega-Lite schema, pandas, Babel's data: ~200,000
    objects) out of the garbage collector's sight before a worker is forked from it (the recipe in `gc.freeze`'s
    documentation).

    A worker's full collections then walk only what the worker made itself. Over the master's objects, one full
    collection took 160-180 ms on the 2-core machine: a pause for every request that worker was serving. Such
    collections are rare (none in 350 submissions), so this is for the tail, not the median; it also leaves
    the master's pages unwritten, so the workers keep sharing them."""
    gc.freeze()
