"""The KNN lesson: a torch k-nearest-neighbours classifier, its scikit-learn reference, and the
breast-cancer data the lesson uses. Hook implementations only; the modules import torch lazily."""

from __future__ import annotations

from zoo_core import DatasetSpec, ModelSpec, hookimpl

LESSON = "Deep Learning PyTorch Course, K-Nearest Neighbors (on breast cancer)"
# The core refuses other values before any data is loaded.
DISTANCES = {"metric": ("euclidean", "manhattan", "minkowski")}
# Minkowski's p below 1 is not a distance; both checked before any data loads.
LIMITS = {"k": (1, None), "p": (1.0, None)}


@hookimpl
def zoo_models() -> list[ModelSpec]:
    """The torch KNN and scikit-learn's, with the same hyperparameters."""
    return [
        ModelSpec(
            name="knn",
            task="classification",
            factory="zoo_knn.model:build_knn",
            summary="k-nearest neighbours in torch: chunked distances, top-k, majority vote",
            reference=LESSON,
            defaults={"k": 3, "metric": "euclidean", "p": 2.0, "chunk_size": 512},
            choices=DISTANCES,
            bounds={**LIMITS, "chunk_size": (1, None)},
            default_dataset="breast-cancer",
            gradient=False,
        ),
        ModelSpec(
            name="sklearn-knn",
            task="classification",
            factory="zoo_knn.baseline:build_sklearn_knn",
            summary="scikit-learn's KNeighborsClassifier, the reference the torch KNN must match",
            reference="https://scikit-learn.org/stable/modules/generated/sklearn.neighbors.KNeighborsClassifier.html",
            defaults={"k": 3, "metric": "euclidean", "p": 2.0},
            choices=DISTANCES,
            bounds=LIMITS,
            default_dataset="breast-cancer",
            gradient=False,
            baseline=True,
        ),
    ]


@hookimpl
def zoo_datasets() -> list[DatasetSpec]:
    """The lesson's breast-cancer split."""
    return [
        DatasetSpec(
            name="breast-cancer",
            task="classification",
            loader="zoo_knn.data:load_breast_cancer",
            # A row of the 30 raw features, scaled with the training statistics each run stores.
            transform="zoo_core.transforms:standardize",
            raw="zoo_knn.data:raw_breast_cancer",
            description=(
                "Breast Cancer Wisconsin (Diagnostic): 30 features of cell nuclei per tumour; "
                "the lesson's 70/30 split (random_state=42), standardised with training statistics"
            ),
            source="scikit-learn bundled copy (sklearn.datasets.load_breast_cancer) of the UCI dataset",
            license="CC BY 4.0 (UCI Machine Learning Repository)",
            input_shape=(30,),
            train_size=398,
            test_size=171,
            classes=("malignant", "benign"),
            offline=True,
        )
    ]
