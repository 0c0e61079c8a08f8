"""The breast-cancer loader reproduces the lesson's split and scaling, and its spec tells the truth."""

from __future__ import annotations

import numpy as np
import pytest
import zoo_knn
from sklearn.datasets import load_breast_cancer as sklearn_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from zoo_knn.data import load_breast_cancer


@pytest.fixture(scope="module")
def splits():
    return load_breast_cancer(None)


def test_matches_the_lessons_pipeline(splits) -> None:
    bunch = sklearn_breast_cancer()
    x_train, x_test, y_train, y_test = train_test_split(
        bunch.data, bunch.target, test_size=0.3, random_state=42
    )
    scaler = StandardScaler().fit(x_train)
    np.testing.assert_allclose(splits.train.x.numpy(), scaler.transform(x_train), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(splits.test.x.numpy(), scaler.transform(x_test), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(splits.train.y.numpy(), y_train)
    np.testing.assert_array_equal(splits.test.y.numpy(), y_test)


def test_spec_metadata_is_truthful(splits) -> None:
    (spec,) = zoo_knn.zoo_datasets()
    assert (len(splits.train), len(splits.test)) == (spec.train_size, spec.test_size)
    assert tuple(splits.train.x.shape[1:]) == spec.input_shape
    assert spec.classes == tuple(sklearn_breast_cancer().target_names)
    assert set(splits.train.y.tolist()) == set(range(len(spec.classes)))
    assert (str(splits.train.x.dtype), str(splits.train.y.dtype)) == ("torch.float32", "torch.int64")


def test_scaling_uses_training_statistics_only(splits) -> None:
    train = splits.train.x.numpy().astype(np.float64)
    np.testing.assert_allclose(train.mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(train.std(0), 1.0, atol=1e-4)
    # The test split is scaled with the training statistics, so it is not exactly centred.
    assert np.abs(splits.test.x.numpy().mean(0)).max() > 1e-3
