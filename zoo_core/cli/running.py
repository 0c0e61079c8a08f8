"""`zoo run` and `zoo reproduce`: train, evaluate and record; run a recorded run again."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import ZooError
from . import arguments
from .output import number, print_table, registry, say


def register(commands: Any) -> None:
    from ..devices import DEVICES

    p = commands.add_parser("run", help="train and evaluate a model, recording the result")
    p.add_argument("name", nargs="?", type=arguments.name, help="model name")
    p.add_argument(
        "--all", action="store_true", help="every model on its default dataset, then the baselines"
    )
    p.add_argument(
        "--dataset", type=arguments.name, help="dataset name (default: the model's default dataset)"
    )
    p.add_argument("--epochs", type=int, help="training epochs (gradient-trained models)")
    p.add_argument(
        "--patience",
        type=int,
        metavar="N",
        help="stop when the validation score has not improved for N epochs and keep the best epoch's "
        "weights (the trainer setting patience; validates on val_fraction of the training set)",
    )
    seeds = p.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    seeds.add_argument("--seeds", help="comma-separated seeds, one run each, e.g. 0,1,2")
    p.add_argument("--device", default="auto", choices=DEVICES, help="default auto: CUDA, then MPS, then CPU")
    p.add_argument(
        "--threads",
        type=int,
        help="CPU threads for torch (default: one per core that is free: usable by this process, not busy)",
    )
    p.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="override a hyperparameter (repeatable)"
    )
    talk = p.add_mutually_exclusive_group()
    talk.add_argument("--quiet", action="store_true", help="no progress: no bar, no line per epoch")
    talk.add_argument("--verbose", action="store_true", help="a progress line per training step too")
    p.add_argument(
        "--store-data",
        action="store_true",
        help="keep a copy of the training data in the run folder of a model whose state is that data "
        "(KNN); by default the folder refers to the dataset",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object per run")
    p.set_defaults(handler=cmd_run)

    p = commands.add_parser("reproduce", help="re-run a stored run and compare its metrics")
    p.add_argument("run_id", metavar="RUN_ID", help="a run id, or a unique start of one")
    p.add_argument(
        "--device", default="recorded", choices=("recorded", *DEVICES), help="default: the run's own"
    )
    p.add_argument("--keep", type=Path, metavar="DIR", help="keep the re-run's folder and row in DIR")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_reproduce)


def parse_seeds(args: argparse.Namespace) -> list[int]:
    from ..hparams import check_seed

    if args.seeds is None:
        return [check_seed(args.seed)]
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        raise ZooError(f"--seeds expects comma-separated integers, got {args.seeds!r}") from None
    if not seeds:
        raise ZooError("--seeds is empty")
    return [check_seed(seed) for seed in seeds]


def cmd_run(args: argparse.Namespace) -> int:
    from ..batch import run_every_model, run_plans
    from ..hparams import check_threads, parse_assignments
    from ..layout import zoo_home
    from ..planning import plan_all, plan_run
    from ..runner import Context

    if bool(args.name) == bool(args.all):
        raise ZooError("give a model name or --all, not both" if args.name else "give a model name or --all")
    seeds = parse_seeds(args)
    overrides: dict[str, Any] = parse_assignments(args.set or [])
    for option in ("epochs", "patience"):
        if getattr(args, option) is not None:
            overrides[option] = getattr(args, option)
    threads = check_threads(args.threads) if args.threads is not None else None
    found = registry()
    # Every input is checked before the context opens the store: bad input writes nothing.
    batch = plan_all(found, args.dataset, overrides) if args.all else None
    plan = None if args.all else plan_run(found, args.name, args.dataset, overrides)
    context = Context.create(
        home=zoo_home(args.home),
        device=args.device,
        threads=threads,
        progress=0 if args.quiet else 2 if args.verbose else 1,
        notify=say,
        registry=found,
        store_data=args.store_data,
    )

    def report(result: Any, seed: int) -> None:
        if args.json:
            print(json.dumps(result.to_json()), flush=True)
            return
        scores = ", ".join(f"{name} {value:.4f}" for name, value in sorted(result.metrics.items()))
        print(
            f"{result.model} on {result.dataset} (seed {seed}): {scores} [{result.duration_s:.1f} s] "
            f"-> {result.run_dir}",
            flush=True,
        )

    if batch is not None:
        tally = run_every_model(
            batch,
            seeds,
            context,
            with_baselines=args.dataset is None,
            overrides=overrides,
            report=report,
            say=say,
        )
    else:
        tally = run_plans([plan], seeds, context, all_models=False, report=report, say=say)
    return tally.exit_code


def cmd_reproduce(args: argparse.Namespace) -> int:
    from ..layout import WEIGHTS, zoo_home
    from ..reproduce import Terminated, reproduce

    registry()
    try:
        check = reproduce(
            args.run_id,
            zoo_home(args.home),
            device=None if args.device == "recorded" else args.device,
            keep=args.keep,
            notify=say,
        )
    except Terminated as stop:
        kept = (
            f"; the kept folder {args.keep} holds what it wrote"
            if args.keep
            else ", its scratch folder removed"
        )
        say(f"stopped by signal {stop.signum}: the re-run was ended{kept}")
        return 128 + stop.signum  # as a shell reports a process that a signal ended
    stored = check.stored
    if args.json:
        print(
            json.dumps(
                {
                    "run_id": stored["run_id"],
                    "matches": check.matches,
                    "metrics": [
                        {"name": m.name, "stored": m.stored, "reproduced": m.reproduced, "matches": m.matches}
                        for m in check.metrics
                    ],
                    "same_data": check.same_data,
                    "same_weights": check.same_weights,
                    "weights": check.weights,
                    "version_changes": check.version_changes,
                },
                indent=2,
            )
        )
        return 0 if check.matches else 1
    print(f"{stored['model']} on {stored['dataset']} (seed {stored['seed']}), run {stored['run_id']}")
    print_table(
        [
            [m.name, number(m.stored), number(m.reproduced), "yes" if m.matches else "NO"]
            for m in check.metrics
        ],
        ["metric", "stored", "reproduced", "identical"],
    )
    verdict = {True: "identical", False: "DIFFERENT", None: "not recorded for this run"}
    print(f"data fingerprint: {verdict[check.same_data]}")
    weights = {
        "identical": "identical",
        "different": "DIFFERENT",
        "missing": f"MISSING: {Path(stored['run_dir']) / WEIGHTS} is gone, so they cannot be compared",
        "not recorded": "not recorded for this run",
    }
    print(f"weights: {weights[check.weights]}")
    for key, (before, after) in sorted(check.version_changes.items()):
        print(f"note: {key.replace('_', ' ')} was {before}, is {after}")
    if check.matches:
        print("reproduced exactly")
    elif (
        check.weights == "missing" and all(m.matches for m in check.metrics) and check.same_data is not False
    ):
        print("NOT verified: the metrics match, but the stored weights are missing")
    else:
        print("NOT reproduced: the run differs (see above)")
    return 0 if check.matches else 1
