"""The K-Means lesson: K-Means written in torch, scikit-learn's KMeans as its reference,
the lesson's three Gaussian blobs, and the clustering metrics.

Only hook implementations live here; torch and scikit-learn load when a run needs them.
"""

from __future__ import annotations

from zoo_core import DatasetSpec, MetricSpec, ModelSpec, hookimpl

_HPARAMS = {"k": 3, "max_iter": 300, "tol": 1e-4, "n_init": 1}
# Checked before any data loads, for both implementations alike.
_BOUNDS = {"k": (1, None), "max_iter": (1, None), "tol": (0.0, None), "n_init": (1, None)}


@hookimpl
def zoo_models() -> list[ModelSpec]:
    """The torch K-Means and, as its baseline, scikit-learn's KMeans."""
    return [
        ModelSpec(
            name="kmeans",
            task="clustering",
            factory="zoo_kmeans.model:build_kmeans",
            summary="K-Means in torch: k-means++ seeding, Lloyd iterations (Hamerly's bounds), relative tol",
            reference=(
                "Lloyd 1982, Least squares quantization in PCM; Arthur & Vassilvitskii 2007, k-means++; "
                "Hamerly 2010, Making k-means even faster"
            ),
            defaults=dict(_HPARAMS),
            bounds=_BOUNDS,
            default_dataset="blobs",
            gradient=False,
        ),
        ModelSpec(
            name="sklearn-kmeans",
            task="clustering",
            factory="zoo_kmeans.model:build_sklearn_kmeans",
            summary="scikit-learn's KMeans with the same hyperparameters, the reference for kmeans",
            reference="https://scikit-learn.org/stable/modules/generated/sklearn.cluster.KMeans.html",
            defaults=dict(_HPARAMS),
            bounds=_BOUNDS,
            default_dataset="blobs",
            gradient=False,
            baseline=True,
        ),
    ]


@hookimpl
def zoo_datasets() -> list[DatasetSpec]:
    """The lesson's three Gaussian blobs."""
    return [
        DatasetSpec(
            name="blobs",
            task="clustering",
            loader="zoo_kmeans.data:load_blobs",
            description=(
                "The K-Means lesson's 300 points: three unit-variance 2-D Gaussian blobs of 100 around "
                "(0,0), (5,5) and (1,8), drawn with NumPy seed 42; labels are the blob ids. Train and "
                "test are the same 300 points, because clustering is scored on the data it clusters."
            ),
            source="generated (the lesson's np.random.seed(42) recipe)",
            license="none needed (synthetic)",
            input_shape=(2,),
            train_size=300,
            test_size=300,
            classes=("0", "1", "2"),
            offline=True,
            primary_metric="ari",
        )
    ]


@hookimpl
def zoo_metrics() -> list[MetricSpec]:
    """Clustering metrics: ARI against the true labels, inertia and silhouette on the inputs."""
    return [
        MetricSpec(
            name="ari",
            task="clustering",
            fn="zoo_kmeans.metrics:adjusted_rand_index",
            higher_is_better=True,
            summary="adjusted Rand index against the true labels (1 perfect, about 0 chance)",
        ),
        MetricSpec(
            name="inertia",
            task="clustering",
            fn="zoo_kmeans.metrics:inertia",
            higher_is_better=False,
            summary="sum of squared distances of points to the mean of their cluster",
            needs_inputs=True,
        ),
        MetricSpec(
            name="silhouette",
            task="clustering",
            fn="zoo_kmeans.metrics:silhouette",
            higher_is_better=True,
            summary="mean silhouette coefficient of the points (-1 to 1)",
            needs_inputs=True,
        ),
    ]
