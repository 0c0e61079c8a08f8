"""The GRU-cell lesson: the gate equations written out by hand and looped over time.

Hook implementations only; torch is imported by ``model.py`` when a run builds a model.
The lesson's data set, ``noisy-sine``, comes from the ``gru`` plugin (zoo-gru).
"""

from __future__ import annotations

from zoo_core import ModelSpec, hookimpl

LESSON = "Deep Learning PyTorch Course, Implementing GRU Cell"

# The same regime as the gru plugin's nn.GRU, so the two are compared like for like:
# 200 full-batch Adam steps at lr 1e-3 (a batch of 256 holds all of noisy-sine's 140
# training windows), on every training window (val_fraction 0, as the gru plugin).
TRAINING = {"epochs": 200, "lr": 1e-3, "batch_size": 256, "val_fraction": 0.0}


@hookimpl
def zoo_models() -> list[ModelSpec]:
    """The lesson's GRUModel on its hand-written GRUSimple cell, batched and with biases."""
    return [
        ModelSpec(
            name="gru-cell",
            task="forecasting",
            factory="zoo_gru_cell.model:build_gru_cell",
            summary=(
                "A hand-written GRU cell (16 units) unrolled over the window, linear head on the last "
                "state; convention=lesson|torch picks the gate equations."
            ),
            reference=LESSON,
            defaults={"hidden_size": 16, "convention": "lesson"},
            trainer=TRAINING,
            choices={"convention": ("lesson", "torch")},
            bounds={"hidden_size": (1, None)},
            default_dataset="noisy-sine",
            input_shape=(None, None),
        ),
    ]
