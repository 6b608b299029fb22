"""Synthetic demo data: clusters, organisations and responses with realistic differences.

Adoption differs by technology (cloud is common, blockchain rare), by the cluster's ecosystem (a digital
cluster leads on AI and big data, a health cluster on biotechnology) and by size (large organisations adopt
more), roughly in line with Eurostat's figures. Nothing here is real data.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from survey.extensions import db
from survey.models import Cluster, Invitation, Organisation, Response, Role, User, Wave
from survey.models.invitations import hash_token, new_token
from survey.operations.accounts import create_user, find_user, set_password
from survey.operations.answering_time import measure_wave
from survey.operations.protections import store_protection
from survey.operations.setup import create_wave, invite_organisation, load_questionnaire
from survey.operations.tallies import apply_counts, response_counts
from survey.queries.lookups import by_slug
from survey.questionnaire import Questionnaire

DEMO_WAVE = "demo-2021"
PREVIOUS_WAVE = "demo-2019"
DEMO_ORGANISATION = "Demo Organisation (fill me in)"
#: One account per role, to try the platform with. Demo only: the passwords are printed by `flask demo`.
DEMO_USERS = (
    ("admin@example.org", Role.ADMIN, "demo-admin-password"),
    ("manager@example.org", Role.MANAGER, "demo-manager-password"),
    ("policymaker@example.org", Role.POLICYMAKER, "demo-policymaker-password"),
)
#: The cluster the demo manager runs (the demo organisation's).
DEMO_MANAGER_CLUSTER = "basque-digital"

CLUSTERS = [
    ("basque-digital", "Basque Digital Cluster", "ES", "ES21", "digital"),
    ("bavaria-aerospace", "Bavarian Aerospace Cluster", "DE", "DE21", "aerospace_defence"),
    ("lombardy-agrifood", "Lombardy Agri-food Cluster", "IT", "ITC4", "agri_food"),
    ("flanders-health", "Flanders Health Cluster", "BE", "BE21", "health"),
    ("silesia-automotive", "Silesian Automotive Cluster", "PL", "PL22", "mobility_transport_automotive"),
    ("brainport-electronics", "Brainport Electronics Cluster", "NL", "NL41", "electronics"),
    ("rhone-alpes-renewables", "Rhône-Alpes Renewable Energy Cluster", "FR", "FRK2", "renewable_energy"),
    ("catalonia-textiles", "Catalan Textiles Cluster", "ES", "ES51", "textiles"),
]

#: Log-odds of "using" for a small organisation in an average cluster.
BASE_USING = {
    "cloud": 0.6,
    "security": 0.4,
    "connectivity": 0.3,
    "iot": -0.5,
    "big_data": -0.7,
    "advanced_manufacturing": -0.6,
    "ai": -1.6,
    "robotics": -1.2,
    "advanced_materials": -1.4,
    "ar_vr": -2.0,
    "photonics": -2.0,
    "mobility": -1.8,
    "micro_nanoelectronics": -2.2,
    "industrial_biotech": -2.4,
    "nanotechnology": -2.6,
    "blockchain": -2.8,
}
#: What each ecosystem's clusters do more of.
ECOSYSTEM_BOOST = {
    "digital": {"ai": 1.6, "big_data": 1.4, "cloud": 1.0, "blockchain": 1.0, "ar_vr": 0.8, "security": 0.8},
    "aerospace_defence": {"advanced_materials": 1.6, "advanced_manufacturing": 1.2, "photonics": 1.0, "security": 0.8},
    "agri_food": {"industrial_biotech": 1.2, "iot": 0.8, "big_data": 0.3, "cloud": -0.3},
    "health": {"industrial_biotech": 2.0, "nanotechnology": 1.0, "ai": 0.8, "big_data": 0.8},
    "mobility_transport_automotive": {"mobility": 2.2, "robotics": 1.6, "advanced_manufacturing": 1.2, "iot": 0.6},
    "electronics": {"micro_nanoelectronics": 2.4, "photonics": 1.6, "nanotechnology": 1.2, "robotics": 0.6},
    "renewable_energy": {"iot": 0.9, "advanced_materials": 0.8, "big_data": 0.5, "connectivity": 0.4},
    "textiles": {"advanced_materials": 1.0, "cloud": -0.5, "ai": -0.5, "robotics": -0.3},
}
SIZE_EFFECT = {"micro": -0.6, "small": 0.0, "medium": 0.5, "large": 1.3}
TYPES = [
    ("sme", 55),
    ("large_company", 12),
    ("research_org", 10),
    ("university", 8),
    ("public_body", 5),
    ("cluster_org", 5),
    ("other", 5),
]
SIZES_BY_TYPE = {
    "sme": [("micro", 35), ("small", 40), ("medium", 25)],
    "large_company": [("large", 100)],
    "research_org": [("small", 20), ("medium", 50), ("large", 30)],
    "university": [("medium", 20), ("large", 80)],
    "public_body": [("small", 30), ("medium", 40), ("large", 30)],
    "cluster_org": [("micro", 60), ("small", 40)],
    "other": [("micro", 40), ("small", 40), ("medium", 20)],
}
CHALLENGE_BASE = {
    "supply_chains": 3.6,
    "access_talent": 4.0,
    "science_industry": 3.0,
    "cluster_links": 2.8,
    "global_value_chains": 3.2,
}
NAME_PARTS = (
    [
        "Alpha",
        "Nova",
        "Vector",
        "Helix",
        "Orbit",
        "Quantum",
        "Terra",
        "Lumen",
        "Axis",
        "Vertex",
        "Pulse",
        "Cobalt",
        "Delta",
        "Nimbus",
        "Zenith",
        "Atlas",
        "Prism",
        "Ferro",
        "Agro",
        "Medi",
    ],
    [
        "Systems",
        "Labs",
        "Works",
        "Industries",
        "Technologies",
        "Solutions",
        "Engineering",
        "Institute",
        "Materials",
        "Dynamics",
        "Analytics",
        "Foods",
        "Textiles",
        "Energy",
        "Robotics",
        "Photonics",
    ],
)


@dataclass
class DemoResult:
    wave: Wave
    demo_link_token: str
    responses: int


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    codes, weights = zip(*weighted, strict=True)
    return rng.choices(codes, weights=weights)[0]


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def synthetic_answers(
    rng: random.Random, questionnaire: Questionnaire, ecosystem: str, size: str, shift: float = 0.0
) -> dict:
    """One organisation's answers; `shift` moves all adoption (an earlier wave adopts less)."""
    answers: dict = {}
    boost = ECOSYSTEM_BOOST.get(ecosystem, {})
    for tech in questionnaire.technologies:
        logit = BASE_USING.get(tech.code, -1.5) + boost.get(tech.code, 0.0) + SIZE_EFFECT[size] + shift
        roll = rng.random()
        p_using = _sigmoid(logit)
        p_dont_know = 0.04
        p_planning = (1 - p_using - p_dont_know) * _sigmoid(logit + 0.9)
        if roll < p_using:
            answers[tech.code] = "using"
        elif roll < p_using + p_planning:
            answers[tech.code] = "planning"
        elif roll < p_using + p_planning + p_dont_know:
            answers[tech.code] = "dont_know"
        else:
            answers[tech.code] = "not_planned"
    for challenge in questionnaire.challenges:
        if rng.random() < 0.06:
            answers[challenge.code] = "na"
        else:
            score = round(rng.gauss(CHALLENGE_BASE.get(challenge.code, 3.0), 1.0))
            answers[challenge.code] = str(min(5, max(1, score)))
    employees = {"micro": (1, 9), "small": (10, 49), "medium": (50, 249), "large": (250, 5000)}[size]
    now_count = rng.randint(*employees)
    answers["employees_now"] = now_count
    answers["employees_12m_ago"] = max(0, round(now_count * rng.uniform(0.85, 1.1)))
    answers["skills_share"] = rng.choice(["0_10", "10_25", "25_50", "over_50"])
    answers["hard_to_fill"] = rng.choice(["yes", "yes", "no", "no_recruitment"])
    answers["exports_eu"] = rng.choice(["none", "0_10", "10_25", "25_50", "over_50"])
    answers["exports_non_eu"] = rng.choice(["none", "0_10", "10_25", "25_50"])
    changes = [c for c in ("new_suppliers", "reshoring", "more_inventory") if rng.random() < 0.3]
    answers["value_chain_changes"] = changes or ["none"]
    answers["comments"] = None
    return answers


def load_demo(responses: int, seed: int, now: datetime) -> DemoResult:
    """Fill an empty database with the demo survey. The caller commits."""
    rng = random.Random(seed)
    stored = load_questionnaire()
    questionnaire = stored.parsed
    today = now.date()
    previous = create_wave(
        PREVIOUS_WAVE,
        "Cluster technology survey 2019 (demo)",
        stored,
        opens_on=date(2019, 3, 1),
        closes_on=date(2019, 6, 30),
    )
    previous.open(now - timedelta(days=900))
    previous.close(now - timedelta(days=800))
    wave = create_wave(
        DEMO_WAVE,
        "Cluster technology survey 2021 (demo)",
        stored,
        opens_on=today - timedelta(days=30),
        closes_on=today + timedelta(days=365),
    )
    wave.open(now)

    clusters = []
    for slug, name, country, nuts2, ecosystem in CLUSTERS:
        cluster = Cluster(slug=slug, name=name, country=country, nuts2=nuts2, ecosystem=ecosystem)
        db.session.add(cluster)
        clusters.append(cluster)
    db.session.flush()

    tallies: Counter = Counter()
    # Answering times of their own generator, so that the answers stay what they were with the same seed:
    # spread around the questionnaire's rule of thumb, a tenth of them in several sittings (not measured).
    clock_rng = random.Random(seed + 1)
    typical = questionnaire.minutes * 60 * 1.2
    for index in range(responses):
        home = clusters[index % len(clusters)]
        org_type = _pick(rng, TYPES)
        size = _pick(rng, SIZES_BY_TYPE[org_type])
        ecosystem = home.ecosystem if rng.random() < 0.85 else rng.choice(clusters).ecosystem
        country = home.country if rng.random() < 0.9 else rng.choice(clusters).country
        name = f"{rng.choice(NAME_PARTS[0])} {rng.choice(NAME_PARTS[1])} {index + 1}"
        member_of = [home]
        # One in ten is also a member of the home cluster's sister cluster (clusters listed in pairs): overlaps
        # between related clusters, as in real regions, rather than scattered one or two per pair of clusters.
        if rng.random() < 0.1:
            member_of.append(clusters[(index % len(clusters)) ^ 1])
        organisation = Organisation(
            name=name, country=country, org_type=org_type, size_class=size, ecosystem=ecosystem, clusters=member_of
        )
        db.session.add(organisation)
        db.session.flush()
        profile = {"country": country, "region": None, "org_type": org_type, "size_class": size, "ecosystem": ecosystem}
        cluster_ids = [c.id for c in member_of]
        for target, shift, share in ((wave, 0.0, 1.0), (previous, -0.6, 0.7)):
            db.session.add(
                Invitation(
                    wave_id=target.id,
                    organisation_id=organisation.id,
                    token_hash=hash_token(new_token()),
                    created_at=now,
                )
            )
            if rng.random() >= share:
                continue
            answers = synthetic_answers(rng, questionnaire, ecosystem, size, shift)
            one_sitting = clock_rng.random() >= 0.1
            db.session.add(
                Response(
                    wave_id=target.id,
                    organisation_id=organisation.id,
                    answers=answers,
                    submitted_at=now,
                    updated_at=now,
                    clusters=member_of,
                    answering_seconds=round(typical * clock_rng.lognormvariate(0, 0.45)) if one_sitting else None,
                    **profile,
                )
            )
            tallies.update(response_counts(questionnaire, target.id, profile, cluster_ids, answers))
        if index % 500 == 499:
            db.session.flush()
    db.session.flush()
    apply_counts(db.session, tallies)

    # Some members are invited and never answer, so that response rates look like a real survey's.
    for index in range(responses // 5):
        home = clusters[index % len(clusters)]
        org_type = _pick(rng, TYPES)
        silent = Organisation(
            name=f"{rng.choice(NAME_PARTS[0])} {rng.choice(NAME_PARTS[1])} S{index + 1}",
            country=home.country,
            org_type=org_type,
            size_class=_pick(rng, SIZES_BY_TYPE[org_type]),
            ecosystem=home.ecosystem,
            clusters=[home],
        )
        db.session.add(silent)
        for target in (wave, previous):
            db.session.add(
                Invitation(wave=target, organisation=silent, token_hash=hash_token(new_token()), created_at=now)
            )
    db.session.flush()

    demo_org = Organisation(
        name=DEMO_ORGANISATION,
        country=clusters[0].country,
        org_type="sme",
        size_class="small",
        ecosystem=clusters[0].ecosystem,
        clusters=[clusters[0]],
    )
    db.session.add(demo_org)
    db.session.flush()
    _, token = invite_organisation(wave, demo_org, now)
    measure_wave(previous)  # as closing it would have (survey/operations/platform.py)
    store_protection(previous, now)  # likewise (survey/operations/protections.py)
    return DemoResult(wave=wave, demo_link_token=token, responses=responses)


def ensure_demo_users(app_env: str) -> list[tuple[str, str, str]]:
    """Create the demo accounts, or give them back their demo passwords; (e-mail, role, password) for each.

    Never in production, where a printed, well-known password would be an open door. The caller commits.
    """
    if app_env == "production":
        return []
    cluster = by_slug(Cluster, DEMO_MANAGER_CLUSTER)
    logins = []
    for email, role, password in DEMO_USERS:
        user: User | None = find_user(email)
        if user is None:
            create_user(email, password, role, [cluster] if role is Role.MANAGER and cluster else [])
        else:
            set_password(user, password)
        logins.append((email, role.value, password))
    return logins
