"""Settings: two namespaces (the model's and the trainer's), types, ranges and finiteness."""

from __future__ import annotations

import pytest

from zoo_core.errors import ZooError
from zoo_core.hparams import check_seed, check_threads, defaults_for, parse_assignments, resolve_settings
from zoo_core.specs import ModelSpec


def model(**fields) -> ModelSpec:
    values = {"name": "toy", "task": "classification", "factory": "x:y", "summary": "s", "reference": "r"}
    return ModelSpec(**{**values, **fields})


def test_trainer_settings_and_model_settings_stay_apart():
    spec = model(
        defaults={"hidden": 8}, trainer={"epochs": 3}, dataset_defaults={"d": {"epochs": 9, "hidden": 4}}
    )
    settings = resolve_settings(spec, {"lr": "0.5", "hidden": "16"})
    assert settings.model == {"hidden": 16}
    assert settings.trainer["epochs"] == 3 and settings.trainer["lr"] == 0.5
    on_d = defaults_for(spec, "d")
    assert on_d.model == {"hidden": 4} and on_d.trainer["epochs"] == 9


def test_an_estimator_may_call_its_own_settings_epochs_and_lr():
    spec = model(gradient=False, defaults={"epochs": 10, "lr": 0.1})
    settings = resolve_settings(spec, {"epochs": "20"})
    assert settings.model == {"epochs": 20, "lr": 0.1} and settings.trainer == {}
    assert spec.problems() == []


def test_an_unknown_schedule_is_refused_before_training():
    spec = model()
    assert resolve_settings(spec, {"schedule": "onecycle"}).trainer["schedule"] == "onecycle"
    with pytest.raises(ZooError, match="schedule must be one of constant, onecycle, got 'cosine'"):
        resolve_settings(spec, {"schedule": "cosine"})


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"lr": "nan"}, "lr must be a finite number, got nan"),
        ({"lr": "inf"}, "lr must be a finite number, got inf"),
        ({"lr": "1e308"}, "lr must be at most 1000000.0"),
        ({"lr": "-inf"}, "lr must be a finite number"),
        ({"weight_decay": "nan"}, "weight_decay must be a finite number"),
        ({"weight_decay": "1e400"}, "weight_decay must be a finite number"),
        ({"epochs": "0"}, "epochs must be positive, got 0"),
        ({"epochs": "10000000"}, "epochs must be at most 100000"),
        ({"batch_size": str(2**63)}, "batch_size must be at most 2147483647"),
        ({"hidden": str(2**63)}, "hidden must fit in a 64-bit integer"),
        ({"hidden": "1e3"}, "hidden expects int, got '1e3'"),
        ({"rate": "nan"}, "rate must be a finite number"),
        ({"rate": "2"}, "rate must be between 0.0 and 1.0, got 2.0"),
        ({"flag": "maybe"}, "flag expects bool, got 'maybe'"),
    ],
)
def test_bad_numbers_are_refused_in_one_place(overrides, message):
    spec = model(defaults={"hidden": 8, "rate": 0.5, "flag": True}, bounds={"rate": (0.0, 1.0)})
    with pytest.raises(ZooError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resolve_settings(spec, overrides)


@pytest.mark.parametrize("seed", [-1, 2**32, 10**20])
def test_seeds_out_of_range_are_refused(seed):
    with pytest.raises(ZooError, match="seed must be between 0 and 4294967295"):
        check_seed(seed)
    assert check_seed(2**32 - 1) == 2**32 - 1


@pytest.mark.parametrize("threads", [0, -1, 2147483648])
def test_thread_counts_out_of_range_are_refused(threads):
    with pytest.raises(ZooError, match="--threads must be between 1 and 1024"):
        check_threads(threads)


def test_malformed_assignments():
    assert parse_assignments(["a=1", " b = x "]) == {"a": "1", "b": "x"}
    for bad in ("a", "=1", " =1"):
        with pytest.raises(ZooError, match="--set expects key=value"):
            parse_assignments([bad])
