"""Seed, build, fit and predict: the one way a model is made and trained.

`zoo run` and the conformance kit's tiny runs both call :func:`fit_model`. It fires no hook:
only the run owner (runner.py) tells plugins about a run, through the ``on_epoch`` callback
it passes here.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Collection, Mapping

from .runs import Estimator

if TYPE_CHECKING:
    from .data import Split
    from .planning import Plan
    from .specs import MetricSpec
    from .training import History

# on_epoch(epoch, training loss, validation scores by metric name)
OnEpoch = Callable[[int, float, Mapping[str, float]], Any]


@dataclass(frozen=True)
class Fitted:
    """A trained model, its predictions on the test inputs (NumPy), and what training went through."""

    model: Any
    predictions: Any
    history: History


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True


def build_model(plan: Plan) -> Any:
    """The untrained model of ``plan``, sized for its dataset, with the model's own hyperparameters."""
    return plan.model.spec.build(plan.dataset.spec, **plan.settings.model)


def fit_model(
    plan: Plan,
    seed: int,
    device: str,
    train: Split,
    test: Split,
    *,
    progress: int = 0,
    on_epoch: OnEpoch | None = None,
    metric: MetricSpec | None = None,
) -> Fitted:
    """Seed, build ``plan``'s model, fit it on ``train`` and predict ``test`` (both on ``device``).

    A gradient-trained model validates on its ``val_fraction`` of ``train`` with ``metric`` (the
    dataset's primary metric; None: the validation loss). ``progress``: see ``training.Progress``.
    """
    import torch

    from . import training

    seed_everything(seed)
    spec = plan.model.spec
    model = build_model(plan)
    if spec.gradient:
        if not isinstance(model, torch.nn.Module):
            raise TypeError(
                f"{spec.name} is declared gradient=True but its factory returned {type(model).__name__}"
            )
        model.to(device)
        history = training.fit(
            model,
            train,
            task=spec.task,
            seed=seed,
            progress=progress,
            label=spec.name,
            on_epoch=on_epoch,
            metric=metric,
            **plan.settings.trainer,
        )
        predictions = training.predict(model, test.x, task=spec.task)
    else:
        if not isinstance(model, Estimator):
            raise TypeError(
                f"{spec.name} is declared gradient=False but {type(model).__name__} lacks "
                "fit/predict/state_dict"
            )
        losses = [float(loss) for loss in model.fit(train.x, train.y) or []]
        # An estimator says what its history measures (K-Means: "inertia"); it runs in iterations.
        history = training.History(losses, unit="iteration", loss_name=getattr(model, "history_name", "loss"))
        with torch.no_grad():
            predictions = model.predict(test.x)
    return Fitted(model, predictions.detach().cpu().numpy(), history)


def count_parameters(model: Any, exclude: Collection[str] = ()) -> int:
    """Trainable parameters of a module; the numbers in the state of an estimator.

    ``exclude`` names state entries that are not learned, such as a KNN's training points.
    """
    import torch

    if isinstance(model, torch.nn.Module):
        return sum(p.numel() for name, p in model.named_parameters() if name not in exclude)
    state = model.state_dict().items()
    return sum(v.numel() for k, v in state if isinstance(v, torch.Tensor) and k not in exclude)
