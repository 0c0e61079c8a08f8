"""Row 16: the bytes one `zoo run` writes, for each model on its largest dataset.

Run from the repository with zoo-core and the lesson plugins installed:
``python benchmarks/bench_run_sizes.py [--models knn,lenet5]``. Each model runs once, as a user
runs it (``python -m zoo_core run MODEL --dataset D``, offline, in a scratch zoo home), on the
largest dataset it fits that is available (most training inputs; a dataset that would need a
download is skipped for the next). Gradient-trained models train one epoch: their folder holds
the same files whatever the epochs.

The size is the run's folder as recorded (``folder_bytes``). For a model whose state is its
training data (KNN), the reference is the copy that folder would otherwise hold (the data's
bytes, from its ``data-reference.json``): the goal is under 1 MB. For the others it is the
weights file, which the folder must hold: the goal is that everything else takes under 1 MB.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from timing import Row, emit, options

LIMIT = 1_000_000  # bytes: a run folder's goal, besides any weights the model has to keep
ITEM_BYTES = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int64": 8, "int32": 4, "uint8": 1}


def megabytes(count: float) -> str:
    return f"{count / 1e6:.1f} MB" if count >= 1e6 else f"{count / 1e3:.1f} kB"


def largest_first(models: list[str] | None) -> dict[str, list[str]]:
    """Each model (those named, else every one) and the datasets it fits, most training inputs first."""
    from zoo_core.planning import incompatibility
    from zoo_core.registry import get_registry

    registry = get_registry()
    chosen = {}
    for name, entry in sorted(registry.models.items()):
        if models and name not in models:
            continue
        fitting = [d.spec for d in registry.datasets.values() if incompatibility(entry.spec, d.spec) is None]
        fitting.sort(key=lambda d: (-d.train_size * math.prod(d.input_shape), d.name))
        chosen[name] = [d.name for d in fitting]
    return chosen


def run(model: str, dataset: str, gradient: bool, home: Path) -> dict | None:
    """The result of one `zoo run`, or None when its dataset is not available here."""
    command = [sys.executable, "-m", "zoo_core", "run", model, "--dataset", dataset, "--quiet", "--json"]
    command += ["--epochs", "1"] if gradient else []
    done = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, "ZOO_HOME": str(home), "ZOO_OFFLINE": "1"}
    )
    if done.returncode == 2 and "not available" in done.stderr:
        return None
    if done.returncode != 0:
        raise SystemExit(f"zoo run {model} --dataset {dataset} failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def data_bytes(folder: Path) -> int:
    """The bytes of the training data a run folder refers to instead of holding."""
    reference = json.loads((folder / "data-reference.json").read_text())
    return sum(
        math.prod(entry["shape"]) * ITEM_BYTES.get(entry["dtype"], 4)
        for entry in reference["tensors"].values()
    )


def main() -> None:
    parser = options(__doc__.splitlines()[0], repeats=1)
    parser.add_argument("--models", help="comma-separated models (default: every installed one)")
    args = parser.parse_args()
    from zoo_core.registry import get_registry

    registry = get_registry()
    with tempfile.TemporaryDirectory(prefix="zoo-bench-sizes-") as scratch:
        home = Path(scratch)
        for model, datasets in largest_first(args.models.split(",") if args.models else None).items():
            gradient = registry.model(model).spec.gradient
            for dataset in datasets:
                result = run(model, dataset, gradient, home)
                if result is not None:
                    break
            else:
                print(f"[16] {model}: none of its datasets is available here; skipped", flush=True)
                continue
            folder, size = Path(result["run_dir"]), result["folder_bytes"]
            figure = f"bytes one `zoo run {model} --dataset {dataset}` writes"
            if result["fitted_points"]:
                copy = data_bytes(folder) if result["data_reference"] else size
                emit(
                    Row(
                        16,
                        figure,
                        f"folder {megabytes(size)}",
                        f"with a copy of the training data {megabytes(copy + size)}",
                        (copy + size) / size,
                        "folder < 1 MB",
                        size < LIMIT,
                        note=f"{result['fitted_points']:,} training points by reference",
                    )
                )
                continue
            weights = (folder / "weights.pt").stat().st_size
            emit(
                Row(
                    16,
                    figure,
                    f"folder {megabytes(size)}",
                    f"weights.pt {megabytes(weights)}",
                    size / weights,
                    "folder - weights < 1 MB",
                    size - weights < LIMIT,
                    note=f"{result['num_params']:,} parameters",
                )
            )


if __name__ == "__main__":
    main()
