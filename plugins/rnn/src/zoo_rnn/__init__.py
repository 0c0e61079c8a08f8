"""The RNN lesson: an ``nn.RNN`` forecaster, the same model on a hand-written cell, and a sine wave.

Hook implementations only; torch is imported by ``model.py`` when a run builds a model.
"""

from __future__ import annotations

from zoo_core import DatasetSpec, ModelSpec, hookimpl

LESSON = "Deep Learning PyTorch Course, RNN Layer and Cell"

# The lesson trains with Adam at lr 0.01 for 100 epochs. The core's mini-batches of 64
# give three steps per epoch on sine's 140 windows, which converges further than the
# lesson's single full-batch step (the README's "Measured" section has the numbers). It trains
# on every window of the short series, as the lesson does (val_fraction 0, no validation split).
TRAINING = {"epochs": 100, "lr": 1e-2, "val_fraction": 0.0}


@hookimpl
def zoo_models() -> list[ModelSpec]:
    """The lesson's RNNModel on nn.RNN, and the same model unrolled over a from-scratch cell."""
    return [
        ModelSpec(
            name="rnn",
            task="forecasting",
            factory="zoo_rnn.model:build_rnn",
            summary="One nn.RNN layer (tanh, 16 units) with a linear head on the last step.",
            reference=LESSON,
            defaults={"hidden_size": 16},
            trainer=TRAINING,
            bounds={"hidden_size": (1, None)},
            default_dataset="sine",
            input_shape=(None, None),
        ),
        ModelSpec(
            name="rnn-cell",
            task="forecasting",
            factory="zoo_rnn.model:build_rnn_cell",
            summary="The rnn model on a hand-written cell: h' = tanh(W_ih x + b_ih + W_hh h + b_hh).",
            reference=LESSON,
            defaults={"hidden_size": 16},
            trainer=TRAINING,
            bounds={"hidden_size": (1, None)},
            default_dataset="sine",
            input_shape=(None, None),
        ),
    ]


@hookimpl
def zoo_datasets() -> list[DatasetSpec]:
    """The lesson's clean sine series, windowed so that past values predict the next one."""
    return [
        DatasetSpec(
            name="sine",
            task="forecasting",
            loader="zoo_rnn.data:load_sine",
            description=(
                "200 samples of sin(x) for x in linspace(0, 100); windows of 10 sine values predict "
                "the next value (the lesson fed the x positions instead, which carry no phase "
                "information). The last 50 values are the test stretch."
            ),
            source="generated: numpy.sin(numpy.linspace(0, 100, 200))",
            license="public domain (synthetic)",
            input_shape=(10, 1),
            train_size=140,
            test_size=40,
            primary_metric="mse",
        ),
    ]
