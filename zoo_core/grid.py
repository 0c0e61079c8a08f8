"""Planning a sweep: models × datasets × grid settings × seeds, all checked before anything runs.

A sweep is asked for in a :class:`SweepRequest` (from the command line, a TOML sweep file, or
both) and planned once by :func:`plan_sweep`: every combination is resolved and checked as
``--set`` checks a value, so a bad grid stops the sweep before any worker starts. Each planned
run carries its identity (:func:`zoo_core.runs.run_key`), by which a sweep finds what the store
already has. What the sweep leaves out is listed with the reason, never dropped silently.
"""

from __future__ import annotations

import hashlib
import itertools
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .errors import ZooError
from .hparams import check_seed
from .names import suggest
from .planning import Plan, incompatibility, plan_run, trainer_overrides_for
from .registry import Entry, Registry
from .runs import run_key
from .specs import ModelSpec

# A sweep plans at most this many runs: beyond it a typo in --seeds (0-99999999) is likelier than intent.
MAX_RUNS = 100_000
# The keys a sweep file may hold, and what each means on the command line.
FILE_KEYS = {
    "models": "MODEL...",
    "all": "--all",
    "datasets": "--dataset",
    "all-datasets": "--all-datasets",
    "grid": "--grid",
    "set": "--set",
    "seeds": "--seeds",
}


@dataclass(frozen=True)
class SweepRequest:
    """What a sweep asks for, before it is checked against the installed plugins.

    ``grid`` maps a setting to the values it takes, one run each; ``fixed`` holds the settings
    every run gets (``--set``). Values are strings from the command line or typed values from a
    sweep file; both are checked and converted when the sweep is planned.
    """

    models: tuple[str, ...] = ()
    all_models: bool = False
    datasets: tuple[str, ...] = ()
    all_datasets: bool = False
    grid: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    fixed: Mapping[str, Any] = field(default_factory=dict)
    seeds: tuple[int, ...] = (0,)

    def to_json(self) -> dict[str, Any]:
        return {
            "models": list(self.models),
            "all": self.all_models,
            "datasets": list(self.datasets),
            "all-datasets": self.all_datasets,
            "grid": {name: list(values) for name, values in self.grid.items()},
            "set": dict(self.fixed),
            "seeds": list(self.seeds),
        }


def parse_grid(pairs: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """``["k=1,3,5", ...]`` as ``{"k": ("1", "3", "5")}``, refusing empty, repeated or malformed lists."""
    grid: dict[str, tuple[str, ...]] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ZooError(f"--grid expects NAME=V1,V2,..., got {pair!r}")
        values = tuple(value.strip() for value in text.split(","))
        if not text.strip() or not all(values):
            raise ZooError(f"--grid {name} needs values separated by commas, got {pair!r}")
        if name in grid:
            raise ZooError(f"--grid {name} is given twice; list all its values in one --grid")
        grid[name] = check_values(name, values)
    return grid


def check_values(name: str, values: Sequence[Any]) -> tuple[Any, ...]:
    """A grid's values, refusing a value listed twice (it would plan the same runs twice)."""
    seen: list[Any] = []
    for value in values:
        if any(value == other and type(value) is type(other) for other in seen):
            raise ZooError(f"--grid {name} lists {value!r} twice")
        seen.append(value)
    return tuple(values)


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"0-9"``, ``"0,1,2"`` or both (``"0-4,10"``) as the seeds, in order, each checked."""
    seeds: list[int] = []
    for part in (piece.strip() for piece in str(text).split(",")):
        low, dash, high = part.partition("-")
        try:
            span = range(int(low), int(high) + 1) if dash and low else [int(part)]
        except ValueError:
            raise ZooError(f"--seeds expects 0-9 or 0,1,2, got {text!r}") from None
        if not span:
            raise ZooError(f"--seeds range {part} is empty: give the lower seed first")
        if len(seeds) + len(span) > MAX_RUNS:
            raise ZooError(f"--seeds {text} gives more than {MAX_RUNS:,} seeds")
        seeds.extend(check_seed(seed) for seed in span)
    if len(set(seeds)) != len(seeds):
        raise ZooError(f"--seeds {text} names a seed twice")
    return tuple(seeds)


def read_sweep_file(path: Path) -> dict[str, Any]:
    """A TOML sweep file's keys (see FILE_KEYS), checked for shape; values are checked when planned."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ZooError(f"cannot read sweep file {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ZooError(f"sweep file {path} is not valid TOML: {exc}") from None
    for key in data:
        if key not in FILE_KEYS:
            raise ZooError(f"sweep file {path}: unknown key {key!r}{suggest(key, FILE_KEYS)}")

    def strings(key: str) -> tuple[str, ...]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ZooError(f"sweep file {path}: {key} must be a list of names")
        return tuple(value)

    def table(key: str) -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise ZooError(f"sweep file {path}: [{key}] must be a table of settings")
        return value

    grid = grid_from(table("grid"), f"sweep file {path}: grid")
    for name, value in table("set").items():
        if isinstance(value, (list, dict)):
            raise ZooError(f"sweep file {path}: set {name} takes one value; a list belongs in [grid]")
    read: dict[str, Any] = {"models": strings("models"), "datasets": strings("datasets")}
    read.update(grid=grid, fixed=table("set"))
    for flag in ("all", "all-datasets"):
        if not isinstance(data.get(flag, False), bool):
            raise ZooError(f"sweep file {path}: {flag} must be true or false")
    read.update(all_models=data.get("all", False), all_datasets=data.get("all-datasets", False))
    if data.get("seeds") is not None:
        read["seeds"] = seeds_from(data["seeds"], f"sweep file {path}: seeds")
    return read


def grid_from(table: Mapping[str, Any], where: str = "grid") -> dict[str, tuple[Any, ...]]:
    """A grid given as a table of typed values (a sweep file's, the Python API's), checked for shape:
    each setting takes a non-empty list of values."""
    grid: dict[str, tuple[Any, ...]] = {}
    for name, values in table.items():
        if not isinstance(values, (list, tuple)) or not values:
            raise ZooError(f"{where} {name} must be a non-empty list of values, got {values!r}")
        grid[name] = check_values(name, tuple(values))
    return grid


def seeds_from(value: Any, where: str = "seeds") -> tuple[int, ...]:
    """Seeds given as ``"0-9"``, ``"0,1,2"``, one integer or a list of integers, each checked."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    elif isinstance(value, (list, tuple, range)) and all(
        isinstance(s, int) and not isinstance(s, bool) for s in value
    ):
        value = ",".join(map(str, value))
    elif not isinstance(value, str):
        raise ZooError(f'{where} must be "0-9", "0,1,2" or a list of integers, got {value!r}')
    return parse_seeds(value)


@dataclass(frozen=True)
class PlannedRun:
    """One run of a sweep: its plan, seed, and what it asks beyond its model's defaults.

    ``dataset`` is None when the run takes its model's default dataset, whose planned fallback
    may then be used, as `zoo run` does; the run's identity is then either plan's.
    """

    plan: Plan
    seed: int
    overrides: Mapping[str, Any]
    dataset: str | None

    @property
    def model(self) -> str:
        return self.plan.model.spec.name

    @cached_property
    def keys(self) -> tuple[str, ...]:
        """The run's identity, then its fallback's when it has one."""
        plans = [self.plan] if self.plan.fallback is None else [self.plan, self.plan.fallback]
        return tuple(
            run_key(p.model.spec.name, p.dataset.spec.name, p.settings.flat, self.seed) for p in plans
        )

    @property
    def label(self) -> str:
        """``knn on digits (k=3, seed 2)``: the run as a person reads it."""
        words = [f"{name}={value}" for name, value in sorted(self.overrides.items())]
        return f"{self.plan.name} ({', '.join([*words, f'seed {self.seed}'])})"

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "dataset": self.plan.dataset.spec.name,
            "settings": self.plan.settings.flat,
            "seed": self.seed,
            "keys": list(self.keys),
        }


@dataclass(frozen=True)
class SweepPlan:
    """The runs of a sweep, and what it left out: ``(what, why)`` pairs, said once each."""

    request: SweepRequest
    runs: list[PlannedRun]
    skipped: list[tuple[str, str]]

    @property
    def sweep_id(self) -> str:
        """Named by its runs: the same sweep asked again (to resume it) gets the same id."""
        digest = hashlib.sha256("\n".join(sorted(run.keys[0] for run in self.runs)).encode())
        return f"sweep-{digest.hexdigest()[:10]}"

    def to_json(self) -> dict[str, Any]:
        return {"request": self.request.to_json(), "runs": [run.to_json() for run in self.runs]}


def plan_sweep(registry: Registry, request: SweepRequest) -> SweepPlan:
    """Every run of ``request``: each model on each of its datasets, per grid combination and seed.

    Models named by the user must take every setting the sweep gives and fit every dataset it
    names, or the sweep stops (ZooError). With ``--all``, a model that does not is left out with
    the reason; trainer settings in ``--set`` then apply to the models that train, as in
    ``zoo run --all``. A value that is wrong for a model stops the sweep either way.
    """
    if request.all_models == bool(request.models):
        raise ZooError(
            "give model names or --all, not both" if request.models else "give model names or --all"
        )
    if request.all_datasets and request.datasets:
        raise ZooError("give --dataset or --all-datasets, not both")
    if not request.seeds:
        raise ZooError("--seeds is empty")
    both = sorted(set(request.grid) & set(request.fixed))
    if both:
        raise ZooError(f"{both[0]} is both in --grid and --set; give it in one of them")
    if request.all_models:
        models = list(registry.models.values())  # sorted by name
    else:
        models = [registry.model(name) for name in dict.fromkeys(request.models)]
    datasets = [registry.dataset(name) for name in dict.fromkeys(request.datasets)]
    _check_names(request, [m.spec for m in models])
    combinations = [
        dict(zip(request.grid, values, strict=True)) for values in itertools.product(*request.grid.values())
    ]
    if len(combinations) * len(request.seeds) > MAX_RUNS:
        raise ZooError(
            f"the grid and seeds give {len(combinations) * len(request.seeds):,} runs per model and "
            f"dataset; a sweep plans at most {MAX_RUNS:,}"
        )
    runs: list[PlannedRun] = []
    skipped: list[tuple[str, str]] = []
    for model in models:
        fixed = _settings_for(model.spec, request, skipped)
        if fixed is None:
            continue
        for dataset in _datasets_for(registry, model, request, datasets, skipped):
            for combination in combinations:
                overrides = {**fixed, **combination}
                plan = plan_run(registry, model.spec.name, dataset, overrides)  # checks every value
                runs += [PlannedRun(plan, seed, overrides, dataset) for seed in request.seeds]
    runs = _without_repeats(runs, skipped)
    if len(runs) > MAX_RUNS:
        raise ZooError(f"the sweep plans {len(runs):,} runs; at most {MAX_RUNS:,}")
    if not runs:
        reasons = "; ".join(f"{what}: {why}" for what, why in skipped[:3]) or "nothing was asked"
        raise ZooError(f"the sweep plans no run ({reasons})")
    return SweepPlan(request, runs, skipped)


def _check_names(request: SweepRequest, models: list[ModelSpec]) -> None:
    """A setting no model of the sweep takes is a typo, whichever models were asked for."""
    known: set[str] = set().union(*(model.setting_names() for model in models))
    for name in [*request.grid, *request.fixed]:
        if name not in known:
            raise ZooError(
                f"unknown setting {name!r}: no model of this sweep takes it{suggest(name, known)} "
                f"(known: {', '.join(sorted(known)) or 'none'})"
            )


def _settings_for(
    model: ModelSpec, request: SweepRequest, skipped: list[tuple[str, str]]
) -> dict[str, Any] | None:
    """The ``--set`` settings ``model`` gets, or None when ``--all`` leaves it out (said in ``skipped``)."""
    if not request.all_models:
        return dict(request.fixed)  # planning says what is wrong, as `zoo run` does
    fixed = trainer_overrides_for(model, request.fixed)
    missing = [name for name in [*request.grid, *fixed] if name not in model.setting_names()]
    if missing:
        skipped.append((model.name, f"it takes no {', '.join(missing)}"))
        return None
    return fixed


def _datasets_for(
    registry: Registry,
    model: Entry[ModelSpec],
    request: SweepRequest,
    named: list[Entry[Any]],
    skipped: list[tuple[str, str]],
) -> Iterable[str | None]:
    """The datasets ``model`` runs on (None: its default, with its fallback), skipping what does not fit."""
    spec = model.spec
    if request.all_datasets:
        fitting = [d.name for d in registry.datasets_for(spec.task) if incompatibility(spec, d) is None]
        if not fitting:
            skipped.append((spec.name, f"no installed {spec.task} dataset fits it"))
        return fitting
    if named:
        same_task = [d for d in named if d.spec.task == spec.task]
        if request.all_models and not same_task:
            names = ", ".join(d.spec.name for d in named)
            skipped.append((spec.name, f"it is a {spec.task} model and {names} are not {spec.task} datasets"))
            return []
        fitting = []
        for dataset in named if not request.all_models else same_task:
            reason = incompatibility(spec, dataset.spec)
            if reason:
                skipped.append((f"{spec.name} on {dataset.spec.name}", reason))
            else:
                fitting.append(dataset.spec.name)
        return fitting
    if request.all_models and (spec.default_dataset is None or spec.default_dataset not in registry.datasets):
        why = (
            "it has no default dataset" if spec.default_dataset is None else "its default dataset is missing"
        )
        skipped.append((spec.name, f"{why}; give --dataset or --all-datasets"))
        return []
    return [None]


def _without_repeats(runs: list[PlannedRun], skipped: list[tuple[str, str]]) -> list[PlannedRun]:
    """Runs whose identity an earlier run of the plan has (a grid value equal to another) are left out."""
    seen: set[str] = set()
    kept = []
    for run in runs:
        if run.keys[0] in seen:
            skipped.append((run.label, "it is the same run as another of this sweep"))
            continue
        seen.add(run.keys[0])
        kept.append(run)
    return kept


def describe(plan: SweepPlan, done: set[str]) -> dict[str, Any]:
    """What ``--dry-run`` prints: the sweep's size, what is done already, and what was left out."""
    pairs: dict[str, int] = {}
    for run in plan.runs:
        pairs[run.plan.name] = pairs.get(run.plan.name, 0) + 1
    finished = sum(1 for run in plan.runs if done & set(run.keys))
    return {
        "sweep_id": plan.sweep_id,
        "runs": len(plan.runs),
        "done": finished,
        "to_run": len(plan.runs) - finished,
        "pairs": pairs,
        "skipped": [{"what": what, "why": why} for what, why in plan.skipped],
    }


def request_from(file: Mapping[str, Any], **given: Any) -> SweepRequest:
    """A request from a sweep file's keys, overridden by what the command line gives.

    Models (or ``--all``), datasets (or ``--all-datasets``) and seeds given on the command line
    replace the file's; grid and ``--set`` settings merge by name, the command line's winning.
    """
    values = dict(file)
    for names in (("models", "all_models"), ("datasets", "all_datasets"), ("seeds",)):
        if any(given.get(name) for name in names):
            values.update({name: given.get(name) for name in names})
    for name in ("grid", "fixed"):
        values[name] = {**values.get(name, {}), **(given.get(name) or {})}
    return SweepRequest(
        models=tuple(values.get("models") or ()),
        all_models=bool(values.get("all_models")),
        datasets=tuple(values.get("datasets") or ()),
        all_datasets=bool(values.get("all_datasets")),
        grid=values["grid"],
        fixed=values["fixed"],
        seeds=tuple(values.get("seeds") or (0,)),
    )
