"""The run owner: one object carries a planned run from its plan to its record.

:class:`Run` prepares (device, threads, data, config), trains (through ``fitting``, which fires
nothing), scores and writes the run's files: that ends in a :class:`Trained` record. Then
:func:`record` writes the row. `zoo run` does both in one process (:meth:`Run.execute`); a sweep
trains on a worker and records in the client, the one process that writes the store, so the
worker ships the run folder's files back in the record. ``zoo_run_started`` and
``zoo_epoch_finished`` fire where the run trains, ``zoo_run_finished`` where it is recorded,
after its row. An observer or a metric that raises costs a warning, never the result.
"""

from __future__ import annotations

import json
import secrets
import shutil
import time
import traceback
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Mapping

from . import layout, markers
from .checkpoints import DataSource, save_state
from .devices import resolve_device
from .disk import check_writable, writing
from .errors import Diverged, ZooError
from .fitting import Fitted, count_parameters, fit_model
from .loading import load_data
from .observers import Observers
from .planning import Plan
from .plugins import LoadedPlugins, describe, load_plugins
from .provenance import Provenance, collect
from .registry import Registry, get_registry
from .runs import RunConfig, RunResult, finite_or_none
from .store import RunRow, Store
from .threads import choose_threads, using_threads
from .transforms import save_state as save_transform_state
from .version import __version__

Notify = Callable[[str], None]


def new_run_id(model: str, dataset: str, seed: int) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{model}-{dataset}-s{seed}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Context:
    """Where and how runs happen: shared by every run of one command.

    Data is read from ``home``; the run folder and the results row go to ``results`` (``home``
    too, unless `zoo reproduce` points it at a scratch folder). ``store_data`` keeps a copy of
    the training data in the run folder of a model whose state is that data (else a reference).
    """

    home: Path
    results: Path
    device: str = "auto"
    threads: int | None = None
    progress: int = 0  # what training says on stderr: 0 nothing, 1 a line per epoch, 2 per step too
    notify: Notify = lambda message: None
    registry: Registry | None = None
    plugins: LoadedPlugins | None = None
    store_data: bool = False

    @classmethod
    def create(cls, home: Path | None = None, results: Path | None = None, **options: Any) -> Context:
        """A context with the home resolved, the device checked and the plugins loaded, once."""
        home = home or layout.zoo_home()
        device = resolve_device(options.pop("device", "auto"))
        plugins = options.pop("plugins", None) or load_plugins()
        registry = options.pop("registry", None) or get_registry()
        context = cls(home, results or home, device, plugins=plugins, registry=registry, **options)
        context.check_writable()  # once, first: a read-only or foreign store refuses every run alike
        return context

    def check_writable(self) -> None:
        """Fail now, in one line, if the store or the runs folder could not take a run."""
        self.store.check()
        check_writable(layout.runs_dir(self.results), "runs folder")

    @property
    def store(self) -> Store:
        return Store(layout.database_path(self.results))


@dataclass(frozen=True)
class Trained:
    """A run that has ended where it was trained, ready for :func:`record` (in this process or another).

    ``row`` is None for a run refused for its input: there is nothing to record. ``files`` holds
    the run folder's files (relative path -> bytes) when they were written elsewhere than
    ``config.run_dir`` (a worker's scratch folder); None when the folder is already in place.
    ``exception`` ended a failed or refused run, for a local caller to raise; it never travels.
    """

    config: RunConfig
    result: RunResult
    row: RunRow | None
    files: Mapping[str, bytes] | None = None
    exception: BaseException | None = field(default=None, compare=False, repr=False)

    def shipped(self, folder: Path) -> Trained:
        """This record with the files of ``folder`` (where it was trained) read in, ready to travel."""
        files = {}
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file() and path.name != layout.INCOMPLETE:
                    files[path.relative_to(folder).as_posix()] = path.read_bytes()
        return replace(self, files=files, exception=None)


class Run:
    """One run of ``plan`` with ``seed``, from preparation to record.

    ``run_id`` is given when the run's id is chosen elsewhere: a sweep's client names each run
    before a worker trains it, so a retried or lost run keeps its name.
    """

    def __init__(self, plan: Plan, seed: int, context: Context, run_id: str | None = None) -> None:
        self.plan = plan
        self.seed = seed
        self.context = context
        self.run_id = run_id
        self.observers = Observers(context.plugins, context.notify)

    def execute(self) -> RunResult:
        """Prepare, train, score and record the run in this process; return its result.

        Bad input found on the way raises :class:`ZooError` and records nothing. A run that
        crashes or diverges is recorded as failed, then its exception propagates.
        """
        store = self.context.store
        self.context.check_writable()  # a store that cannot take the row fails the run before it trains
        config, splits, provenance = self.prepare()
        with using_threads(config.threads):
            trained = self.train(config, splits, provenance, config.run_dir)
        result = record(trained, store, self.observers)
        if trained.exception is not None:
            raise trained.exception
        return result

    def prepare(self) -> tuple[RunConfig, Any, Provenance]:
        """Load the data (or the planned fallback's) and fix the config; nothing is written yet."""
        context = self.context
        self.plan, splits = load_data(self.plan, layout.data_dir(context.home), context.notify)
        config = self.configure()
        return config, splits, collect(splits, self._plugin().distribution, config.threads)

    def configure(self) -> RunConfig:
        """The config of the run as planned (after any fallback); nothing is loaded or written."""
        model, dataset = self.plan.model, self.plan.dataset
        info = self._plugin()
        self.run_id = self.run_id or new_run_id(model.spec.name, dataset.spec.name, self.seed)
        return RunConfig(
            run_id=self.run_id,
            model=model.spec.name,
            dataset=dataset.spec.name,
            task=model.spec.task,
            seed=self.seed,
            device=self.context.device,
            threads=choose_threads(self.context.threads),
            hparams=self.plan.settings.model,
            trainer=self.plan.settings.trainer,
            run_dir=layout.runs_dir(self.context.results) / self.run_id,
            plugin=info.name,
            plugin_version=info.version,
        )

    def _plugin(self) -> Any:
        assert self.context.plugins is not None
        return self.context.plugins.infos[self.plan.model.plugin]

    def train(self, config: RunConfig, splits: Any, provenance: Provenance, folder: Path) -> Trained:
        """Train and score, writing the run's files into ``folder``; the run ends here, unrecorded.

        ``folder`` is the run folder itself for `zoo run`, a scratch folder on a sweep's worker.
        A crash, a divergence or bad input found while training ends the run (failed, refused)
        instead of raising; only an interrupt propagates, and a folder that cannot be written.
        """
        import torch

        # Removed only once the run's row is recorded: a run that is interrupted or killed keeps it.
        # A kill between the two leaves it on a recorded run, so it says what `zoo show` can tell.
        # A full disk or read-only folder is the machine's doing, not the model's: such a run is not
        # recorded (a failed row would blame the model), and its folder goes, to give the space back.
        lost = "nothing was recorded, and the run's folder was removed"
        try:
            with writing(f"run folder {folder}", lost):
                folder.mkdir(parents=True)
                markers.mark(
                    folder,
                    f"run {config.run_id} has not finished, or was stopped between recording it and "
                    f"removing this file: `zoo show {config.run_id}` tells which",
                )
                (folder / layout.CONFIG).write_text(json.dumps(config.to_json(), indent=2) + "\n")
                save_transform_state(folder, splits.transform_state)  # a loaded run preprocesses alike
        except ZooError:
            markers.release(folder)
            shutil.rmtree(folder, ignore_errors=True)
            raise
        started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        started = time.perf_counter()
        self.observers.started(config)

        def ended(status: str, exception: BaseException | None = None, **fields: Any) -> Trained:
            result = RunResult(
                run_id=config.run_id,
                model=config.model,
                dataset=config.dataset,
                status=status,
                duration_s=time.perf_counter() - started,
                run_dir=str(config.run_dir),
                warnings=tuple(self.observers.warnings),
                folder_bytes=layout.folder_bytes(folder),
                **kept,
                **fields,
            )
            if status == "refused":  # bad input: there is nothing to record
                return Trained(config, result, None, exception=exception)
            recorded = row(config, result, provenance, started_at, torch.__version__, curves)
            return Trained(config, result, recorded, exception=exception)

        num_params, kept, curves = 0, {}, {}
        try:
            fitted = self._fit(config, splits)
            curves = fitted.history.to_json()
            # The trained model is kept before anything else can fail: scores and plots come after.
            source = DataSource(config.dataset, provenance.dataset_fingerprint)
            with writing(f"the weights of run {config.run_id}", lost):
                saved = save_state(
                    fitted.model.state_dict(), folder, splits.train, source, self.context.store_data
                )
            kept = {"fitted_points": saved.points, "data_reference": saved.referenced}
            num_params = count_parameters(fitted.model, exclude=saved.data_keys)
            metrics = self._score(config, fitted, splits)
            with writing(f"the files of run {config.run_id}", lost):
                self._write_artefacts(config, fitted, metrics, splits, folder)
        except ZooError as exc:
            markers.release(folder)
            shutil.rmtree(folder, ignore_errors=True)  # refused for bad input: nothing ran worth keeping
            return ended("refused", exc, error=str(exc))
        except KeyboardInterrupt:
            with suppress(OSError):  # a full disk must not turn Ctrl-C into a traceback
                markers.release(folder, f"run {config.run_id} was interrupted; nothing about it is recorded")
            self.observers.finished(config, ended("interrupted", num_params=num_params).result)
            raise
        except Exception as exc:
            with suppress(OSError):  # the row keeps the error's first line whatever the disk does
                (folder / layout.ERROR).write_text(traceback.format_exc())
            return ended("failed", exc, num_params=num_params, error=describe(exc))
        return ended("ok", metrics=metrics, num_params=num_params)

    def failed(self, reason: str) -> Trained:
        """The failed record of a run that ended without one (its worker died): what is known here."""
        config = self.configure()
        result = RunResult(
            run_id=config.run_id,
            model=config.model,
            dataset=config.dataset,
            status="failed",
            error=reason,
            run_dir=str(config.run_dir),
        )
        started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        unknown = Provenance("", "", config.threads, "", "", "")  # it died with its worker
        files = {
            layout.CONFIG: (json.dumps(config.to_json(), indent=2) + "\n").encode(),
            layout.ERROR: f"{reason}\n".encode(),
        }
        return Trained(config, result, row(config, result, unknown, started_at, ""), files)

    def _fit(self, config: RunConfig, splits: Any) -> Fitted:
        """Train on the training split (less the ``val_fraction`` it validates on); predict the test split."""
        assert self.context.registry is not None
        train, test = splits.train.to(config.device), splits.test.to(config.device)
        fitted = fit_model(
            self.plan,
            config.seed,
            config.device,
            train,
            test,
            progress=self.context.progress,
            on_epoch=lambda epoch, loss, validation: self.observers.epoch(config, epoch, loss, validation),
            metric=self.context.registry.primary_metric(config.dataset, config.task),
        )
        check_finite_model(fitted, config.task)
        return fitted

    def _score(self, config: RunConfig, fitted: Fitted, splits: Any) -> dict[str, float]:
        """Every metric of the task; one that raises is missing from this run, with a warning."""
        assert self.context.registry is not None
        targets = splits.test.y.cpu().numpy()
        inputs = splits.test.x.reshape(len(splits.test), -1).cpu().numpy()
        metrics: dict[str, float] = {}
        for entry in self.context.registry.metrics_for(config.task):
            try:
                metrics[entry.spec.name] = entry.spec.compute(targets, fitted.predictions, inputs=inputs)
            except Exception as exc:
                line = f"metric {entry.spec.name!r} of plugin {entry.plugin!r} failed: {describe(exc)}"
                self.observers.warnings.append(line)
                self.context.notify(f"warning: {line}; the run keeps its other metrics")
        return metrics

    def _write_artefacts(
        self, config: RunConfig, fitted: Fitted, metrics: Mapping[str, float], splits: Any, folder: Path
    ) -> None:
        from . import plots

        (folder / layout.METRICS).write_text(json.dumps(finite_or_none(metrics), indent=2) + "\n")
        title = f"{config.model} on {config.dataset} (seed {config.seed})"
        predictions = fitted.predictions
        history = fitted.history
        if history.loss:
            plots.loss_curve(
                history.loss,
                folder / "loss_curve.png",
                title=title,
                xlabel=history.unit,
                ylabel=history.loss_name if history.unit != "epoch" else "training loss",
                validation=history.validation,
                best_epoch=history.best_epoch,
            )
        if config.task == "classification":
            targets = splits.test.y.cpu().numpy()
            path = folder / "confusion_matrix.png"
            plots.confusion_matrix(targets, predictions, self.plan.dataset.spec.classes, path, title=title)
        elif config.task == "forecasting":
            plots.forecast(splits, predictions, folder / "forecast.png", title=title)
        elif config.task == "clustering":
            inputs = splits.test.x.reshape(len(splits.test), -1).cpu().numpy()
            plots.clusters(inputs, predictions, folder / "clusters.png", title=title)


def record(trained: Trained, store: Store, observers: Observers) -> RunResult:
    """Record a run that ended: its folder (when it was trained elsewhere), its row, then its observers.

    Shipped files are written under the INCOMPLETE marker, which goes only once the row is in the
    store: a process stopped half-way leaves a marked folder and no row, never a row without its
    files. ``zoo_run_finished`` fires here, after the row; a refused run has no row to write. A
    store that cannot take the row (a full disk) leaves it unchanged, as if the run never was.
    """
    config, result = trained.config, trained.result
    if trained.row is None:
        observers.finished(config, result)
        return result
    try:
        if trained.files is not None:
            with writing(f"run folder {config.run_dir}"):
                write_run_folder(config, trained.files)
        store.record(trained.row, result.metrics)
    except ZooError as exc:
        markers.release(config.run_dir)
        shutil.rmtree(config.run_dir, ignore_errors=True)
        observers.finished(config, replace(result, status="refused"))
        raise ZooError(f"{exc}; run {config.run_id} was not recorded, and its folder was removed") from None
    markers.unmark(config.run_dir)  # recorded: whatever the observers do, it is complete
    before = len(observers.warnings)
    observers.finished(config, result)
    late = observers.warnings[before:]
    if late:  # an observer failed after the row was written: the row says so too
        store.add_warnings(config.run_id, late)
        result = replace(result, warnings=(*result.warnings, *late))
    return result


def write_run_folder(config: RunConfig, files: Mapping[str, bytes]) -> None:
    """Write a run folder shipped from where it was trained, marked INCOMPLETE first."""
    folder = config.run_dir
    names = [PurePosixPath(name) for name in files]
    if any(name.is_absolute() or ".." in name.parts for name in names):
        raise ValueError(f"run {config.run_id}: shipped file names must stay inside its folder")
    folder.mkdir(parents=True)
    (folder / layout.INCOMPLETE).write_text(
        f"run {config.run_id} is being recorded; until it is, nothing about it is recorded\n"
    )
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def row(
    config: RunConfig,
    result: RunResult,
    provenance: Provenance,
    started_at: str,
    torch_version: str,
    curves: Mapping[str, Any] | None = None,
) -> RunRow:
    """The results row of a run; ``curves`` are what training went through (``History.to_json``)."""
    return RunRow(
        config.run_id,
        config.model,
        config.dataset,
        config.task,
        config.plugin,
        config.seed,
        result.status,
        dict(config.hparams),
        result.duration_s,
        result.num_params,
        __version__,
        config.plugin_version,
        torch_version,
        config.device,
        started_at,
        result.error,
        result.run_dir,
        config=config.to_json(),
        trainer=dict(config.trainer),
        warnings=result.warnings,
        numpy_version=provenance.numpy_version,
        python_version=provenance.python_version,
        threads=provenance.threads,
        dataset_fingerprint=provenance.dataset_fingerprint,
        git_commit=provenance.git_commit,
        core_git_commit=provenance.core_git_commit,
        folder_bytes=result.folder_bytes,
        training={**(curves or {}), **kept_data(result)},
        run_key=config.key,
    )


def kept_data(result: RunResult) -> dict[str, Any]:
    """What the row's ``training`` says about training data the fitted state keeps (none: {})."""
    if not result.fitted_points:
        return {}
    return {"fitted_points": result.fitted_points, "data_reference": result.data_reference}


def check_finite_model(fitted: Fitted, task: str) -> None:
    """A model whose weights or forecasts became NaN or infinite has diverged, whatever its loss said.

    The trainer watches the loss, but the loss of the last step is computed before the last
    optimiser step: only the weights themselves tell whether that step blew up.
    """
    import numpy as np
    import torch

    for name, value in fitted.model.state_dict().items():
        if (
            isinstance(value, torch.Tensor)
            and value.is_floating_point()
            and not bool(torch.isfinite(value).all())
        ):
            raise Diverged(f"training diverged: the model's {name} became non-finite")
    predictions = np.asarray(fitted.predictions)
    if predictions.dtype.kind == "f" and not np.isfinite(predictions).all():
        raise Diverged(f"training diverged: its {task} outputs became non-finite")


def run(
    model_name: str,
    dataset_name: str | None = None,
    *,
    seed: int = 0,
    overrides: Mapping[str, Any] | None = None,
    **context: Any,
) -> RunResult:
    """Plan and execute one run: what `zoo run MODEL` does for one seed (for tests and scripts)."""
    from .hparams import check_seed
    from .planning import plan_run

    ctx = Context.create(**context)
    assert ctx.registry is not None
    plan = plan_run(ctx.registry, model_name, dataset_name, overrides or {})
    return Run(plan, check_seed(seed), ctx).execute()
