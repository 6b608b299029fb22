"""Run every benchmark and write docs/benchmarks.md's generated summary (between the RUN_ALL markers).

    python -m bench.run_all            # everything: adoption at 10k and 1M (SQLite, PostgreSQL), load, questionnaire
    python -m bench.run_all --quick    # smaller: adoption at 10k only, one load round

Each figure is printed beside its target with the command that reproduces it. Figures are medians of repeated
measurements (these machines are noisy). The export figure is issue 5's: bench/export.py when it exists.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import date
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- RUN_ALL:BEGIN -->", "<!-- RUN_ALL:END -->"


def _run(args: list[str]) -> str:
    print("$", " ".join(args), flush=True)
    done = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    print(done.stdout, flush=True)
    return done.stdout


def _json(args: list[str]) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        path = Path(handle.name)
    try:
        _run([*args, "--json", str(path)])
        return json.loads(path.read_text())
    finally:
        path.unlink(missing_ok=True)


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.machine(),
    )
    memory = (
        int(
            next(
                line.split()[1]
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            )
        )
        / 1e6
    )
    versions = ", ".join(
        f"{name} {version(name)}"
        for name in ("Flask", "SQLAlchemy", "psycopg", "pandas", "altair", "gunicorn", "redis")
    )
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {memory:.0f} GB, {platform.platform()}, Python "
        f"{platform.python_version()}; {versions}; load average at the end {os.getloadavg()[0]:.1f}"
    )


ADOPTION_MEASURES = ("sql", "report", "api", "filtered", "page", "page miss", "page cached", "api cached")


def _adoption_table(rows: list[dict]) -> str:
    head = "| database | responses | " + " | ".join(ADOPTION_MEASURES) + " |"
    lines = [head, "|---|---:|" + "---:|" * len(ADOPTION_MEASURES)]
    for row in rows:
        lines.append(
            f"| {row['backend']} | {row['responses']:,} | "
            + " | ".join(f"{row[name]:,.1f}" for name in ADOPTION_MEASURES)
            + " |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = ["10000"] if args.quick else ["10000", "1000000"]
    adoption = _json(["bench.adoption", "--sizes", *sizes])
    # Five rounds of each kind: a paced round's p99 is its slowest ten requests, and one stall of the machine
    # (seen here: 0.5 s, for the bare handler too) decides it; the median of five rounds is steadier than of three.
    load = _json(["bench.load", "--rounds", "1" if args.quick else "5"])
    questionnaire = _json(["bench.questionnaire"])
    export = _json(["bench.export", "--backend", "postgresql", *(["--responses", "100000"] if args.quick else [])])
    big = max(int(size) for size in sizes)

    def report(measure: str) -> str:
        figures = []
        for backend in ("sqlite", "postgresql"):
            by_size = {row["responses"]: row[measure] for row in adoption if row["backend"] == backend}
            ratio = f", {by_size[big] / by_size[10_000]:.1f}× the 10k time" if big != 10_000 else ""
            figures.append(f"{backend} {by_size[big]:.0f} ms{ratio}")
        return "; ".join(figures)

    # bench/generate.py splits the responses over two waves; the reports are of the open wave's half.
    responses = f"{big:,} responses in two waves"
    rows = [
        (
            f"Reports: adoption by technology × cluster through the API, {responses}, median",
            "≤ 50 ms, ≤ 3× the 10k time",
            report("api"),
            "python -m bench.adoption",
        ),
        (
            f"Reports: the report page's server time, {responses}, first request after a submission (cache "
            "miss), median",
            "≤ 50 ms",
            report("page miss"),
            "python -m bench.adoption",
        ),
        (
            f"Reports: the report page's server time, {responses}, cached, median",
            "≤ 50 ms",
            report("page cached"),
            "python -m bench.adoption",
        ),
        (
            "Submissions: full stack / bare handler, sustained rate",
            "≥ 50%",
            f"{load['ratio']:.0%} ({load['full_rate']:.0f}/s against {load['bare_rate']:.0f}/s)",
            "python -m bench.load",
        ),
        (
            "Submissions: p99 latency at 32 concurrent respondents, each pausing about "
            f"{load['pause_ms'] / 1000:g} s between submissions",
            "≤ 150 ms",
            f"{load['paced_p99_ms']:.0f} ms (p50 {load['paced_p50_ms']:.0f} ms, {load['paced_rate']:.0f} submissions/s;"
            f" bare handler p99 {load['bare_paced_p99_ms']:.0f} ms)",
            "python -m bench.load",
        ),
        (
            "Submissions: p99 latency at 32 connections submitting back to back (saturated)",
            "≤ 150 ms",
            f"{load['full_p99_ms']:.0f} ms (p50 {load['full_p50_ms']:.0f} ms; bare handler p99 "
            f"{load['bare_p99_ms']:.0f} ms, p50 {load['bare_p50_ms']:.0f} ms)",
            "python -m bench.load",
        ),
        (
            "Submissions: lost or duplicated responses",
            "0",
            f"{load['lost']} lost, {load['doubles']} duplicated, tally off by {load['tally_mismatch']}",
            "python -m bench.load",
        ),
        (
            f"Export: {export['rows']:,} responses streamed (PostgreSQL, COPY)",
            "≥ 100,000 rows/s, < 300 MB",
            f"{export['rows_per_s']:,.0f} rows/s, peak RSS {export['peak_rss_mb']:.0f} MB",
            "python -m bench.export --backend postgresql",
        ),
        (
            "Questionnaire page: HTML + CSS",
            "≤ 60 KB",
            f"{questionnaire['total_kb']:.1f} KB",
            "python -m bench.questionnaire",
        ),
        (
            "Questionnaire page: JavaScript needed",
            "none",
            f"{questionnaire['scripts']} script tags",
            "python -m bench.questionnaire",
        ),
        (
            "Questionnaire page: server time, median",
            "≤ 20 ms",
            f"{questionnaire['median_ms']:.1f} ms",
            "python -m bench.questionnaire",
        ),
    ]
    table = "\n".join(f"| {what} | {target} | {figure} | `{command}` |" for what, target, figure, command in rows)
    block = (
        f"{BEGIN}\n## Summary (generated by `python -m bench.run_all`, {date.today():%d %B %Y})\n\n"
        f"Machine: {machine()}.\n\n| measure | target | figure | command |\n|---|---|---|---|\n{table}\n\n"
        "Every adoption measure (`python -m bench.adoption`, medians in ms):\n\n"
        f"{_adoption_table(adoption)}\n{END}"
    )
    text = DOC.read_text()
    if BEGIN in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text)
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
