"""`zoo predict` and `zoo export`: use a recorded run's trained model."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .output import registry, say


def register(commands: Any) -> None:
    from ..devices import DEVICES
    from ..export import FORMATS

    p = commands.add_parser("predict", help="predict with a recorded run: images, CSV rows or a series")
    p.add_argument("run_id", metavar="RUN_ID", help="a run id, or a unique start of one")
    p.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="PNG/JPEG images (image models), CSV rows of features (tabular models), or a CSV column "
        "of values whose last window a forecaster continues ('-' reads standard input)",
    )
    p.add_argument("--device", default="auto", choices=DEVICES, help="default auto: CUDA, then MPS, then CPU")
    p.add_argument("--json", action="store_true", help="print one JSON object per input")
    p.set_defaults(handler=cmd_predict)

    p = commands.add_parser("export", help="export a recorded run's network as TorchScript or ONNX, checked")
    p.add_argument("run_id", metavar="RUN_ID", help="a run id, or a unique start of one")
    p.add_argument("--format", required=True, choices=tuple(FORMATS), help="onnx needs zoo-core[onnx]")
    p.add_argument(
        "--output", type=Path, metavar="PATH", help="default: model.pt or model.onnx in the run folder"
    )
    p.set_defaults(handler=cmd_export)


def cmd_predict(args: argparse.Namespace) -> int:
    from ..predict import predict_files
    from ..trained import load_run

    registry()
    trained = load_run(args.run_id, device=args.device, home=args.home)
    for source, prediction in predict_files(trained, args.files):
        if args.json:
            print(json.dumps({"input": source, **prediction.to_json()}), flush=True)
        elif prediction.value is not None:
            print(f"{source}  {prediction.value:.6g}")
        else:
            chance = "-" if prediction.probability is None else f"{prediction.probability:.4f}"
            print(f"{source}  {prediction.label}  {prediction.name or '-'}  {chance}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from ..export import TOLERANCE, check_format, export_run

    check_format(args.format)  # before loading anything
    registry()
    exported = export_run(args.run_id, args.format, args.output, home=args.home)
    say(
        f"checked on {exported.inputs} test inputs: largest difference from the model "
        f"{exported.max_difference:.3g} (at most {TOLERANCE:g})"
    )
    print(exported.path)
    return 0
