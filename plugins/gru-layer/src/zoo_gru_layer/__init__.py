"""The GRU layer lesson: a GRU built from six Linear gates, classifying sequences of 10 steps × 8 features.

Hook implementations only; torch is imported by ``model.py`` and ``data.py`` when a run needs them.
"""

from __future__ import annotations

from zoo_core import DatasetSpec, ModelSpec, hookimpl

LESSON = "Deep Learning PyTorch Course, Implementation of GRU Layer"
SHAPE = (10, 8)


@hookimpl
def zoo_models() -> list[ModelSpec]:
    """The lesson's MyModel: MyGRU looped over time, a linear head on the last hidden state."""
    return [
        ModelSpec(
            name="my-gru",
            task="classification",
            factory="zoo_gru_layer.model:build_my_gru",
            summary="The lesson's MyGRU (six Linear gates, 16 units) over time; logits from the last state.",
            reference=LESSON,
            # The lesson's 20 full-batch steps at lr 1e-3 leave the model near chance on waveforms;
            # ten epochs of 16 mini-batches at lr 1e-2 learn them (the README's "Measured" table),
            # on all 1,000 training sequences: no validation split, so those numbers stay.
            defaults={"hidden_size": 16},
            trainer={"epochs": 10, "lr": 1e-2, "val_fraction": 0.0},
            bounds={"hidden_size": (1, None)},
            default_dataset="waveforms",
            input_shape=(None, None),
        ),
    ]


@hookimpl
def zoo_datasets() -> list[DatasetSpec]:
    """The lesson's random sequences (a leak check at chance level) and learnable waveforms."""
    return [
        DatasetSpec(
            name="random-sequences",
            task="classification",
            loader="zoo_gru_layer.data:load_random_sequences",
            description=(
                "The lesson's data: N(0, 1) sequences of 10 steps × 8 features with labels drawn "
                "independently of them, so nothing can be learned. Chance (0.25) is the correct test "
                "accuracy; a result clearly above it (beyond 0.25 ± 0.09, three standard errors on "
                "200 samples) means a leak between the splits or into the model."
            ),
            source="generated: torch.randn / torch.randint with a fixed seed, as in the lesson",
            license="public domain (synthetic)",
            input_shape=SHAPE,
            train_size=1000,
            test_size=200,
            classes=("0", "1", "2", "3"),
        ),
        DatasetSpec(
            name="waveforms",
            task="classification",
            loader="zoo_gru_layer.data:load_waveforms",
            description=(
                "Which waveform is it: sine, square, sawtooth or triangle, with a period of 6-12 steps, "
                "random phase, amplitude 0.8-1.2, seen as 8 channels of the same signal each with "
                "N(0, 0.5²) noise, over 10 steps. Balanced classes; a linear model on the flattened "
                "inputs stays near chance, sine and triangle are the hard pair."
            ),
            source="generated: torch with a fixed seed",
            license="public domain (synthetic)",
            input_shape=SHAPE,
            train_size=1000,
            test_size=200,
            classes=("sine", "square", "sawtooth", "triangle"),
        ),
    ]
