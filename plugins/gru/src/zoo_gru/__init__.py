"""The GRU lesson: torch's ``nn.GRU`` forecasting the lesson's noisy sine series.

Hook implementations only; torch is imported by ``model.py`` and ``data.py`` when a run
needs them.
"""

from __future__ import annotations

from zoo_core import DatasetSpec, ModelSpec, hookimpl

LESSON = "Deep Learning PyTorch Course, GRU Structure"

# The lesson's own regime: 200 full-batch Adam steps at lr 1e-3. A batch of 256 holds all
# 140 training windows of noisy-sine, so each epoch is one step, as in the lesson. The README's
# "Trainer defaults, and why" has the measurements behind this choice. Like the lesson, it
# trains on every training window: holding out the latest 10% of a 140-window series (the
# core's default val_fraction) would leave the model the oldest part to learn the end from.
TRAINING = {"epochs": 200, "lr": 1e-3, "batch_size": 256, "val_fraction": 0.0}


@hookimpl
def zoo_models() -> list[ModelSpec]:
    """The lesson's GRUModel: one nn.GRU layer with a linear head on the last time step."""
    return [
        ModelSpec(
            name="gru",
            task="forecasting",
            factory="zoo_gru.model:build_gru",
            summary="nn.GRU (16 units, batch_first) with a linear head on the last step's output.",
            reference=LESSON,
            defaults={"hidden_size": 16, "num_layers": 1},
            trainer=TRAINING,
            bounds={"hidden_size": (1, None), "num_layers": (1, None)},
            default_dataset="noisy-sine",
            input_shape=(None, None),
        ),
    ]


@hookimpl
def zoo_datasets() -> list[DatasetSpec]:
    """The lesson's noisy sine, cut into windows of 10 values that predict the next one."""
    return [
        DatasetSpec(
            name="noisy-sine",
            task="forecasting",
            loader="zoo_gru.data:load_noisy_sine",
            description=(
                "200 samples of sin(x) for x in linspace(0, 100) plus N(0, 0.1) noise (fixed seed 0); "
                "windows of 10 values predict the next value. The last 50 values are the test stretch "
                "(40 windows), cut chronologically. The targets carry the noise, so the noise floor of "
                "the test MSE is its variance, 0.01: a test MSE clearly below 0.01 means a leak."
            ),
            source="generated: numpy.sin(numpy.linspace(0, 100, 200)) + numpy normal noise, seed 0",
            license="public domain (synthetic)",
            input_shape=(10, 1),
            train_size=140,
            test_size=40,
            primary_metric="mse",
        ),
    ]
