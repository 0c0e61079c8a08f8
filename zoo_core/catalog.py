"""What the zoo offers, as plain records: the listings of `zoo list` and the records of `zoo info`.

The command line prints these and the Python API returns them, so both say the same thing.
"""

from __future__ import annotations

from typing import Any

from .planning import incompatibility
from .registry import Entry, Registry
from .specs import DatasetSpec, MetricSpec, ModelSpec


def shape_text(shape: tuple[int | None, ...] | None) -> str:
    if shape is None:
        return "any"
    return "×".join("*" if d is None else str(d) for d in shape)


def listing(registry: Registry, task: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every model, dataset and metric (of ``task``), sorted by name, as `zoo list --json` prints them."""

    def rows(table: dict[str, Entry], fields: Any) -> list[dict[str, Any]]:
        return [
            {"name": name, "task": e.spec.task, "plugin": e.plugin, **fields(e.spec)}
            for name, e in sorted(table.items())
            if task in (None, e.spec.task)
        ]

    return {
        "models": rows(
            registry.models,
            lambda spec: {
                "default_dataset": spec.default_dataset,
                "baseline": spec.baseline,
                "summary": spec.summary,
            },
        ),
        "datasets": rows(
            registry.datasets,
            lambda spec: {
                "train_size": spec.train_size,
                "test_size": spec.test_size,
                "offline": spec.offline,
                "summary": spec.description,
            },
        ),
        "metrics": rows(
            registry.metrics,
            lambda spec: {"higher_is_better": spec.higher_is_better, "summary": spec.summary},
        ),
    }


def fitting_datasets(registry: Registry, model: ModelSpec) -> list[str]:
    return [name for name, d in sorted(registry.datasets.items()) if incompatibility(model, d.spec) is None]


def fitting_models(registry: Registry, dataset: DatasetSpec) -> list[str]:
    return [name for name, m in sorted(registry.models.items()) if incompatibility(m.spec, dataset) is None]


def info(registry: Registry, name: str) -> list[tuple[str, Any]]:
    """Everything known about the model, dataset or metric ``name``, as (label, value) pairs."""
    from .hparams import defaults_for

    entry = registry.lookup_any(name)
    spec = entry.spec
    fields: list[tuple[str, Any]] = [
        ("name", spec.name),
        ("kind", type(spec).__name__.removesuffix("Spec").lower()),
        ("task", spec.task),
        ("plugin", entry.plugin),
    ]
    if isinstance(spec, ModelSpec):
        defaults = defaults_for(spec)
        fields += [
            ("summary", spec.summary),
            ("reference", spec.reference),
            ("default dataset", spec.default_dataset or "-"),
            ("fallback dataset", spec.fallback_dataset or "-"),
            ("trained by", "the core's gradient trainer" if spec.gradient else "its own fit()"),
            ("input shape", shape_text(spec.input_shape)),
            ("hyperparameters", _settings_text(defaults.model)),
        ]
        if spec.gradient:
            fields.append(("trainer", _settings_text(defaults.trainer)))
        fields += [
            *[
                (f"on {dataset}", _settings_text(values))
                for dataset, values in sorted(spec.dataset_defaults.items())
            ],
            ("parameters", parameter_count(registry, spec)),
            ("datasets it fits", ", ".join(fitting_datasets(registry, spec)) or "-"),
        ]
    elif isinstance(spec, DatasetSpec):
        primary = registry.primary_metric(spec.name, spec.task)
        fields += [
            ("description", spec.description),
            ("source", spec.source),
            ("license", spec.license),
            ("input shape", shape_text(spec.input_shape)),
            ("train size", spec.train_size),
            ("test size", spec.test_size),
            ("classes", ", ".join(spec.classes) or "-"),
            ("works offline", "yes" if spec.offline else "no"),
            ("primary metric", primary.name if primary else "-"),
            ("models that fit", ", ".join(fitting_models(registry, spec)) or "-"),
        ]
    elif isinstance(spec, MetricSpec):
        fields += [("summary", spec.summary), ("better", "higher" if spec.higher_is_better else "lower")]
    return fields


def info_record(registry: Registry, name: str) -> dict[str, Any]:
    """:func:`info` as a dict with snake_case keys: what `zoo info --json` prints."""
    return {label.replace(" ", "_"): value for label, value in info(registry, name)}


def _settings_text(values: Any) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(values.items())) or "-"


def parameter_count(registry: Registry, spec: ModelSpec) -> str:
    """A gradient model's trainable parameters, counted on a model built for its default dataset."""
    if not spec.gradient:
        return "fitted from the training data"
    dataset = registry.datasets.get(spec.default_dataset or "")
    if dataset is None:
        return "unknown (default dataset not installed)"
    from .fitting import count_parameters
    from .hparams import defaults_for

    model = spec.build(dataset.spec, **defaults_for(spec, dataset.spec.name).model)
    return f"{count_parameters(model):,} (on {dataset.spec.name})"
