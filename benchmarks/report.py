"""Turn the rows the benchmark scripts emitted into ``benchmarks/RESULTS.md``, and print it.

    python benchmarks/report.py RESULTS.jsonl [--output benchmarks/RESULTS.md]

Every row of the benchmark issue gets a line; a row no script reported (the script failed or
is missing) says so instead of vanishing from the table.
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
    14: "leaderboard grid: `zoo run` processes in turn vs `zoo sweep --workers 2`",
    15: "leaderboard grid with one busy core: `zoo sweep --workers 2` busy vs quiet",
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


def table(rows: list[dict]) -> str:
    by_number: dict[int, list[dict]] = {}
    for row in rows:
        by_number.setdefault(row["row"], []).append(row)
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|"]
    for number in sorted(EXPECTED.keys() | by_number.keys()):
        if number not in by_number:
            figure = EXPECTED[number]
            lines.append(
                f"| {number} | {cell(figure)} | missing | | | | **missing** | no script reported it |"
            )
            continue
        for row in by_number[number]:
            result = "met" if row["met"] else "**NOT met**"
            values = (number, row["figure"], row["ours"], row["reference"], f"{row['ratio']:.2f}x")
            values += (row["goal"], result, row.get("note", ""))
            lines.append("| " + " | ".join(cell(v) for v in values) + " |")
    return "\n".join(lines)


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
