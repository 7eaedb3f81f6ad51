"""Every speed figure the README cites, in one command, written into the README's table.

    python benchmarks/run.py [--rounds 3] [--only NAME[,NAME…]] [--no-write]

Runs each benchmark module's `rounds(count)` (benchmarks/figures.py): ours and its baseline are
measured in turns within a round, and each figure is the median over the rounds with its min–max.
The table, with the date, machine and commit, replaces what stands between the README's marker
comments; a target not met says so. `--only` measures some benchmarks and writes nothing.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from figures import REPO, Figure, median

BENCHMARKS = [
    "cold_start", "submit_cost", "dataframe_speed", "status_latency", "widget_traffic", "follow_cpu", "map_speed",
    "map_pacing", "map_rerun", "map_memory",
]  # fmt: skip
"""In the order they run and print."""
README = REPO / "README.md"
START = "<!-- benchmarks/run.py writes this table: start -->"
END = "<!-- benchmarks/run.py writes this table: end -->"


def number(value: float, unit: str) -> str:
    digits = 0 if abs(value) >= 100 or unit in ("bytes", "runs") else 1 if abs(value) >= 10 else 2
    return f"{value:,.{digits}f} {unit}"


def ratio_text(value: float) -> str:
    digits = 0 if value >= 100 else 1 if value >= 10 else 2
    return f"{value:,.{digits}f}" if value >= 0.1 else f"{value:.2g}"


def spread(ratios: list[float]) -> str:
    return f"×{ratio_text(median(ratios))} ({ratio_text(min(ratios))}–{ratio_text(max(ratios))})"


def verdict(figures: list[Figure]) -> str:
    """The target and whether the median meets it (and whether every round did)."""
    first = figures[0]
    ratios = [f.ratio for f in figures if f.ratio is not None]
    if first.ratio_limit is not None:
        target, values, meets = f"≤ ×{first.ratio_limit:g}", ratios, lambda v: v <= first.ratio_limit
    elif first.ratio_floor is not None:
        target, values, meets = f"≥ ×{first.ratio_floor:g}", ratios, lambda v: v >= first.ratio_floor
    elif first.limit is not None:
        target, values, meets = (
            f"≤ {first.limit:,g} {first.unit}",
            [f.ours for f in figures],
            lambda v: v <= first.limit,
        )
    else:
        return ""
    if not meets(median(values)):
        return f"{target}: **not met**"
    return f"{target}: met" if all(map(meets, values)) else f"{target}: met at the median, not in every round"


def table(rows: dict[str, list[Figure]]) -> list[str]:
    lines = ["| measure | figure | baseline | ratio, median (min–max) | target |", "|---|---|---|---|---|"]
    for label, figures in rows.items():
        first, ours = figures[0], [f.ours for f in figures]
        if first.baseline is None:
            figure = (
                f"{number(median(ours), first.unit)} ({number(min(ours), '').strip()}–{number(max(ours), '').strip()})"
            )
            baseline = ratio = ""
        else:
            figure = number(median(ours), first.unit)
            baseline = f"{number(median([f.baseline for f in figures]), first.unit)} {first.baseline_label}"
            ratio = spread([f.ratio for f in figures])
        lines.append(f"| {label} | {figure} | {baseline} | {ratio} | {verdict(figures)} |")
    return lines


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout.strip()


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    model = next(
        (line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), platform.processor()
    )
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, {cores} cores, {platform.system()}, Python {platform.python_version()}"


def measured() -> str:
    """What is measured, taken at the start: the date, the machine, the commit, the load."""
    dirty = " with uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else ""
    return (
        f"on {time.strftime('%Y-%m-%d')}: {machine()}; commit {git('rev-parse', '--short', 'HEAD')}{dirty}; "
        f"load average {os.getloadavg()[0]:.1f} at the start"
    )


def heading(what: str, rounds: int, seconds: float) -> str:
    plural = "s" if rounds > 1 else ""
    return (
        f"Measured by `python benchmarks/run.py` {what}; {rounds} round{plural} in {seconds / 60:.1f} min. "
        "Each figure is the median of the rounds; the min–max is that of the ratio (of the figure where "
        "there is no baseline)."
    )


def write_readme(lines: list[str]) -> None:
    text = README.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"README.md has no {START} … {END} to write the table between")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    README.write_text("\n".join([before + START, *lines, END]) + after)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each benchmark (default 3)")
    parser.add_argument("--only", help=f"comma-separated, of: {', '.join(BENCHMARKS)}; writes nothing")
    parser.add_argument("--no-write", action="store_true", help="print the table, leave README.md as it is")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else BENCHMARKS
    if unknown := set(names) - set(BENCHMARKS):
        parser.error(f"no benchmark {', '.join(sorted(unknown))}; there are {', '.join(BENCHMARKS)}")

    what, began = measured(), time.perf_counter()
    rows: dict[str, list[Figure]] = {}
    for name in names:
        started = time.perf_counter()
        for done, figures in enumerate(importlib.import_module(name).rounds(args.rounds), start=1):
            for figure in figures:
                rows.setdefault(figure.label, []).append(figure)
            print(f"{name}: round {done} at {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    lines = [heading(what, args.rounds, time.perf_counter() - began), "", *table(rows)]
    print("\n".join(lines))
    if not (args.only or args.no_write):
        write_readme(lines)
        print(f"\nwritten to {README}", file=sys.stderr)


if __name__ == "__main__":
    main()
