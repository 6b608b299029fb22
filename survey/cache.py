"""Report results cached in Redis (or in the process), and never stale.

What a report view computes from the database (sections, chart specs, API rows, SVG) is stored under a key that
holds the *version* of every wave it read, plus a global *generation*:

    <prefix>:r:<kind>:g<generation>:v<wave>.<version>,…:<hash of the view's parameters>

A commit that writes responses of a wave increments that wave's version in Redis (`INCR`), right after the
commit; a commit that adds or removes a wave's invitations increments that wave's version and its *invitations
version*; a commit that changes anything else reports read (clusters, memberships, waves, questionnaires)
increments the generation. The invited counts behind response rates are keyed by the invitations version
instead of the wave's version (`cached_invitations`): counting a million invitations took most of a report
page's time after each submission, and a submission changes no invitation. The survey's labels and options
(`cached_survey`) depend on the generation alone.

Every app server builds keys from the same counters, so after a submission commits, no server can find an entry
made before it: old entries are simply never asked for again, and expire after REPORT_CACHE_TTL seconds.
Versions are read before the report's queries run, so an entry never holds data older than its key (on
PostgreSQL each statement sees every commit made before it starts).

The invalidation hooks are SQLAlchemy session events, so every write path (the questionnaire, admin pages, the
CLI, the demo loader) is covered without each one having to remember the cache. Bulk statements that bypass
the session (e.g. `flask tallies rebuild`) call `report_cache().invalidate()` themselves.

REPORT_CACHE_URL chooses the store: a redis:// URL (production: shared by every app server), "memory://" (one
process; for development and tests), or empty for no caching at all (the default in development and tests).
Entries are pickled and signed with the app's SECRET_KEY, so a value planted in Redis by someone else is
refused rather than unpickled. A cache that fails (Redis down) is bypassed and logged: reports get slower,
never wrong.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields
from typing import Any, TypeVar

from flask import Flask, current_app, has_app_context
from sqlalchemy import Connection, event, inspect
from sqlalchemy.orm import Session

from reports.aggregate import invitations_per_cluster, load_survey
from reports.context import Option, Survey

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Changes to these tables change what reports show for every wave (names, memberships, the list of waves).
_GLOBAL_TABLES = frozenset({"cluster", "organisation", "wave", "questionnaire", "membership"})


class _Memory:
    """A bounded in-process store with Redis's few operations we need (one process only)."""

    def __init__(self, size: int = 512):
        self.entries: OrderedDict[str, bytes] = OrderedDict()
        self.counters: dict[str, int] = {}
        self.size = size
        self.lock = threading.Lock()

    def mget(self, keys: Sequence[str]) -> list[Any]:
        with self.lock:
            return [self.counters.get(key) for key in keys]

    def incr(self, key: str) -> int:
        with self.lock:
            self.counters[key] = self.counters.get(key, 0) + 1
            return self.counters[key]

    def get(self, key: str) -> bytes | None:
        with self.lock:
            value = self.entries.get(key)
            if value is not None:
                self.entries.move_to_end(key)
            return value

    def set(self, key: str, value: bytes, ex: int | None = None) -> None:
        with self.lock:
            self.entries[key] = value
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


class ReportCache:
    """Get-or-compute for report results, keyed by the versions of the waves they read."""

    def __init__(self, url: str = "", prefix: str = "survey-report", ttl: int = 3600, secret: str = ""):
        self.prefix = prefix
        self.ttl = ttl
        self.secret = hashlib.sha256(f"report-cache:{secret}".encode()).digest()
        self.store: Any
        if not url:
            self.store = None
        elif url == "memory://":
            self.store = _Memory()
        else:
            import redis

            # Short timeouts: a cache that hangs would be worse than no cache.
            self.store = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    @property
    def enabled(self) -> bool:
        return self.store is not None

    def _version_keys(self, wave_ids: Iterable[int], of: str = "v") -> list[str]:
        return [f"{self.prefix}:gen", *(f"{self.prefix}:{of}:{wave_id}" for wave_id in wave_ids)]

    def key(self, kind: str, wave_ids: Sequence[int], parts: Any, of: str = "v") -> str | None:
        """The key for `kind` of result over these waves with these parameters, at the current versions: of the
        waves' responses (`of="v"`), or of their invitations (`of="i"`)."""
        waves = sorted(set(wave_ids))
        try:
            versions = [int(v or 0) for v in self.store.mget(self._version_keys(waves, of))]
        except Exception:  # noqa: BLE001 - any store failure means: compute without the cache
            log.exception("report cache unavailable; computing without it")
            return None
        digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
        stamp = ",".join(f"{wave}.{version}" for wave, version in zip(waves, versions[1:], strict=True))
        return f"{self.prefix}:r:{kind}:g{versions[0]}:{of}{stamp}:{digest}"

    def get_or_compute(
        self, kind: str, wave_ids: Sequence[int], parts: Any, compute: Callable[[], T], of: str = "v"
    ) -> T:
        """The cached result, or `compute()` stored for the next request. `parts` must name everything besides
        the waves' data that the result depends on (query, k, visible clusters, locale …), as a repr-able value."""
        key, found = self.lookup(kind, wave_ids, parts, of)
        if found is not None:
            return found[0]
        result = compute()
        self.store_result(key, result)
        return result

    def lookup(
        self, kind: str, wave_ids: Sequence[int], parts: Any, of: str = "v"
    ) -> tuple[str | None, tuple[Any] | None]:
        """The key for these arguments (None without a cache) and `(value,)` when an entry was found."""
        if self.store is None:
            return None, None
        key = self.key(kind, wave_ids, parts, of)
        if key is None:
            return None, None
        try:
            cached = self.store.get(key)
        except Exception:  # noqa: BLE001
            log.exception("report cache unavailable; computing without it")
            return None, None
        return key, (None if cached is None else self._load(cached))

    def store_result(self, key: str | None, result: Any) -> None:
        if key is None:
            return
        try:
            self.store.set(key, self._dump((result,)), ex=self.ttl)
        except Exception:  # noqa: BLE001
            log.exception("could not store a report result in the cache")

    def _dump(self, value: Any) -> bytes:
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        return hmac.new(self.secret, payload, hashlib.sha256).digest() + payload

    def _load(self, data: bytes) -> Any:
        signature, payload = data[:32], data[32:]
        if not hmac.compare_digest(signature, hmac.new(self.secret, payload, hashlib.sha256).digest()):
            log.error("report cache entry with a wrong signature ignored")
            return None
        return pickle.loads(payload)  # noqa: S301 - signed by this app

    def bump(self, wave_ids: Iterable[int] = (), everything: bool = False, invitations: Iterable[int] = ()) -> None:
        """Make every entry over these waves (or every entry) unreachable; with `invitations`, also the invited
        counts of those waves."""
        if self.store is None:
            return
        keys = (
            [f"{self.prefix}:gen"]
            if everything
            else [
                *self._version_keys(sorted(set(wave_ids)))[1:],
                *self._version_keys(sorted(set(invitations)), "i")[1:],
            ]
        )
        try:
            for key in keys:
                self.store.incr(key)
        except Exception:  # noqa: BLE001
            # Entries expire after the TTL at the latest; say loudly that they may be stale until then.
            log.exception("could not invalidate cached reports for %s", keys)

    def invalidate(self) -> None:
        self.bump(everything=True)


def report_cache(app: Flask | None = None) -> ReportCache:
    return (app or current_app).extensions["report_cache"]


def cached_invitations(conn: Connection, wave_id: int) -> tuple[dict[int, int], int]:
    """`reports.aggregate.invitations_per_cluster`, kept until the wave's invitations or the memberships change."""
    return report_cache().get_or_compute(
        "invited", [wave_id], wave_id, lambda: invitations_per_cluster(conn, wave_id), of="i"
    )


#: What a cached `Survey` is made of (see `cached_survey`).
_SURVEY_SHAPE = tuple(f.name for f in fields(Survey)) + tuple(f.name for f in fields(Option))


def cached_survey(
    conn: Connection,
    slug: str,
    translate: Callable[[str], str] = str,
    locale: str = "en",
    published_only: bool = False,
) -> Survey | None:
    """`reports.aggregate.load_survey`, kept until a wave, cluster or questionnaire changes (the generation):
    three queries and a questionnaire to parse that every report request made, cached pages included.
    `translate` must be the gettext of `locale`, or `str` for the untranslated labels the API uses.

    The key carries the fields of `Survey` and `Option`, so that servers of another release, sharing the
    store during a rolling deploy, never unpickle each other's. Unknown slugs are not stored (a crawler
    walking bad addresses must not push pages out of the cache)."""
    cache = report_cache()
    key, found = cache.lookup("survey", [], (slug, locale, translate is not str, published_only, _SURVEY_SHAPE))
    if found is not None:
        return found[0]
    survey = load_survey(conn, slug, translate, locale, published_only)
    if survey is not None:
        cache.store_result(key, survey)
    return survey


def init_app(app: Flask) -> None:
    app.extensions["report_cache"] = ReportCache(
        app.config.get("REPORT_CACHE_URL", ""),
        app.config.get("REPORT_CACHE_PREFIX", "survey-report"),
        int(app.config.get("REPORT_CACHE_TTL", 3600)),
        str(app.config["SECRET_KEY"]),
    )
    if not event.contains(Session, "after_flush", _note_changes):
        event.listen(Session, "after_flush", _note_changes)
        event.listen(Session, "after_commit", _invalidate_after_commit)
        event.listen(Session, "after_soft_rollback", _forget_changes)


# --- Invalidation: note what a transaction wrote, bump the versions once it has committed. ---


def _note_changes(session: Session, _flush_context: Any) -> None:
    changed = session.info.setdefault(
        "report_cache_changes", {"waves": set(), "invitations": set(), "everything": False}
    )
    for instance in (*session.new, *session.dirty, *session.deleted):
        table = getattr(getattr(instance, "__table__", None), "name", None)
        if table == "response":
            changed["waves"].add(instance.wave_id)
        elif table == "invitation" and (instance in session.new or instance in session.deleted):
            changed["invitations"].add(instance.wave_id)  # response rates count invitations
        elif table == "organisation" and instance in session.dirty:
            # Reports read an organisation's memberships, not its record (which its answers now update).
            if inspect(instance).attrs.clusters.history.has_changes():
                changed["everything"] = True
        elif table in _GLOBAL_TABLES and (instance not in session.dirty or session.is_modified(instance)):
            changed["everything"] = True


def _invalidate_after_commit(session: Session) -> None:
    changed = session.info.pop("report_cache_changes", None)
    if not changed or not has_app_context() or "report_cache" not in current_app.extensions:
        return
    cache = report_cache()
    if changed["everything"]:
        cache.invalidate()
    elif changed["waves"] or changed["invitations"]:
        cache.bump(changed["waves"] | changed["invitations"], invitations=changed["invitations"])


def _forget_changes(session: Session, _previous_transaction: Any) -> None:
    session.info.pop("report_cache_changes", None)
