"""`zoo predict` and `zoo export` on real runs of test plugins: inputs read from files, bad files named."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from zoo_core.testing import run_checks

# An image plugin for these tests: tiny pictures, dark or light, made from raw uint8 images by a
# transform that the loader shares.
PICS = """
from zoo_core import DatasetSpec, ModelSpec, hookimpl

SIDE = 8


@hookimpl
def zoo_models():
    return [
        ModelSpec(
            name="pics-net",
            task="classification",
            factory="zoo_pics:build",
            summary="a linear layer on the pixels",
            reference="core tests",
            trainer={"epochs": 10, "lr": 0.1},
            default_dataset="pics",
            input_shape=(1, SIDE, SIDE),
        )
    ]


@hookimpl
def zoo_datasets():
    return [
        DatasetSpec(
            name="pics",
            task="classification",
            loader="zoo_pics:load",
            transform="zoo_pics:transform",
            raw="zoo_pics:raw",
            description="dark and light pictures",
            source="generated",
            license="CC0",
            input_shape=(1, SIDE, SIDE),
            train_size=80,
            test_size=20,
            classes=("dark", "light"),
        )
    ]


def build(dataset):
    import torch

    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(SIDE * SIDE, 2))


def to_input(images):
    from zoo_core.transforms import resize

    return resize(images.unsqueeze(1).float() / 255.0, SIDE) * 2 - 1


def transform(image):
    from zoo_core.transforms import grayscale

    return to_input(grayscale(image).unsqueeze(0))[0]


def pictures():
    import numpy as np

    rng = np.random.RandomState(0)
    light = np.arange(100) % 2
    images = rng.randint(0, 100, size=(100, SIDE, SIDE)) + 150 * light[:, None, None]
    return images.astype(np.uint8), light


def raw(data_dir):
    images, _ = pictures()
    return images[:80], images[80:]


def load(data_dir):
    import torch

    from zoo_core.data import Split, Splits

    images, light = pictures()
    train, test = images[:80], images[80:]
    return Splits(
        Split(to_input(torch.from_numpy(train)), torch.as_tensor(light[:80])),
        Split(to_input(torch.from_numpy(test)), torch.as_tensor(light[80:])),
    )
"""


@pytest.fixture
def pics(install, in_process, monkeypatch):
    install("zoo-pics", "0.1", {"pics": "zoo_pics"}, {"zoo_pics": PICS})
    monkeypatch.setenv("ZOO_PLUGINS", "toy,pics")


@pytest.fixture
def pics_run(pics, zoo) -> str:
    [result] = zoo.json("run", "pics-net", env={"ZOO_PLUGINS": "toy,pics"})
    assert result["metrics"]["accuracy"] == 1.0
    return result["run_id"]


def zoo_pics(zoo, *args, check=True):
    return zoo(*args, check=check, env={"ZOO_PLUGINS": "toy,pics"})


def test_predict_reads_images_of_any_size_and_mode(tmp_path, zoo, pics_run):
    Image.new("RGB", (30, 20), (230, 220, 240)).save(tmp_path / "light.png")
    Image.new("L", (5, 9), 20).save(tmp_path / "dark.jpg")
    Image.new("P", (64, 64), 3).save(tmp_path / "palette.png")
    files = [str(tmp_path / name) for name in ("light.png", "dark.jpg", "palette.png")]
    lines = zoo_pics(zoo, "predict", pics_run, *files).stdout.splitlines()
    assert [line.split("  ")[:3] for line in lines] == [
        [files[0], "1", "light"],
        [files[1], "0", "dark"],
        [files[2], "0", "dark"],
    ]
    [first] = zoo_pics(zoo, "predict", pics_run, files[0], "--json").json_lines()
    assert first["input"] == files[0] and first["class"] == "light" and 0.5 < first["probability"] <= 1


def test_the_kit_checks_a_transform_against_the_loader(pics):
    outcomes = {o.id: o for o in run_checks("pics")}
    assert outcomes["dataset-transform[pics]"].status == "passed", outcomes["dataset-transform[pics]"]
    assert outcomes["model-reload[pics-net]"].status == "passed", outcomes["model-reload[pics-net]"]


def test_the_kit_catches_a_transform_that_drifted_from_the_loader(install, in_process, monkeypatch):
    # The loader scales to [0, 1] while the transform still scales to [-1, 1].
    drifted = PICS.replace("SIDE) * 2 - 1", "SIDE)").replace("unsqueeze(0))[0]", "unsqueeze(0))[0] * 2 - 1")
    install("zoo-pics", "0.1", {"pics": "zoo_pics"}, {"zoo_pics": drifted})
    monkeypatch.setenv("ZOO_PLUGINS", "pics")
    [outcome] = [o for o in run_checks("pics") if o.id == "dataset-transform[pics]"]
    assert outcome.status == "failed" and "differs from what the loader returns by" in outcome.message


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.png", b"", "empty"),
        ("notes.png", b"not an image at all", "not an image (Pillow cannot read it)"),
        ("missing.png", None, "no such file"),
    ],
)
def test_a_bad_image_file_exits_2_naming_it(tmp_path, zoo, pics_run, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    Image.new("L", (8, 8)).save(tmp_path / "good.png")
    result = zoo_pics(zoo, "predict", pics_run, str(tmp_path / "good.png"), str(path), check=False)
    assert result.code == 2 and result.stdout == ""  # nothing is predicted while a file is bad
    assert result.stderr == f"zoo: error: {path}: {message}\n"


@pytest.fixture
def mlp_run(zoo) -> str:
    [result] = zoo.json("run", "toy-mlp", "--epochs", "2")
    return result["run_id"]


def test_predict_reads_csv_rows_for_a_tabular_model(tmp_path, zoo, mlp_run):
    (tmp_path / "rows.csv").write_text("x1,x2\n-2.5,-2\n\n2.5,3\n")
    lines = zoo("predict", mlp_run, str(tmp_path / "rows.csv")).stdout.splitlines()
    assert [line.split("  ")[:3] for line in lines] == [
        [f"{tmp_path / 'rows.csv'}:2", "0", "left"],
        [f"{tmp_path / 'rows.csv'}:4", "1", "right"],
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("1,2,3\n", "wrong number of columns: line 1 has 3, toy-mlp reads 2 features per row"),
        ("", "empty"),
        ("x1,x2\n", "empty: no rows of numbers"),
        ("1,2\n3,x\n", "line 2 is not all numbers: ['3', 'x']"),
        ("x1,x2\n1,nan\n", "line 2 is not all finite numbers: ['1', 'nan']"),
        ("1,2\ninf,-inf\n", "line 2 is not all finite numbers: ['inf', '-inf']"),
        ("1e999,2\n", "line 1 is not all finite numbers: ['1e999', '2']"),
    ],
)
def test_a_bad_csv_file_exits_2_naming_it(tmp_path, zoo, mlp_run, content, message):
    path = tmp_path / "rows.csv"
    path.write_text(content)
    result = zoo("predict", mlp_run, str(path), check=False)
    assert (result.code, result.stderr) == (2, f"zoo: error: {path}: {message}\n")


def test_a_folder_or_a_fifo_is_not_a_file_to_predict_on(tmp_path, zoo, mlp_run, pics_run):
    import os

    os.mkfifo(tmp_path / "pipe.csv")  # reading it would wait forever for a writer
    (tmp_path / "folder.png").mkdir()
    for name, message in (("folder.png", "is a folder, not a file"), ("pipe.csv", "not a regular file")):
        path = tmp_path / name
        for result in (
            zoo("predict", mlp_run, str(path), check=False),
            zoo_pics(zoo, "predict", pics_run, str(path), check=False),
        ):
            assert (result.code, result.stdout, result.stderr) == (2, "", f"zoo: error: {path}: {message}\n")


def test_an_image_model_does_not_read_standard_input(zoo, pics_run):
    result = zoo_pics(zoo, "predict", pics_run, "-", check=False)
    assert (result.code, result.stderr) == (
        2,
        "zoo: error: -: images are read from files, not from standard input\n",
    )


def test_an_image_for_a_tabular_model_is_not_a_csv(tmp_path, zoo, mlp_run):
    Image.new("L", (8, 8)).save(tmp_path / "a.png")
    result = zoo("predict", mlp_run, str(tmp_path / "a.png"), check=False)
    assert (result.code, result.stderr) == (
        2,
        f"zoo: error: {tmp_path / 'a.png'}: not a CSV file (not text)\n",
    )


def test_a_forecaster_continues_a_column_or_standard_input(tmp_path, zoo, monkeypatch):
    import io

    [run] = zoo.json("run", "toy-net", "--epochs", "2")
    series = np.sin(np.linspace(0, 3, 12))
    (tmp_path / "series.csv").write_text("value\n" + "".join(f"{v}\n" for v in series))
    [from_file] = zoo("predict", run["run_id"], str(tmp_path / "series.csv"), "--json").json_lines()
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"{v}\n" for v in series[-5:])))
    [from_stdin] = zoo("predict", run["run_id"], "-", "--json").json_lines()
    assert from_file["value"] == from_stdin["value"]  # the last window of 5 values either way
    assert from_stdin["input"] == "-"
    (tmp_path / "two.csv").write_text("1,2\n3,4\n")
    (tmp_path / "short.csv").write_text("1\n2\n3\n")
    for name, message in (
        ("two.csv", "wrong number of columns: 2; a forecaster reads one column of values"),
        ("short.csv", "wrong shape: 3 values, but toy-net forecasts from windows of 5"),
    ):
        result = zoo("predict", run["run_id"], str(tmp_path / name), check=False)
        assert (result.code, result.stderr) == (2, f"zoo: error: {tmp_path / name}: {message}\n")


def test_export_torchscript_checks_itself_on_the_test_inputs(tmp_path, zoo, mlp_run):
    result = zoo("export", mlp_run, "--format", "torchscript", "--output", str(tmp_path / "mlp.pt"))
    assert result.stdout == f"{tmp_path / 'mlp.pt'}\n"
    assert "checked on 40 test inputs: largest difference from the model 0 (at most 1e-05)" in result.stderr
    loaded = torch.jit.load(str(tmp_path / "mlp.pt"))
    assert loaded(torch.zeros(3, 2)).shape == (3, 2)
    default = zoo("export", mlp_run[:20], "--format", "torchscript").stdout.strip()
    assert default.endswith(f"{mlp_run}/model.pt")


def test_export_refuses_estimators_and_formats_whose_packages_are_missing(zoo, mlp_run, monkeypatch):
    [estimator] = zoo.json("run", "majority-class", "--dataset", "toy-points")
    result = zoo("export", estimator["run_id"], "--format", "torchscript", check=False)
    assert result.code == 2 and "only gradient-trained models can be exported" in result.stderr
    assert result.stderr.count("\n") == 1
    monkeypatch.setattr("zoo_core.export.find_spec", lambda name: None)
    result = zoo("export", mlp_run, "--format", "onnx", check=False)
    assert (result.code, result.stderr) == (
        2,
        "zoo: error: --format onnx needs onnx, onnxruntime, onnxscript, which are not installed: "
        "pip install 'zoo-core[onnx]'\n",
    )


def test_export_onnx_checks_itself(tmp_path, zoo, mlp_run):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    result = zoo("export", mlp_run, "--format", "onnx", "--output", str(tmp_path / "mlp.onnx"))
    assert (
        result.stdout == f"{tmp_path / 'mlp.onnx'}\n" and "largest difference from the model" in result.stderr
    )
