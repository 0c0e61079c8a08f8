"""One run, the same for every model: resolve, load, fit, evaluate, record."""

from __future__ import annotations

import json
import random
import secrets
import shutil
import time
import traceback
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

from . import __version__
from . import home as zoo_home_paths
from .checkpoints import save_weights
from .data import split_problems
from .devices import resolve_device
from .errors import DataUnavailable, PluginError, ZooError
from .hparams import resolve_hparams, split_trainer
from .plugins import load_plugins
from .provenance import Provenance, collect
from .registry import Entry, Registry, get_registry
from .runs import Estimator, RunConfig, RunResult, finite_or_none
from .specs import DatasetSpec, ModelSpec
from .store import RunRow, Store

Notify = Callable[[str], None]
# In a run folder: present until the run's row is recorded, so a killed run is easy to tell apart.
INCOMPLETE = "INCOMPLETE"
WEIGHTS = "weights.pt"


def incompatibility(model: ModelSpec, dataset: DatasetSpec) -> str | None:
    """Why ``model`` cannot run on ``dataset``, or None when it can."""
    if model.task != dataset.task:
        return f"{model.name} is a {model.task} model but {dataset.name} is a {dataset.task} dataset"
    wanted = model.input_shape
    if wanted is None:
        return None
    got = dataset.input_shape
    if len(wanted) != len(got) or any(w is not None and w != g for w, g in zip(wanted, got, strict=True)):
        shape = "×".join("*" if w is None else str(w) for w in wanted)
        return f"{model.name} needs inputs shaped {shape} but {dataset.name} gives {'×'.join(map(str, got))}"
    return None


@dataclass(frozen=True)
class Plan:
    """A validated request: which model on which dataset, with which settings."""

    model: Entry[ModelSpec]
    dataset: Entry[DatasetSpec]
    hparams: Mapping[str, Any]
    explicit_dataset: bool
    overrides: Mapping[str, Any]


def plan_run(
    registry: Registry, model_name: str, dataset_name: str | None, overrides: Mapping[str, Any]
) -> Plan:
    """Check every user input before anything heavy happens."""
    model = registry.model(model_name)
    name = dataset_name or model.spec.default_dataset
    if name is None:
        choices = ", ".join(d.name for d in registry.datasets_for(model.spec.task)) or "none installed"
        raise ZooError(
            f"{model_name} has no default dataset; pass --dataset (for {model.spec.task}: {choices})"
        )
    if dataset_name is None and name not in registry.datasets:
        raise ZooError(
            f"{model_name}'s default dataset {name!r} is not installed; install the plugin "
            f"that provides it or pass --dataset"
        )
    dataset = registry.dataset(name)
    reason = incompatibility(model.spec, dataset.spec)
    if reason:
        raise ZooError(reason)
    hparams = resolve_hparams(model.spec, overrides, dataset.spec.name)
    return Plan(model, dataset, hparams, dataset_name is not None, overrides)


def plan_all(registry: Registry, dataset_name: str | None) -> list[tuple[str, str | None]]:
    """`zoo run --all`: every model that fits ``dataset_name``, or every non-baseline on its default."""
    if dataset_name is not None:
        dataset = registry.dataset(dataset_name).spec
        return [
            (name, dataset_name)
            for name, e in registry.models.items()
            if incompatibility(e.spec, dataset) is None
        ]
    return [
        (name, None) for name, e in registry.models.items() if not e.spec.baseline and e.spec.default_dataset
    ]


def baseline_pairs(registry: Registry, datasets_used: list[str]) -> list[tuple[str, str]]:
    """Each baseline on each dataset already run that it fits, so every table has a floor."""
    return [
        (name, d)
        for name, e in registry.models.items()
        if e.spec.baseline
        for d in sorted(set(datasets_used))
        if incompatibility(e.spec, registry.dataset(d).spec) is None
    ]


def load_data(plan: Plan, registry: Registry, data_dir: Path, notify: Notify) -> tuple[Plan, Any]:
    """Load the dataset, falling back when the default one is unavailable and allowed to."""
    try:
        return plan, checked_load(plan.dataset, data_dir)
    except DataUnavailable as exc:
        fallback = plan.model.spec.fallback_dataset
        if plan.explicit_dataset or fallback is None:
            raise
        notify(
            f"{plan.dataset.spec.name} is not available ({exc}); running {plan.model.spec.name} on {fallback}"
        )
        fallen_back = plan_run(registry, plan.model.spec.name, fallback, plan.overrides)
        return fallen_back, checked_load(fallen_back.dataset, data_dir)


def checked_load(dataset: Entry[DatasetSpec], data_dir: Path) -> Any:
    """Load a dataset and refuse it, naming its plugin, unless it is what its spec declares."""
    splits = dataset.spec.load(data_dir)
    problems = split_problems(dataset.spec, splits)
    if problems:
        raise PluginError(
            f"plugin {dataset.plugin!r} gave dataset {dataset.spec.name!r} that does not match its "
            f"spec: {'; '.join(problems)}"
        )
    return splits


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True


def count_parameters(model: Any) -> int:
    import torch

    if isinstance(model, torch.nn.Module):
        return sum(p.numel() for p in model.parameters())
    return sum(v.numel() for v in model.state_dict().values() if isinstance(v, torch.Tensor))


def new_run_id(model: str, dataset: str, seed: int) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{model}-{dataset}-s{seed}-{secrets.token_hex(3)}"


def run(
    model_name: str,
    dataset_name: str | None = None,
    *,
    seed: int = 0,
    device: str = "auto",
    overrides: Mapping[str, Any] | None = None,
    home: Path | None = None,
    results: Path | None = None,
    progress: bool = False,
    notify: Notify = lambda message: None,
) -> RunResult:
    """Run one model on one dataset with one seed and record the result.

    Data comes from ``home``; the run folder and the results row go to ``results`` (default:
    ``home`` too), which `zoo reproduce` points at a scratch folder.
    """
    registry = get_registry()
    plan = plan_run(registry, model_name, dataset_name, overrides or {})
    device = resolve_device(device)
    home = home or zoo_home_paths.zoo_home()
    results = results or home
    store = Store(zoo_home_paths.database_path(results))
    store.check()
    plan, splits = load_data(plan, registry, zoo_home_paths.data_dir(home), notify)
    info = load_plugins().infos[plan.model.plugin]
    run_id = new_run_id(plan.model.spec.name, plan.dataset.spec.name, seed)
    config = RunConfig(
        run_id,
        plan.model.spec.name,
        plan.dataset.spec.name,
        plan.model.spec.task,
        seed,
        device,
        dict(plan.hparams),
        zoo_home_paths.runs_dir(results) / run_id,
        info.name,
        info.version,
    )
    provenance = collect(splits, info.distribution)
    return _execute(config, provenance, plan, registry, splits, store, progress)


def _execute(
    config: RunConfig,
    provenance: Provenance,
    plan: Plan,
    registry: Registry,
    splits: Any,
    store: Store,
    progress: bool,
) -> RunResult:
    hook = load_plugins().manager.hook
    folder = config.run_dir
    folder.mkdir(parents=True)
    # Removed only once the run's row is recorded: a run that is interrupted or killed keeps it.
    marker = folder / INCOMPLETE
    marker.write_text(f"run {config.run_id} has not finished; nothing about it is recorded\n")
    (folder / "config.json").write_text(json.dumps(config.to_json(), indent=2) + "\n")
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    started = time.perf_counter()
    num_params = 0
    try:
        hook.zoo_run_started(config=config)
        train, test = splits.train.to(config.device), splits.test.to(config.device)
        model, predictions, history = build_and_fit(plan, config, train, test, progress)
        num_params = count_parameters(model)  # after fitting: an estimator's state exists only then
        targets, inputs = test.y.cpu().numpy(), test.x.reshape(len(test), -1).cpu().numpy()
        metrics = {
            m.name: m.compute(targets, predictions, inputs=inputs) for m in registry.metrics_for(config.task)
        }
        _write_artefacts(folder, config, plan, history, metrics, splits, targets, predictions, inputs)
        save_weights(model.state_dict(), folder / WEIGHTS)
    except ZooError:
        shutil.rmtree(folder, ignore_errors=True)  # refused for bad input: nothing ran worth keeping
        raise
    except KeyboardInterrupt:
        marker.write_text(f"run {config.run_id} was interrupted; nothing about it is recorded\n")
        raise
    except Exception as exc:
        (folder / "error.txt").write_text(traceback.format_exc())
        result = RunResult(
            config.run_id,
            config.model,
            config.dataset,
            "failed",
            {},
            time.perf_counter() - started,
            num_params,
            error=f"{type(exc).__name__}: {exc}",
            run_dir=str(folder),
        )
        _finish(store, config, provenance, result, started_at)
        raise
    result = RunResult(
        config.run_id,
        config.model,
        config.dataset,
        "ok",
        metrics,
        time.perf_counter() - started,
        num_params,
        run_dir=str(folder),
    )
    _finish(store, config, provenance, result, started_at)
    return result


def build_and_fit(
    plan: Plan, config: RunConfig, train: Any, test: Any, progress: bool
) -> tuple[Any, Any, list[float]]:
    """Seed, build the model, fit it and predict the test inputs: (model, predictions, loss history).

    The one way a model is made and fitted, for `zoo run` and for the conformance kit's tiny runs.
    """
    seed_everything(config.seed)
    trainer, model_hparams = split_trainer(plan.hparams)
    model = plan.model.spec.build(plan.dataset.spec, **model_hparams)
    predictions, history = _fit_predict(model, plan.model.spec, config, trainer, train, test, progress)
    return model, predictions, history


def _fit_predict(
    model: Any,
    spec: ModelSpec,
    config: RunConfig,
    trainer: Mapping[str, Any],
    train: Any,
    test: Any,
    progress: bool,
) -> tuple[Any, list[float]]:
    """Train or fit ``model`` and predict the test inputs: (predictions as NumPy, loss history)."""
    import torch

    from . import training

    if spec.gradient:
        if not isinstance(model, torch.nn.Module):
            raise TypeError(
                f"{spec.name} is declared gradient=True but its factory returned {type(model).__name__}"
            )
        model.to(config.device)
        hook = load_plugins().manager.hook
        history = training.fit(
            model,
            train,
            task=config.task,
            seed=config.seed,
            progress=progress,
            label=config.model,
            on_epoch=lambda epoch, loss: hook.zoo_epoch_finished(config=config, epoch=epoch, loss=loss),
            **trainer,
        )
        predictions = training.predict(model, test.x, task=config.task)
    else:
        if not isinstance(model, Estimator):
            raise TypeError(
                f"{spec.name} is declared gradient=False but {type(model).__name__} lacks "
                "fit/predict/state_dict"
            )
        history = list(model.fit(train.x, train.y) or [])
        with torch.no_grad():
            predictions = model.predict(test.x)
    return predictions.detach().cpu().numpy(), history


def _write_artefacts(
    folder: Path,
    config: RunConfig,
    plan: Plan,
    history: list[float],
    metrics: Mapping[str, float],
    splits: Any,
    targets: Any,
    predictions: Any,
    inputs: Any,
) -> None:
    from . import plots

    (folder / "metrics.json").write_text(json.dumps(finite_or_none(metrics), indent=2) + "\n")
    title = f"{config.model} on {config.dataset} (seed {config.seed})"
    if history:
        xlabel = "epoch" if plan.model.spec.gradient else "iteration"
        plots.loss_curve(history, folder / "loss_curve.png", title=title, xlabel=xlabel)
    if config.task == "classification":
        plots.confusion_matrix(
            targets, predictions, plan.dataset.spec.classes, folder / "confusion_matrix.png", title=title
        )
    elif config.task == "forecasting":
        plots.forecast(splits, predictions, folder / "forecast.png", title=title)
    elif config.task == "clustering":
        plots.clusters(inputs, predictions, folder / "clusters.png", title=title)


def _finish(
    store: Store, config: RunConfig, provenance: Provenance, result: RunResult, started_at: str
) -> None:
    """Record the run's row, unmark its folder, then tell the plugins it finished."""
    import torch

    store.record(
        RunRow(
            config.run_id,
            config.model,
            config.dataset,
            config.task,
            config.plugin,
            config.seed,
            result.status,
            config.hparams,
            result.duration_s,
            result.num_params,
            __version__,
            config.plugin_version,
            torch.__version__,
            config.device,
            started_at,
            result.error,
            result.run_dir,
            config=config.to_json(),
            **asdict(provenance),
        ),
        result.metrics,
    )
    (config.run_dir / INCOMPLETE).unlink()  # recorded: whatever the hook below does, the run is complete
    load_plugins().manager.hook.zoo_run_finished(config=config, result=result)
