"""A recorded run loaded back: its trained model, its record, and predictions on raw inputs.

:func:`load_run` rebuilds the run's model from its plugin with the run's own hyperparameters,
loads the saved weights (or an estimator's saved state), and binds the dataset's transform to
the state the run stored, so that :meth:`TrainedModel.predict` takes what a user has: an
image of any size, rows of features, a window of values.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from . import layout
from .errors import UnknownName, ZooError
from .runs import RunConfig

if TYPE_CHECKING:
    import torch

    from .specs import DatasetSpec, ModelSpec

# The row's columns that say where a run came from, kept as its provenance.
PROVENANCE = (
    "started_at",
    "zoo_version",
    "plugin",
    "plugin_version",
    "torch_version",
    "numpy_version",
    "python_version",
    "threads",
    "dataset_fingerprint",
    "git_commit",
    "core_git_commit",
)
# Predictions are made this many inputs at a time, as the trainer's predict does.
BATCH = 1024


@dataclass(frozen=True)
class Prediction:
    """One input's prediction: a class (label, name, probability), a cluster label, or a value.

    ``probability`` is the softmax probability of the label for models that give scores; an
    estimator such as KNN gives labels only, so it is None there.
    """

    label: int | None = None
    name: str | None = None
    probability: float | None = None
    value: float | None = None

    def to_json(self) -> dict[str, Any]:
        fields = {"label": self.label, "class": self.name, "probability": self.probability}
        if self.value is not None:
            fields = {"value": self.value}
        return {key: value for key, value in fields.items() if value is not None}


@dataclass(frozen=True)
class TrainedModel:
    """A recorded run's trained model, ready to predict.

    ``model`` is the ``torch.nn.Module`` in eval mode on ``device`` (or the fitted estimator);
    ``transform`` turns one raw input into one model input with the run's preprocessing.
    """

    model: Any
    config: RunConfig
    metrics: Mapping[str, float]
    provenance: Mapping[str, Any]
    spec: ModelSpec
    dataset: DatasetSpec
    transform: Callable[[Any], torch.Tensor]
    device: str

    @property
    def task(self) -> str:
        return self.spec.task

    @property
    def is_image_model(self) -> bool:
        """Inputs shaped (channels, height, width): each array or PIL image is one picture."""
        return len(self.dataset.input_shape) >= 3

    def inputs(self, samples: Sequence[Any]) -> torch.Tensor:
        """The model inputs (N, *input_shape) for raw ``samples``, on the model's device."""
        import torch

        if not len(samples):
            raise ZooError("nothing to predict: no inputs were given")
        x = torch.stack([self.transform(sample) for sample in samples])
        expected = tuple(self.dataset.input_shape)
        if tuple(x.shape[1:]) != expected:
            raise ZooError(f"the transform gave inputs shaped {tuple(x.shape[1:])}, not {expected}")
        return x.to(self.device)

    def predict(self, inputs: Any) -> Prediction | list[Prediction]:
        """Predict raw ``inputs``: one input gives one :class:`Prediction`, several give a list.

        One input is a PIL image or an image array of any size (image models), a row of
        features (tabular models) or a window of values (forecasters). Several are a list of
        those, or for tabular models and forecasters an array with one row per input.
        """
        samples, single = self.split(inputs)
        predictions = self.predict_tensor(self.inputs(samples))
        return predictions[0] if single else predictions

    def split(self, inputs: Any) -> tuple[list[Any], bool]:
        """``inputs`` as a list of single inputs, and whether it was one input."""
        import numpy as np

        if isinstance(inputs, (list, tuple)) and inputs and not np.isscalar(inputs[0]):
            return list(inputs), False
        if self.is_image_model or (type(inputs).__module__.startswith("PIL.")):
            return [inputs], True
        array = inputs.detach().cpu().numpy() if hasattr(inputs, "detach") else np.asarray(inputs)
        shape = tuple(self.dataset.input_shape)
        one = array.shape == shape or (*array.shape, 1) == shape or array.ndim < len(shape)
        return ([array] if one else list(array)), one

    def predict_tensor(self, x: torch.Tensor) -> list[Prediction]:
        """Predictions for model inputs ``x`` that are already preprocessed."""
        import torch

        with torch.no_grad():
            outputs = self.model.predict(x).cpu() if not self.spec.gradient else batched(self.model, x).cpu()
        if self.task == "forecasting":
            return [Prediction(value=float(v)) for v in outputs.reshape(len(x), -1)[:, 0]]
        classes = self.dataset.classes if self.task == "classification" else ()
        if outputs.ndim == 2:  # scores per class
            probabilities, labels = outputs.float().softmax(dim=1).max(dim=1)
            chances = [float(p) for p in probabilities]
        else:
            labels, chances = outputs, [None] * len(outputs)
        return [
            Prediction(label=int(label), name=classes[int(label)] if classes else None, probability=chance)
            for label, chance in zip(labels, chances, strict=True)
        ]

    def test_inputs(self, home: Path | None = None) -> torch.Tensor:
        """The run's test inputs, loaded again from its dataset (on the CPU)."""
        from .loading import checked_load
        from .registry import get_registry

        entry = get_registry().dataset(self.dataset.name)
        return checked_load(entry, layout.data_dir(layout.zoo_home(home))).test.x


def batched(function: Callable[[Any], Any], x: torch.Tensor) -> Any:
    """``function(x)`` computed :data:`BATCH` inputs at a time, concatenated (tensors or arrays)."""
    import numpy as np
    import torch

    parts = [function(x[start : start + BATCH]) for start in range(0, len(x), BATCH)]
    return torch.cat(parts) if isinstance(parts[0], torch.Tensor) else np.concatenate(parts)


def load_run(run_id: str, *, device: str = "auto", home: Path | str | None = None) -> TrainedModel:
    """The trained model of the recorded run ``run_id`` (or a unique start of it), on ``device``."""
    from .devices import resolve_device
    from .records import find_run, load_run_state
    from .registry import get_registry
    from .transforms import bind, load_state

    row = find_run(layout.zoo_home(home), run_id)
    run = row["run_id"]
    if row["status"] != "ok":
        raise ZooError(f"run {run} {row['status']}; it has no trained model to load")
    registry = get_registry()
    try:
        model_entry, dataset_entry = registry.model(row["model"]), registry.dataset(row["dataset"])
    except UnknownName as exc:
        raise UnknownName(f"run {run} cannot be loaded: {exc}; install the plugin it used") from None
    spec, dataset = model_entry.spec, dataset_entry.spec
    folder = Path(row["run_dir"])
    state = load_run_state(row, layout.zoo_home(home))  # training data it refers to, read back in
    transform = bind(dataset, load_state(folder))
    chosen = resolve_device(device)
    model = spec.build(dataset, **row["hparams"])
    if spec.gradient:
        model.load_state_dict(state)
        model.to(chosen).eval()
    elif not hasattr(model, "load_state_dict"):
        raise ZooError(
            f"{spec.name} (plugin {model_entry.plugin!r}) cannot load its saved state: its estimator has "
            "no load_state_dict, so its runs cannot be loaded"
        )
    else:
        model.load_state_dict({key: value.to(chosen) for key, value in state.items()})
    config = RunConfig(
        run_id=run,
        model=row["model"],
        dataset=row["dataset"],
        task=row["task"],
        seed=row["seed"],
        device=row["device"],
        threads=row["threads"],
        hparams=row["hparams"],
        trainer=row["trainer"],
        run_dir=folder,
        plugin=row["plugin"],
        plugin_version=row["plugin_version"],
    )
    provenance = {key: row[key] for key in PROVENANCE}
    return TrainedModel(model, config, dict(row["metrics"]), provenance, spec, dataset, transform, chosen)
