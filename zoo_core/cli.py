"""The `zoo` command. Everything is built inside main(); nothing heavy runs at import.

`zoo --help` and `zoo list` never import torch: the registry holds only spec records.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn, Sequence

from . import __version__
from .errors import Diverged, ZooError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, like every other input error, instead of argparse's usage dump.
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _print_table(rows: list[list[Any]], headers: list[str]) -> None:
    from tabulate import tabulate

    print(tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True))


def _registry():
    from .registry import get_registry

    return get_registry()


def _warn_broken() -> None:
    from .plugins import load_plugins

    for info in load_plugins().broken:
        print(
            f"zoo: warning: plugin {info.name!r} ({info.distribution} {info.version}) "
            f"is broken: {info.error}",
            file=sys.stderr,
        )


def cmd_list(args: argparse.Namespace) -> int:
    registry = _registry()

    def listing(table: dict[str, Any], fields: Any) -> list[dict[str, Any]]:
        return [
            {"name": name, "task": e.spec.task, "plugin": e.plugin, **fields(e.spec)}
            for name, e in table.items()
            if args.task in (None, e.spec.task)
        ]

    models = listing(
        registry.models,
        lambda spec: {
            "default_dataset": spec.default_dataset,
            "baseline": spec.baseline,
            "summary": spec.summary,
        },
    )
    datasets = listing(
        registry.datasets,
        lambda spec: {
            "train_size": spec.train_size,
            "test_size": spec.test_size,
            "offline": spec.offline,
            "summary": spec.description,
        },
    )
    metrics = listing(
        registry.metrics, lambda spec: {"higher_is_better": spec.higher_is_better, "summary": spec.summary}
    )
    from .plugins import load_plugins

    broken = [
        {"name": i.name, "distribution": i.distribution, "error": i.error} for i in load_plugins().broken
    ]
    if args.json:
        print(
            json.dumps(
                {"models": models, "datasets": datasets, "metrics": metrics, "broken_plugins": broken},
                indent=2,
            )
        )
        return 0
    print("Models")
    _print_table(
        [
            [m["name"], m["task"], m["plugin"], m["default_dataset"] or "-", _first_sentence(m["summary"])]
            for m in models
        ],
        ["name", "task", "plugin", "default dataset", "summary"],
    )
    print("\nDatasets")
    _print_table(
        [
            [
                d["name"],
                d["task"],
                d["plugin"],
                f"{d['train_size']}/{d['test_size']}",
                "yes" if d["offline"] else "no",
                _first_sentence(d["summary"]),
            ]
            for d in datasets
        ],
        ["name", "task", "plugin", "train/test", "offline", "summary"],
    )
    print("\nMetrics")
    _print_table(
        [
            [m["name"], m["task"], m["plugin"], "higher" if m["higher_is_better"] else "lower", m["summary"]]
            for m in metrics
        ],
        ["name", "task", "plugin", "better", "summary"],
    )
    _warn_broken()
    return 0


def _first_sentence(text: str, width: int = 72) -> str:
    """A table cell: the first sentence, shortened to fit a terminal (--json keeps it all)."""
    import textwrap

    return textwrap.shorten(text.split(". ")[0].split("; ")[0].rstrip("."), width=width, placeholder=" …")


def cmd_plugins(args: argparse.Namespace) -> int:
    from .plugins import load_plugins

    _registry()  # a plugin can also break inside its hooks
    infos = sorted(load_plugins().infos.values(), key=lambda i: i.name)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "name": i.name,
                        "distribution": i.distribution,
                        "version": i.version,
                        "hooks": list(i.hooks),
                        "status": i.status,
                        "error": i.error,
                    }
                    for i in infos
                ],
                indent=2,
            )
        )
        return 0
    _print_table(
        [[i.name, i.distribution, i.version, i.status, i.error or ", ".join(i.hooks)] for i in infos],
        ["name", "distribution", "version", "status", "hooks / error"],
    )
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from .runner import incompatibility
    from .specs import DatasetSpec, ModelSpec

    registry = _registry()
    entry = registry.lookup_any(args.name)
    spec = entry.spec
    fields: list[tuple[str, Any]] = [
        ("name", spec.name),
        ("kind", type(spec).__name__.removesuffix("Spec").lower()),
        ("task", spec.task),
        ("plugin", entry.plugin),
    ]
    if isinstance(spec, ModelSpec):
        from .hparams import defaults_for

        fields += [
            ("summary", spec.summary),
            ("reference", spec.reference),
            ("default dataset", spec.default_dataset or "-"),
            ("fallback dataset", spec.fallback_dataset or "-"),
            ("trained by", "the core's gradient trainer" if spec.gradient else "its own fit()"),
            (
                "input shape",
                "any"
                if spec.input_shape is None
                else "×".join("*" if d is None else str(d) for d in spec.input_shape),
            ),
            ("hyperparameters", ", ".join(f"{k}={v}" for k, v in sorted(defaults_for(spec).items())) or "-"),
            *[
                (f"on {dataset}", ", ".join(f"{k}={v}" for k, v in sorted(values.items())))
                for dataset, values in sorted(spec.dataset_defaults.items())
            ],
            ("parameters", _parameter_count(spec, registry)),
            (
                "datasets it fits",
                ", ".join(n for n, d in registry.datasets.items() if incompatibility(spec, d.spec) is None)
                or "-",
            ),
        ]
    elif isinstance(spec, DatasetSpec):
        primary = registry.primary_metric(spec.name, spec.task)
        fields += [
            ("description", spec.description),
            ("source", spec.source),
            ("license", spec.license),
            ("input shape", "×".join(map(str, spec.input_shape))),
            ("train size", spec.train_size),
            ("test size", spec.test_size),
            ("classes", ", ".join(spec.classes) or "-"),
            ("works offline", "yes" if spec.offline else "no"),
            ("primary metric", primary.name if primary else "-"),
            (
                "models that fit",
                ", ".join(n for n, m in registry.models.items() if incompatibility(m.spec, spec) is None)
                or "-",
            ),
        ]
    else:
        fields += [("summary", spec.summary), ("better", "higher" if spec.higher_is_better else "lower")]
    if args.json:
        print(json.dumps({key.replace(" ", "_"): value for key, value in fields}, indent=2, default=str))
        return 0
    width = max(len(key) for key, _ in fields)
    for key, value in fields:
        print(f"{key:<{width}}  {value}")
    return 0


def _parameter_count(spec: Any, registry: Any) -> Any:
    """Build the model for its default dataset and count its trainable parameters."""
    if not spec.gradient:
        return "fitted from the training data"
    dataset = registry.datasets.get(spec.default_dataset or "")
    if dataset is None:
        return "unknown (default dataset not installed)"
    from .hparams import defaults_for, split_trainer
    from .runner import count_parameters

    _, hparams = split_trainer(defaults_for(spec, dataset.spec.name))
    return f"{count_parameters(spec.build(dataset.spec, **hparams)):,} (on {dataset.spec.name})"


def _parse_seeds(args: argparse.Namespace) -> list[int]:
    if args.seeds is None:
        return [args.seed]
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        raise ZooError(f"--seeds expects comma-separated integers, got {args.seeds!r}") from None
    if not seeds:
        raise ZooError("--seeds is empty")
    return seeds


def cmd_run(args: argparse.Namespace) -> int:
    from .home import zoo_home
    from .hparams import parse_assignments
    from .runner import baseline_pairs, plan_all, plan_run, run

    if bool(args.name) == bool(args.all):
        raise ZooError("give a model name or --all, not both" if args.name else "give a model name or --all")
    seeds = _parse_seeds(args)
    overrides: dict[str, Any] = parse_assignments(args.set or [])
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    if args.threads is not None:
        if args.threads < 1:
            raise ZooError(f"--threads must be positive, got {args.threads}")
        import torch

        # Small recurrent models often run faster on one thread, and a busy machine always does.
        torch.set_num_threads(args.threads)
    registry = _registry()
    pairs = plan_all(registry, args.dataset) if args.all else [(args.name, args.dataset)]
    if not args.all:
        plan_run(registry, args.name, args.dataset, overrides)  # fail fast, before any seed runs
    home = zoo_home(args.home)

    def notify(message: str) -> None:
        print(f"zoo: {message}", file=sys.stderr)

    failures = 0
    used: list[str] = []

    def run_pairs(pairs: Sequence[tuple[str, str | None]]) -> None:
        nonlocal failures
        for model, dataset in pairs:
            for seed in seeds:
                try:
                    result = run(
                        model,
                        dataset,
                        seed=seed,
                        device=args.device,
                        overrides=overrides,
                        home=home,
                        progress=not args.quiet,
                        notify=notify,
                    )
                except ZooError as exc:
                    if not args.all:
                        raise
                    print(f"zoo: skipped {model}: {exc}", file=sys.stderr)
                    break  # the other seeds would fail the same way
                except Diverged as exc:
                    # An outcome, not a bug: recorded as failed, and the other seeds may still converge.
                    failures += 1
                    print(
                        f"zoo: {model} (seed {seed}) failed and was recorded as such: {exc}", file=sys.stderr
                    )
                    continue
                except Exception as exc:
                    if not args.all:
                        raise
                    failures += 1
                    print(f"zoo: {model} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
                    continue
                used.append(result.dataset)
                _report(result, seed, args.json)

    run_pairs(pairs)
    if args.all and args.dataset is None:
        run_pairs(baseline_pairs(registry, used))
    return 1 if failures else 0


def _report(result: Any, seed: int, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result.to_json()), flush=True)
        return
    scores = ", ".join(f"{name} {value:.4f}" for name, value in sorted(result.metrics.items()))
    print(
        f"{result.model} on {result.dataset} (seed {seed}): {scores} [{result.duration_s:.1f} s] "
        f"-> {result.run_dir}",
        flush=True,
    )


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from . import leaderboard
    from .home import database_path, zoo_home
    from .hparams import defaults_for
    from .registry import suggest
    from .store import Store

    registry = _registry()
    database = database_path(zoo_home(args.home))

    def defaults(model: str, dataset: str) -> dict[str, Any]:
        entry = registry.models.get(model)
        return defaults_for(entry.spec, dataset) if entry else {}

    runs = leaderboard.runs_frame(Store(database).rows(), defaults)
    for column in ("task", "dataset", "model"):
        wanted = getattr(args, column)
        if wanted is None:
            continue
        recorded = set(runs[column]) if not runs.empty else set()
        if wanted not in recorded:
            raise ZooError(
                f"no successful runs with {column} {wanted!r} in {database}{suggest(wanted, recorded)}"
            )
        runs = runs[runs[column] == wanted]
    if runs.empty:
        print(f"zoo: no successful runs recorded in {database} yet; try `zoo run lenet5`", file=sys.stderr)
        return 0
    metrics = {name: entry.spec for name, entry in registry.metrics.items()}
    primary = {}
    for dataset, task in runs.groupby("dataset")["task"].first().items():
        chosen = registry.primary_metric(dataset, task)
        if chosen is not None:
            primary[dataset] = chosen.name
    board = leaderboard.aggregate(runs, metrics, primary)
    leaderboard.write(leaderboard.render(board, args.format), args.output)
    if args.plot:
        from .plots import leaderboard_bars

        ranked = board[board["dataset"].isin(primary)]
        leaderboard_bars(ranked, primary, args.plot)
        print(f"zoo: wrote {args.plot}", file=sys.stderr)
    return 0


def cmd_new_plugin(args: argparse.Namespace) -> int:
    from .scaffold import create

    target, files = create(args.name, Path(args.dir))
    print(f"zoo: wrote a plugin to start from, {target}/:")
    for name in files:
        print(f"  {name}")
    print(f"next: pip install -e {target} && zoo run {args.name} && pytest {target}/tests")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from .home import database_path, zoo_home
    from .store import Store, metric_values

    if args.limit < 1:
        raise ZooError(f"--limit must be positive, got {args.limit}")
    runs = [
        r
        for r in Store(database_path(zoo_home(args.home))).rows()
        if args.model in (None, r["model"]) and args.dataset in (None, r["dataset"])
    ][-args.limit :]
    if args.json:
        print(json.dumps(runs, indent=2))
        return 0
    _print_table(
        [
            [
                r["run_id"],
                r["status"],
                r["started_at"],
                ", ".join(f"{k} {v:.4g}" for k, v in sorted(metric_values(r).items())) or r["error"],
            ]
            for r in runs
        ],
        ["run id", "status", "started", "metrics / error"],
    )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from .errors import UnknownName
    from .home import database_path, runs_dir, zoo_home
    from .runner import INCOMPLETE
    from .store import Store, metric_values

    home = zoo_home(args.home)
    try:
        row = Store(database_path(home)).find(args.run_id)
    except UnknownName:
        unfinished = sorted(runs_dir(home).glob(f"{args.run_id}*/{INCOMPLETE}"))
        if len(unfinished) == 1:
            raise ZooError(
                f"run {unfinished[0].parent.name} did not finish (interrupted or killed), so nothing was "
                f"recorded; its folder is {unfinished[0].parent}"
            ) from None
        raise
    folder = Path(row["run_dir"]) if row["run_dir"] else None
    artefacts = sorted(str(p) for p in folder.iterdir()) if folder and folder.is_dir() else []
    if args.json:
        metrics = metric_values(row)
        record = {key: value for key, value in row.items() if key not in metrics}
        print(json.dumps({**record, "metrics": metrics, "artefacts": artefacts}, indent=2))
        return 0
    settings = ", ".join(f"{k}={v}" for k, v in sorted(row["hparams"].items())) or "-"
    versions = ", ".join(
        f"{name} {row[key]}"
        for name, key in (
            ("zoo-core", "zoo_version"),
            (row["plugin"], "plugin_version"),
            ("torch", "torch_version"),
            ("numpy", "numpy_version"),
            ("python", "python_version"),
        )
        if row[key]
    )
    fields = [
        ("run", row["run_id"]),
        ("status", row["status"] + (f" ({row['error']})" if row["error"] else "")),
        ("model", f"{row['model']} (plugin {row['plugin']})"),
        ("dataset", row["dataset"]),
        ("seed", row["seed"]),
        ("device", row["device"] + (f", {row['threads']} threads" if row["threads"] else "")),
        ("settings", settings),
        ("started", f"{row['started_at']}, took {row['duration_s']:.1f} s"),
        ("parameters", f"{row['num_params']:,}"),
        ("versions", versions),
        ("git commit", row["git_commit"] or "-"),
        ("core commit", row["core_git_commit"] or "-"),
        ("data", row["dataset_fingerprint"] or "-"),
    ]
    width = max(len(key) for key, _ in fields)
    for key, value in fields:
        print(f"{key:<{width}}  {value}")
    print("metrics")
    for name, value in sorted(metric_values(row).items()):
        print(f"  {name:<{width - 2}}  {value:.6g}")
    print(f"artefacts{' (folder missing)' if folder and not artefacts else ''}")
    for path in artefacts:
        print(f"  {path}")
    if folder and (folder / INCOMPLETE).exists():
        print(f"zoo: warning: {folder} is marked incomplete", file=sys.stderr)
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from .home import zoo_home
    from .reproduce import reproduce

    check = reproduce(
        args.run_id,
        zoo_home(args.home),
        device=None if args.device == "recorded" else args.device,
        keep=args.keep,
        notify=lambda message: print(f"zoo: {message}", file=sys.stderr),
    )
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
                    "version_changes": check.version_changes,
                },
                indent=2,
            )
        )
        return 0 if check.matches else 1
    print(f"{stored['model']} on {stored['dataset']} (seed {stored['seed']}), run {stored['run_id']}")
    _print_table(
        [
            [m.name, _number(m.stored), _number(m.reproduced), "yes" if m.matches else "NO"]
            for m in check.metrics
        ],
        ["metric", "stored", "reproduced", "identical"],
    )
    verdict = {True: "identical", False: "DIFFERENT", None: "not recorded for this run"}
    print(f"data fingerprint: {verdict[check.same_data]}")
    print(f"weights: {verdict[check.same_weights]}")
    for key, (before, after) in sorted(check.version_changes.items()):
        print(f"note: {key.replace('_', ' ')} was {before}, is {after}")
    print("reproduced exactly" if check.matches else "NOT reproduced: some metrics differ")
    return 0 if check.matches else 1


def _number(value: float | None) -> str:
    return "-" if value is None else repr(value)


def build_parser() -> argparse.ArgumentParser:
    from .devices import DEVICES
    from .leaderboard import FORMATS
    from .specs import TASKS

    parser = _Parser(prog="zoo", description="A plugin-based model zoo for PyTorch lessons.")
    parser.add_argument("--version", action="version", version=f"zoo-core {__version__}")
    parser.add_argument(
        "--home", help="zoo home folder for results and data (default: $ZOO_HOME or per-user)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    p = commands.add_parser("list", help="list models, datasets and metrics")
    p.add_argument("--task", choices=TASKS)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_list)

    p = commands.add_parser("plugins", help="list installed plugins and their status")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_plugins)

    p = commands.add_parser("info", help="everything known about a model, dataset or metric")
    p.add_argument("name")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_info)

    p = commands.add_parser("run", help="train and evaluate a model, recording the result")
    p.add_argument("name", nargs="?", help="model name")
    p.add_argument(
        "--all", action="store_true", help="every model on its default dataset, then the baselines"
    )
    p.add_argument("--dataset", help="dataset name (default: the model's default dataset)")
    p.add_argument("--epochs", type=int, help="training epochs (gradient-trained models)")
    seeds = p.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    seeds.add_argument("--seeds", help="comma-separated seeds, one run each, e.g. 0,1,2")
    p.add_argument("--device", default="auto", choices=DEVICES, help="default auto: CUDA, then MPS, then CPU")
    p.add_argument(
        "--threads", type=int, help="CPU threads for torch (default: torch's choice, one per core)"
    )
    p.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="override a hyperparameter (repeatable)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print one JSON object per run")
    p.set_defaults(handler=cmd_run)

    p = commands.add_parser("leaderboard", help="aggregate recorded runs: mean ± std over seeds")
    p.add_argument("--task", choices=TASKS)
    p.add_argument("--dataset")
    p.add_argument("--model")
    p.add_argument("--format", default="table", choices=FORMATS)
    p.add_argument("--output", type=Path, help="write to FILE instead of stdout")
    p.add_argument("--plot", type=Path, metavar="FILE.png", help="bar chart of each dataset's primary metric")
    p.set_defaults(handler=cmd_leaderboard)

    p = commands.add_parser("runs", help="list recorded runs, oldest first")
    p.add_argument("--model")
    p.add_argument("--dataset")
    p.add_argument("--limit", type=int, default=20, help="show the last N runs (default 20)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_runs)

    p = commands.add_parser("show", help="a stored run's config, provenance, metrics and files")
    p.add_argument("run_id", metavar="RUN_ID", help="a run id, or a unique start of one")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_show)

    p = commands.add_parser("reproduce", help="re-run a stored run and compare its metrics")
    p.add_argument("run_id", metavar="RUN_ID", help="a run id, or a unique start of one")
    p.add_argument(
        "--device", default="recorded", choices=("recorded", *DEVICES), help="default: the run's own"
    )
    p.add_argument("--keep", type=Path, metavar="DIR", help="keep the re-run's folder and row in DIR")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_reproduce)

    p = commands.add_parser("new-plugin", help="write a minimal working plugin package to start from")
    p.add_argument("name", help="the plugin's name, lowercase kebab-case (distribution zoo-NAME)")
    p.add_argument("--dir", default=".", help="where to create the NAME folder (default: here)")
    p.set_defaults(handler=cmd_new_plugin)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ZooError as exc:
        print(f"zoo: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("zoo: interrupted; nothing was recorded for the unfinished run", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `zoo list | head`: the reader left; silence the flush at exit, as Python's docs advise.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
