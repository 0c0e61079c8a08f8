"""Turn the rows the benchmark scripts emitted into ``benchmarks/RESULTS.md``, and print it.

    python benchmarks/report.py RESULTS.jsonl [--output benchmarks/RESULTS.md]

Every row of the benchmark issue gets a line; a row no script reported (the script failed or
is missing) says so instead of vanishing from the table. A row measured over a grid of sizes
(its rows carry a ``cell``) gets one line that counts the cells that met the goal, and a table
of its cells below the main one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from datetime import date
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

# The benchmark issue's table: row number -> what it measures.
EXPECTED = {
    1: "LeNet-5 seconds per epoch on Fashion-MNIST, lesson recipe",
    2: "LeNet-5 time to 90 % test accuracy on Fashion-MNIST",
    3: "KNN predict, 50,000 x 30 training points, 5,000 queries, k=5",
    4: "K-Means fit, 200,000 x 16 points, k=16",
    5: "GRU forward + backward, batch 64, sequence 50, hidden 64",
    6: "`zoo list` cold start with every plugin installed",
    7: "peak memory of `zoo run knn` on the size of row 3",
    8: "LeNet-5 seconds per epoch on Fashion-MNIST, quiet vs one busy core",
    9: "K-Means fit at row 4's size, quiet and beside one busy core, and against scikit-learn there",
    10: "KNN predict at row 3's size, quiet and beside one busy core, and against scikit-learn there",
    11: "K-Means at k in 8, 16, 64 x dims in 2, 16, 64, on 1 thread and all cores",
    12: "KNN at dims in 8, 32, 128 x k in 1, 5, 15, euclidean and manhattan, on 1 thread and all cores",
    13: "per-run overhead: wall vs reported time of `zoo run lenet5 --dataset fashion-mnist --epochs 1`",
    14: "leaderboard grid: `zoo run` processes in turn vs `zoo sweep --workers 2`",
    15: "leaderboard grid with one busy core: `zoo sweep --workers 2` busy vs quiet",
    16: "bytes written per run, each model on its largest dataset",
}
COLUMNS = ("#", "figure", "ours", "reference", "ratio", "goal", "result", "note")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def machine() -> str:
    cores = os.cpu_count()
    return "\n".join(
        [
            f"- CPU: {cpu_model()}, {cores} logical cores; each script uses all {cores} for torch and "
            "scikit-learn alike (`pin_threads`) unless its row says otherwise",
            f"- Python {platform.python_version()}, torch {package_version('torch')}, "
            f"numpy {package_version('numpy')}, scikit-learn {package_version('scikit-learn')}",
            f"- {platform.system()} {platform.release()}, measured {date.today().isoformat()}",
        ]
    )


def cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def by_row(rows: list[dict]) -> dict[int, list[dict]]:
    grouped: dict[int, list[dict]] = {}
    for row in rows:
        grouped.setdefault(row["row"], []).append(row)
    return grouped


def result(met: bool) -> str:
    return "met" if met else "**NOT met**"


def where(cell: dict) -> str:
    return ", ".join(f"{key}={value}" for key, value in cell.items())


def grid_line(number: int, cells: list[dict]) -> tuple:
    """The main table's line for a grid: how many cells met the goal, and the lowest ratio."""
    lowest = min(cells, key=lambda row: row["ratio"])
    missed = [row for row in cells if not row["met"]]
    verdict = result(not missed) + ("" if not missed else f" in {len(missed)} of {len(cells)} cells")
    note = f"lowest ratio at {where(lowest['cell'])}; every cell in the table for row {number} below"
    first = cells[0]
    ratio = f"lowest {lowest['ratio']:.2f}x"
    return (number, first["figure"], f"{len(cells)} cells", "", ratio, first["goal"], verdict, note)


def table(rows: list[dict]) -> str:
    grouped = by_row(rows)
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|"]
    for number in sorted(EXPECTED.keys() | grouped.keys()):
        if number not in grouped:
            figure = EXPECTED[number]
            lines.append(
                f"| {number} | {cell(figure)} | missing | | | | **missing** | no script reported it |"
            )
            continue
        plain = [row for row in grouped[number] if not row.get("cell")]
        cells = [row for row in grouped[number] if row.get("cell")]
        values = [
            (number, row["figure"], row["ours"], row["reference"], f"{row['ratio']:.2f}x", row["goal"])
            + (result(row["met"]), row.get("note", ""))
            for row in plain
        ]
        if cells:
            values.append(grid_line(number, cells))
        lines.extend("| " + " | ".join(cell(v) for v in line) + " |" for line in values)
    return "\n".join(lines)


def grids(rows: list[dict]) -> list[str]:
    """One table per grid row: a line per cell, its coordinates first."""
    sections = []
    for number, group in sorted(by_row(rows).items()):
        cells = [row for row in group if row.get("cell")]
        if not cells:
            continue
        keys = list(cells[0]["cell"])
        columns = (*keys, "ours", "reference", "ratio", "result", "note")
        lines = [
            f"## Row {number}: {cells[0]['figure']}",
            f"Goal: {cells[0]['goal']}. Ratio: reference / ours (above 1: the zoo is faster).",
            "",
            "| " + " | ".join(columns) + " |",
            "|" + "|".join("---" for _ in columns) + "|",
        ]
        for row in cells:
            values = (*(row["cell"].get(key, "") for key in keys), row["ours"], row["reference"])
            values += (f"{row['ratio']:.2f}x", result(row["met"]), row.get("note", ""))
            lines.append("| " + " | ".join(cell(v) for v in values) + " |")
        sections.append("\n".join(lines))
    return sections


def render(rows: list[dict]) -> str:
    return "\n\n".join(
        [
            "# Benchmark results",
            "Written by `nox -s bench` (`benchmarks/report.py`); do not edit by hand. Each row times "
            "the zoo and its reference side by side in one process, repeats interleaved, and gives "
            "the median. `ratio` is reference / ours for times (above 1: the zoo is faster) unless "
            "the goal says otherwise.",
            machine(),
            table(rows),
            *grids(rows),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="JSON-lines file of rows from the bench scripts")
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args()
    text = args.results.read_text() if args.results.exists() else ""
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    markdown = render(rows) + "\n"
    args.output.write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
