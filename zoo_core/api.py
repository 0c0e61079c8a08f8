"""The zoo as a library: what `zoo list`, `zoo info`, `zoo run`, `zoo sweep` and `zoo leaderboard` do.

Every function here is re-exported by ``zoo_core``, with ``load_run`` (a trained run, ready to
predict) from :mod:`zoo_core.trained`. None imports torch or pandas before it needs them:
listing the zoo costs what `zoo list` costs. Functions that read or write results take ``home``
(default: ``$ZOO_HOME``, else the per-user folder), as the command's ``--home``.
"""

from __future__ import annotations

import fnmatch
import sys
import warnings
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence, Union

from . import layout
from .errors import ZooError
from .names import suggest

if TYPE_CHECKING:
    import pandas as pd

    from .data import Splits
    from .registry import Entry
    from .runs import RunResult

Pattern = Union[str, Iterable[str], None]


def _registry() -> Any:
    from .registry import get_registry

    return get_registry()


def _names(table: dict[str, Entry], pattern: Pattern, task: str | None) -> list[str]:
    patterns = [pattern] if isinstance(pattern, str) else list(pattern or ["*"])
    return sorted(
        name
        for name, entry in table.items()
        if task in (None, entry.spec.task) and any(fnmatch.fnmatchcase(name, p) for p in patterns)
    )


def list_models(pattern: Pattern = None, *, task: str | None = None, dataset: str | None = None) -> list[str]:
    """Names of the installed models, sorted; ``pattern`` is a wildcard (or several) as in timm.

    ``list_models("lenet*")``, ``list_models(task="forecasting")``, and with ``dataset`` only
    the models that can run on that dataset.
    """
    from .planning import incompatibility

    registry = _registry()
    names = _names(registry.models, pattern, task)
    if dataset is None:
        return names
    spec = registry.dataset(dataset).spec
    return [name for name in names if incompatibility(registry.models[name].spec, spec) is None]


def list_datasets(pattern: Pattern = None, *, task: str | None = None) -> list[str]:
    """Names of the installed datasets, sorted, filtered like :func:`list_models`."""
    return _names(_registry().datasets, pattern, task)


def list_metrics(pattern: Pattern = None, *, task: str | None = None) -> list[str]:
    """Names of the installed metrics, sorted, filtered like :func:`list_models`."""
    return _names(_registry().metrics, pattern, task)


def info(name: str) -> dict[str, Any]:
    """Everything known about a model, dataset or metric: the record `zoo info NAME --json` prints."""
    from .catalog import info_record

    return info_record(_registry(), name)


def create_model(name: str, dataset: str | None = None, **hparams: Any) -> Any:
    """An untrained model, sized for ``dataset`` (default: the model's own), with its hyperparameters.

    ``hparams`` override the model's own hyperparameters only; trainer settings such as
    ``epochs`` or ``lr`` belong to a run (:func:`run`) and are refused here.
    """
    from .planning import plan_run
    from .recipe import TRAINER_DEFAULTS

    registry = _registry()
    spec = registry.model(name).spec
    trainer = sorted(key for key in hparams if key in TRAINER_DEFAULTS and key not in spec.defaults)
    if trainer:
        raise ZooError(
            f"create_model takes {name}'s own hyperparameters, and {', '.join(trainer)} "
            f"{'is a trainer setting' if len(trainer) == 1 else 'are trainer settings'}: "
            "give trainer settings to zoo_core.run(...)"
        )
    plan = plan_run(registry, name, dataset, hparams)
    return spec.build(plan.dataset.spec, **plan.settings.model)


def load_dataset(name: str, *, home: Path | str | None = None) -> Splits:
    """The dataset's train and test splits, as every run gets them (read from ``<home>/data``)."""
    from .loading import checked_load

    return checked_load(_registry().dataset(name), layout.data_dir(layout.zoo_home(home)))


def run(
    model: str,
    dataset: str | None = None,
    seed: int = 0,
    *,
    home: Path | str | None = None,
    device: str = "auto",
    threads: int | None = None,
    progress: bool = False,
    **settings: Any,
) -> RunResult:
    """Train and test ``model`` as `zoo run` does, record the run in the store, return its result.

    ``settings`` are the model's hyperparameters and, for gradient-trained models, the
    trainer's (``epochs``, ``lr``, ...), checked as ``--set`` checks them. A note such as the
    fallback to another dataset is given as a warning.
    """
    from .hparams import check_threads
    from .runner import run as run_one

    return run_one(
        model,
        dataset,
        seed=seed,
        overrides=settings,
        home=layout.zoo_home(home),
        device=device,
        threads=check_threads(threads) if threads is not None else None,
        progress=progress,
        notify=lambda message: warnings.warn(message, stacklevel=4),
    )


def _recorded(home: Path | str | None, sweep: str | None, **filters: Any) -> list[dict[str, Any]]:
    """The recorded runs that match the ``filters`` given (not None), with their tags."""
    from .queries import recorded_runs

    given = {key: value for key, value in filters.items() if value is not None}
    return recorded_runs(layout.zoo_home(home), sweep=sweep, **given)


def runs(
    *,
    home: Path | str | None = None,
    model: str | None = None,
    dataset: str | None = None,
    status: str | None = None,
    tags: str | Sequence[str] | None = None,
    exclude_tags: str | Sequence[str] | None = None,
    since: str | datetime | date | None = None,
    settings: Mapping[str, Any] | Sequence[str] | None = None,
    sweep: str | None = None,
    **columns: Any,
) -> pd.DataFrame:
    """The recorded runs `zoo runs` lists, as rows, oldest first, with their tags.

    The filters are `zoo runs`'s (zoo_core.queries.select): ``model``, ``dataset``, ``status``,
    ``tags`` (every one), ``exclude_tags`` (none of them), ``since`` (``"3d"``, a date),
    ``settings`` (``{"k": 3}`` or ``["k=3"]``) and ``sweep`` (an id, or a unique start of one).
    Any other keyword keeps the runs whose column equals it (``seed=0``). Metrics are columns
    named ``metrics.<name>``.
    """
    import pandas as pd

    from .leaderboard import METRIC_PREFIX

    rows = _recorded(
        home,
        sweep,
        model=model,
        dataset=dataset,
        status=status,
        tags=tags,
        exclude_tags=exclude_tags,
        since=since,
        settings=settings,
    )
    if rows:
        unknown = sorted(set(columns) - set(rows[0]))
        if unknown:
            raise ZooError(f"runs have no column {unknown[0]!r}{suggest(unknown[0], rows[0])}")
    kept = [row for row in rows if all(row.get(key) == value for key, value in columns.items())]
    return pd.DataFrame(
        [
            {
                **{k: v for k, v in row.items() if k != "metrics"},
                **{METRIC_PREFIX + name: value for name, value in row["metrics"].items()},
            }
            for row in kept
        ]
    )


def leaderboard(
    task: str | None = None,
    *,
    home: Path | str | None = None,
    dataset: str | None = None,
    model: str | None = None,
    tags: str | Sequence[str] | None = None,
    exclude_tags: str | Sequence[str] | None = None,
    since: str | datetime | date | None = None,
    settings: Mapping[str, Any] | Sequence[str] | None = None,
    sweep: str | None = None,
) -> pd.DataFrame | dict[str, pd.DataFrame]:
    """The numbers of `zoo leaderboard`: mean and std over seeds, best first within each dataset.

    With ``task``, that task's table; without, ``{task: table}`` for every task with runs (their
    metrics differ). The filters are :func:`runs`' (a leaderboard ranks successful runs only);
    a ``dataset`` or ``model`` that no successful run has is a ZooError with a suggestion, as in
    `zoo leaderboard`.
    """
    from .leaderboard import boards

    rows = _recorded(home, sweep, tags=tags, exclude_tags=exclude_tags, since=since, settings=settings)
    where = str(layout.database_path(layout.zoo_home(home)))
    tables = boards(rows, _registry(), where, task=task, dataset=dataset, model=model)
    if task is None:
        return tables
    import pandas as pd

    return tables.get(task, pd.DataFrame())


Names = Union[str, Iterable[str]]


def sweep(
    models: Names = (),
    datasets: Names = (),
    *,
    grid: Mapping[str, Iterable[Any]] | None = None,
    seeds: int | str | Iterable[int] | None = None,
    all_models: bool = False,
    all_datasets: bool = False,
    file: Path | str | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    rerun: bool = False,
    home: Path | str | None = None,
    device: str = "auto",
    threads: int | None = None,
    progress: bool = False,
    **settings: Any,
) -> pd.DataFrame:
    """Run a grid as `zoo sweep` does, recording each run; return one row per run of the sweep.

    ``models`` (or ``all_models=True``) × ``datasets`` (default: each model's own; or
    ``all_datasets=True``) × the product of ``grid`` (``{"k": [1, 3, 5]}``) × ``seeds``
    (``"0-4"``, ``[0, 1, 2]`` or one integer; default 0). ``settings`` are given to every run, as
    ``--set``; ``file`` is a TOML sweep file, which the other arguments override as the command
    line does. Every value is checked before anything runs. Runs already recorded ``ok`` are not
    run again unless ``rerun``; ``workers`` > 1 starts a local Dask cluster, ``scheduler`` uses a
    running one. What the sweep leaves out, and each run's warnings, come as warnings.

    The rows are those of :func:`runs`, one per planned run (its newest ``ok`` row, else its
    newest; a run refused for its data has none); ``frame.attrs["sweep_id"]`` is the sweep's id.
    Ctrl-C stops the sweep with whole rows only and raises KeyboardInterrupt.
    """
    from .grid import grid_from, plan_sweep, read_sweep_file, request_from, seeds_from
    from .hparams import check_threads
    from .sweeper import check_workers, execute

    check_workers(workers, scheduler)
    request = request_from(
        read_sweep_file(Path(file)) if file is not None else {},
        models=_tuple(models),
        all_models=all_models,
        datasets=_tuple(datasets),
        all_datasets=all_datasets,
        grid=grid_from(grid or {}),
        fixed=settings,
        seeds=seeds_from(seeds) if seeds is not None else None,
    )
    plan = plan_sweep(_registry(), request)
    where = layout.zoo_home(home)

    def say(line: str) -> None:
        if progress:
            print(f"zoo: {line}", file=sys.stderr)

    told: list[str] = []  # warned of from here once the sweep ends, so they name the caller's line
    tally = execute(
        plan,
        where,
        workers=workers,
        scheduler=scheduler,
        device=device,
        rerun=rerun,
        threads=check_threads(threads) if threads is not None else None,
        progress=progress,
        report=lambda result, run: None,
        say=say,
        warn=told.append,
    )
    for line in told:
        warnings.warn(line, stacklevel=2)
    if tally.interrupted:
        raise KeyboardInterrupt
    frame = runs(home=where, sweep=plan.sweep_id)
    frame.attrs["sweep_id"] = plan.sweep_id
    return frame


def _tuple(names: Names) -> tuple[str, ...]:
    return (names,) if isinstance(names, str) else tuple(names)
