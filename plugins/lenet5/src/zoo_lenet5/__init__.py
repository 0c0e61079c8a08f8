"""The LeNet-5 lesson: LeCun's 1998 CNN on MNIST, Fashion-MNIST and scikit-learn's digits.

Hook implementations only; torch and torchvision load when a run needs them.
"""

from __future__ import annotations

from zoo_core import DatasetSpec, ModelSpec, hookimpl

SHAPE = (1, 32, 32)
DIGIT_NAMES = tuple("0123456789")
FASHION_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
REFERENCE = "LeCun et al. 1998, Gradient-based learning applied to document recognition"
# MNIST and Fashion-MNIST come in the same IDX format, sizes and (online) way of getting them.
IDX_DATASET = {
    "task": "classification",
    "input_shape": SHAPE,
    "train_size": 60_000,
    "test_size": 10_000,
    "offline": False,
}


@hookimpl
def zoo_models() -> list[ModelSpec]:
    """LeNet-5 with the lesson's recipe, and the same network with a recipe that trains faster."""
    return [
        ModelSpec(
            name="lenet5",
            task="classification",
            factory="zoo_lenet5.model:build_lenet5",
            # The README's measured numbers (seeds 0-2); `zoo info lenet5` shows what reaches 89 and 90 %.
            summary=(
                "LeNet-5 (two 5x5 convolutions, average pooling, 120-84 dense) on the lesson's recipe; "
                "trained on the whole training set (--set val_fraction=0) it reaches 88.2-88.8 % on "
                "Fashion-MNIST in 5 epochs, 89.6 % on average with --epochs 10, and 90 % with --epochs 15 "
                "or lenet5-fast"
            ),
            reference=REFERENCE,
            # The lesson's recipe, pinned. It validates on the core's default val_fraction (10% of
            # the training set: 6,000 Fashion-MNIST images), so --patience works as is;
            # --set val_fraction=0 trains on all of it, as the lesson did.
            trainer={"epochs": 5, "batch_size": 64, "lr": 1e-3, "optimizer": "adam"},
            # digits has 21 batches per epoch against MNIST's 938: 5 epochs are too few steps (~94%).
            dataset_defaults={"digits": {"epochs": 30}},
            default_dataset="mnist",
            fallback_dataset="digits",
            input_shape=SHAPE,
        ),
        ModelSpec(
            name="lenet5-fast",
            task="classification",
            factory="zoo_lenet5.model:build_lenet5",
            summary=(
                "LeNet-5 with a faster recipe: batch 128, one-cycle schedule peaking at lr 0.01; "
                "90.7-91.0 % on Fashion-MNIST in 6 epochs"
            ),
            reference=REFERENCE,
            # A one-cycle schedule tolerates a 10x higher peak rate than the lesson's constant
            # one; batches of 128 cost less per image on CPU than batches of 64.
            trainer={
                "epochs": 6,
                "batch_size": 128,
                "lr": 1e-2,
                "optimizer": "adam",
                "schedule": "onecycle",
            },
            dataset_defaults={"digits": {"epochs": 30}},
            default_dataset="mnist",
            fallback_dataset="digits",
            input_shape=SHAPE,
        ),
    ]


@hookimpl
def zoo_datasets() -> list[DatasetSpec]:
    """MNIST and Fashion-MNIST (torchvision's files), and scikit-learn's bundled digits."""
    return [
        DatasetSpec(
            name="mnist",
            loader="zoo_lenet5.data:load_mnist",
            transform="zoo_lenet5.data:mnist_transform",
            raw="zoo_lenet5.data:raw_mnist",
            description=(
                "Handwritten digits, 28x28 padded to 32x32. Read from <data>/MNIST/raw "
                "(.gz files are unpacked), else downloaded by torchvision unless ZOO_OFFLINE=1"
            ),
            source="http://yann.lecun.com/exdb/mnist/ via torchvision.datasets.MNIST",
            license="CC BY-SA 3.0 (Yann LeCun and Corinna Cortes)",
            classes=DIGIT_NAMES,
            **IDX_DATASET,
        ),
        DatasetSpec(
            name="fashion-mnist",
            loader="zoo_lenet5.data:load_fashion_mnist",
            transform="zoo_lenet5.data:mnist_transform",
            raw="zoo_lenet5.data:raw_fashion_mnist",
            description=(
                "Zalando's clothing images, 28x28 padded to 32x32. Read from <data>/FashionMNIST/raw, "
                "else unpacked from Debian's dataset-fashion-mnist package (which makes it work "
                "offline), else downloaded by torchvision unless ZOO_OFFLINE=1"
            ),
            source="https://github.com/zalandoresearch/fashion-mnist via torchvision.datasets.FashionMNIST",
            license="MIT",
            classes=FASHION_NAMES,
            **IDX_DATASET,
        ),
        DatasetSpec(
            name="digits",
            task="classification",
            loader="zoo_lenet5.data:load_digits",
            transform="zoo_lenet5.data:digits_transform",
            raw="zoo_lenet5.data:raw_digits",
            description=(
                "scikit-learn's bundled 8x8 handwritten digits, upsampled to 32x32 and scaled like "
                "MNIST: the offline stand-in for MNIST (fixed stratified 75/25 split)"
            ),
            source="sklearn.datasets.load_digits (UCI Optical Recognition of Handwritten Digits)",
            license="CC BY 4.0 (UCI Machine Learning Repository)",
            input_shape=SHAPE,
            train_size=1_347,
            test_size=450,
            classes=DIGIT_NAMES,
            offline=True,
        ),
    ]
