"""A LeNet-5 run on digits loaded back: `zoo predict` on PNG files, `zoo export` checked."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image, ImageDraw
from zoo_lenet5.data import load_digits, raw_digits

from zoo_core.testing import export_checked, invoke, invoke_json

OFFLINE = {"ZOO_OFFLINE": "1"}


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, str]:
    home = tmp_path_factory.mktemp("home")
    (result,) = invoke_json(
        "run", "lenet5", "--dataset", "digits", "--epochs", "3", "--quiet",
        home=home, plugins="lenet5", env=OFFLINE,
    )  # fmt: skip
    return home, result["run_id"]


def predict(run, *paths: Path) -> list[dict]:
    home, run_id = run
    return invoke_json("predict", run_id, *map(str, paths), home=home, plugins="lenet5", env=OFFLINE)


def test_predict_a_zero_drawn_with_pil_at_any_size_and_mode(run, tmp_path) -> None:
    # Light strokes on a dark background, as the digits are; the size and colour mode are the user's.
    zero = Image.new("RGB", (200, 200))
    ImageDraw.Draw(zero).ellipse([50, 19, 150, 181], outline="white", width=25)
    zero.save(tmp_path / "zero.png")
    zero.resize((21, 37)).convert("LA").save(tmp_path / "small.png")
    for predicted in predict(run, tmp_path / "zero.png", tmp_path / "small.png"):
        assert (predicted["label"], predicted["class"]) == (0, "0") and predicted["probability"] > 0.5


def test_png_files_of_test_digits_predict_what_the_loaders_tensors_do(run, tmp_path) -> None:
    # A raw 8x8 digit written as an 8-bit PNG goes through the same code as the loader's tensors.
    _, raw_test = raw_digits(None)
    paths = []
    for row in range(0, 450, 45):
        paths.append(tmp_path / f"digit-{row}.png")
        Image.fromarray((raw_test[row] * 255).round().astype("uint8")).save(paths[-1])
    from zoo_core import load_run

    home, run_id = run
    trained = load_run(run_id, device="cpu", home=home)
    expected = [p.label for p in trained.predict_tensor(load_digits(None).test.x[0:450:45])]
    assert [p["label"] for p in predict(run, *paths)] == expected


def test_a_csv_for_an_image_model_is_not_an_image(run, tmp_path) -> None:
    home, run_id = run
    (tmp_path / "rows.csv").write_text("1,2,3\n")
    result = invoke(
        "predict", run_id, str(tmp_path / "rows.csv"), home=home, plugins="lenet5", env=OFFLINE, check=False
    )
    assert (result.returncode, result.stderr) == (
        2,
        f"zoo: error: {tmp_path / 'rows.csv'}: not an image (Pillow cannot read it)\n",
    )


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_export_lenet5(run, tmp_path, fmt) -> None:
    home, run_id = run
    path = tmp_path / f"lenet5.{fmt}"
    assert export_checked(run_id, fmt, path, home=home, plugins="lenet5", env=OFFLINE) <= 1e-5
    if fmt == "torchscript":
        images = load_digits(None).test.x[:5]
        with torch.no_grad():
            assert torch.jit.load(str(path))(images).argmax(1).shape == (5,)
