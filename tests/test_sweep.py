"""`zoo sweep` in this process (--workers 1): planning, identity, resuming, recording.

The Dask executors (a LocalCluster, a scheduler's workers) have their own tests in
tests/cluster/, run by `nox -s sweeps`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zoo_core.errors import ZooError
from zoo_core.grid import SweepRequest, parse_grid, parse_seeds, plan_sweep, read_sweep_file, request_from
from zoo_core.store import Store


def test_grids_and_seeds_are_parsed_strictly():
    assert parse_grid(["k=1,3, 5", "metric=cosine"]) == {"k": ("1", "3", "5"), "metric": ("cosine",)}
    for bad, message in [
        (["k="], "needs values"),
        (["k=1,,3"], "needs values"),
        (["k"], "expects NAME=V1,V2"),
        (["=1,2"], "expects NAME=V1,V2"),
        (["k=1", "k=2"], "given twice"),
        (["k=1,3,1"], "lists '1' twice"),
    ]:
        with pytest.raises(ZooError, match=message):
            parse_grid(bad)
    assert parse_seeds("0-4") == (0, 1, 2, 3, 4)
    assert parse_seeds("0,2,1") == (0, 2, 1)
    assert parse_seeds("0-2,7") == (0, 1, 2, 7)
    for bad, message in [
        ("3-1", "empty"),
        ("a", "expects 0-9"),
        ("1,1", "twice"),
        ("-1", "seed must be between"),
        ("0-99999999", "more than"),
    ]:
        with pytest.raises(ZooError, match=message):
            parse_seeds(bad)


@pytest.fixture
def registry(in_process):
    from zoo_core.registry import get_registry

    return get_registry()


def test_a_plan_is_the_product_and_each_run_has_its_identity(registry):
    request = SweepRequest(models=("toy-mlp",), grid={"hidden": ("4", "8")}, seeds=(0, 1, 2))
    plan = plan_sweep(registry, request)
    assert [(r.plan.settings.model["hidden"], r.seed) for r in plan.runs] == [
        (4, 0), (4, 1), (4, 2), (8, 0), (8, 1), (8, 2),
    ]  # fmt: skip
    assert len({run.keys[0] for run in plan.runs}) == 6
    again = plan_sweep(registry, SweepRequest(models=("toy-mlp",), grid={"hidden": (4, 8)}, seeds=(0, 1, 2)))
    assert again.sweep_id == plan.sweep_id  # typed values from a sweep file plan the same runs
    assert plan.runs[0].label == "toy-mlp on toy-points (hidden=4, seed 0)"
    bigger = plan_sweep(registry, SweepRequest(models=("toy-mlp",), grid={"hidden": ("4", "8", "16")}))
    assert bigger.sweep_id != plan.sweep_id


def test_all_leaves_out_what_does_not_take_the_grid_and_says_why(registry):
    plan = plan_sweep(registry, SweepRequest(all_models=True, grid={"hidden": ("4", "8")}))
    assert sorted({run.model for run in plan.runs}) == ["toy-fallback", "toy-mlp"]
    assert dict(plan.skipped) == {
        "last-value": "it takes no hidden",
        "majority-class": "it takes no hidden",
        "toy-net": "it takes no hidden",
    }
    # --set trainer settings go to the models that train, as with `zoo run --all --epochs 1`.
    quick = plan_sweep(registry, SweepRequest(all_models=True, all_datasets=True, fixed={"epochs": "1"}))
    pairs = {run.plan.name for run in quick.runs}
    assert {"majority-class on toy-points", "last-value on toy-wave", "toy-mlp on toy-file"} <= pairs
    assert all(run.plan.settings.trainer.get("epochs", 1) == 1 for run in quick.runs)
    assert "toy-mlp on toy-triples" not in pairs  # it needs two features: not a pair to run
    assert "majority-class on toy-wave" not in pairs  # --all-datasets: only what each model fits


@pytest.mark.parametrize(
    "request_, message",
    [
        (SweepRequest(models=("toy-mlp",), grid={"hidden": ("1", "x")}), "hidden expects int, got 'x'"),
        (SweepRequest(models=("toy-mlp",), grid={"hiden": ("1",)}), "did you mean 'hidden'"),
        (SweepRequest(models=("toy-mlp",), grid={"hidden": ("0",)}), "hidden must be between 1 and 1024"),
        (
            SweepRequest(models=("toy-mlp", "toy-net"), fixed={"hidden": "4"}),
            "unknown hyperparameter 'hidden'",
        ),
        (SweepRequest(models=("toy-mlp",), datasets=("toy-wave",)), "the sweep plans no run"),
        (SweepRequest(models=("toy-mlp",), grid={"lr": ("0.1",)}, fixed={"lr": "0.2"}), "both in --grid"),
        (SweepRequest(models=("nope",)), "unknown model 'nope'"),
        (SweepRequest(), "give model names or --all"),
    ],
)
def test_a_bad_request_stops_the_plan(registry, request_, message):
    with pytest.raises(ZooError, match=message):
        plan_sweep(registry, request_)


def test_a_sweep_file_and_the_command_line(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text('models = ["toy-mlp"]\nseeds = "0-2"\n[grid]\nhidden = [4, 8]\n[set]\nepochs = 2\n')
    read = read_sweep_file(path)
    request = request_from(read, models=(), seeds=(5,), grid={"activation": ("tanh",)}, fixed={})
    assert request.models == ("toy-mlp",) and request.seeds == (5,)
    assert request.grid == {"hidden": (4, 8), "activation": ("tanh",)} and request.fixed == {"epochs": 2}
    assert request_from(read, all_models=True).models == ()  # --all replaces the file's models
    for text, message in [
        ("model = ['x']", "unknown key 'model'; did you mean 'models'"),
        ("[grid]\nk = 3", "non-empty list"),
        ("[set]\nk = [3]", "belongs in \\[grid\\]"),
        ("seeds = 1.5", "seeds must be"),
        ("models = [", "not valid TOML"),
    ]:
        path.write_text(text)
        with pytest.raises(ZooError, match=message):
            read_sweep_file(path)


def sweep(zoo, *args, home=None, check=True, env=None):
    return zoo("sweep", *args, "--threads", "1", "--quiet", "--json", home=home, check=check, env=env)


def test_a_sweep_records_each_run_once_and_resumes(home, zoo):
    first = sweep(zoo, "toy-mlp", "--grid", "hidden=4,8", "--seeds", "0-1")
    runs = first.json_lines()
    assert [(r["settings"]["hidden"], r["seed"], r["status"]) for r in runs] == [
        ("4", 0, "ok"), ("4", 1, "ok"), ("8", 0, "ok"), ("8", 1, "ok"),
    ]  # fmt: skip
    sweep_id = runs[0]["sweep_id"]
    rows = Store(home / "results.sqlite").rows()
    assert {r["sweep_id"] for r in rows} == {sweep_id} and len({r["run_key"] for r in rows}) == 4
    for row in rows:  # the same folder layout as `zoo run`, recorded by the client
        folder = Path(row["run_dir"])
        assert folder.parent == home / "runs" and not (folder / "INCOMPLETE").exists()
        assert {"config.json", "metrics.json", "weights.pt"} <= {p.name for p in folder.iterdir()}
    again = sweep(zoo, "toy-mlp", "--grid", "hidden=4,8", "--seeds", "0-1")
    assert again.json_lines() == [] and "all 4 runs are recorded already" in again.stderr
    wider = sweep(zoo, "toy-mlp", "--grid", "hidden=4,8,16", "--seeds", "0-1")
    assert [(r["settings"], r["seed"]) for r in wider.json_lines()] == [
        ({"hidden": "16"}, 0),
        ({"hidden": "16"}, 1),
    ]
    assert "2 of 6 runs to go, 4 recorded already" in wider.stderr
    forced = sweep(zoo, "toy-mlp", "--grid", "hidden=4,8", "--seeds", "0-1", "--rerun")
    assert len(forced.json_lines()) == 4 and len(Store(home / "results.sqlite").rows()) == 10
    board = json.loads(zoo("leaderboard", "--sweep", sweep_id[:12], "--format", "json").stdout)
    assert sorted((b["settings"], b["runs"]) for b in board) == [("", 2), ("hidden=4", 2)]


def test_a_swept_run_equals_zoo_run_and_reproduces(home, zoo):
    [swept] = sweep(zoo, "toy-mlp", "--set", "hidden=6", "--seeds", "3").json_lines()
    [single] = zoo.json("run", "toy-mlp", "--set", "hidden=6", "--seed", "3", "--threads", "1", "--quiet")
    assert swept["metrics"] == single["metrics"]  # bit for bit: same settings, seed and threads
    rows = {r["run_id"]: r for r in Store(home / "results.sqlite").rows()}
    assert rows[swept["run_id"]]["run_key"] == rows[single["run_id"]]["run_key"]
    assert rows[swept["run_id"]]["threads"] == 1
    assert "reproduced exactly" in zoo("reproduce", swept["run_id"]).stdout
    # `zoo run` recorded the same identity: a sweep asking for it finds it done.
    assert (
        "all 1 runs are recorded already" in sweep(zoo, "toy-mlp", "--set", "hidden=6", "--seeds", "3").stderr
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["toy-mlp", "--grid", "hidden="], "--grid hidden needs values separated by commas"),
        (["toy-mlp", "--grid", "hidden=1,x"], "hidden expects int, got 'x'"),
        (["toy-mlp", "--grid", "width=1,2"], "unknown setting 'width'"),
        (["toy-mlp", "--dataset", "toy-wave"], "the sweep plans no run"),
        (["toy-mlp", "--seeds", "2-1"], "--seeds range 2-1 is empty"),
        (["toy-mlp", "--workers", "0"], "--workers must be between"),
    ],
)
def test_a_bad_sweep_exits_2_with_one_line_before_anything_runs(home, zoo, args, message):
    result = zoo("sweep", *args, check=False)
    assert result.returncode == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""
    assert not (home / "results.sqlite").exists() and not (home / "runs").exists()


def test_a_dry_run_prints_the_plan_and_writes_nothing(home, zoo):
    sweep(zoo, "toy-mlp", "--seeds", "0")
    text = zoo("sweep", "--all", "--grid", "hidden=4,8", "--seeds", "0-1", "--dry-run").stdout
    lines = text.splitlines()
    assert lines[0].endswith(": 8 runs, 1 recorded already, 7 to run")  # hidden=8 is the default
    assert "  4  toy-fallback on toy-file" in lines and "  4  toy-mlp on toy-points" in lines
    assert "skipped toy-net: it takes no hidden" in lines
    plan = json.loads(zoo("sweep", "toy-mlp", "--seeds", "0-1", "--dry-run", "--json").stdout)
    assert (plan["runs"], plan["done"], plan["to_run"]) == (2, 1, 1)
    assert len(Store(home / "results.sqlite").rows()) == 1


def test_a_sweep_file_plans_what_the_same_options_plan(home, tmp_path, zoo):
    path = tmp_path / "sweep.toml"
    path.write_text('models = ["toy-mlp"]\nseeds = "0-2"\n[grid]\nhidden = [4, 8]\n[set]\nepochs = 2\n')
    from_file = json.loads(zoo("sweep", "--file", str(path), "--dry-run", "--json").stdout)
    options = ["toy-mlp", "--grid", "hidden=4,8", "--seeds", "0-2", "--set", "epochs=2"]
    assert from_file == json.loads(zoo("sweep", *options, "--dry-run", "--json").stdout)
    assert from_file["runs"] == 6
    # Options on the command line override the file's: here its seeds.
    fewer = json.loads(zoo("sweep", "--file", str(path), "--seeds", "5", "--dry-run", "--json").stdout)
    assert fewer["runs"] == 2 and fewer["sweep_id"] != from_file["sweep_id"]
    path.write_text("[grid]\nhidden = 4\n")
    bad = zoo("sweep", "--file", str(path), check=False)
    assert bad.returncode == 2 and "grid hidden must be a non-empty list of values" in bad.stderr


def test_refusals_are_said_once_and_tried_again_next_time(home, zoo):
    result = sweep(zoo, "toy-fallback", "--dataset", "toy-file", "--seeds", "0-2", check=False)
    assert result.returncode == 0
    assert [r["status"] for r in result.json_lines()] == ["refused"] * 3
    said = [line for line in result.stderr.splitlines() if "skipped" in line]
    assert said == [f"zoo: skipped toy-fallback on toy-file: put toy.csv into {home / 'data'}"]
    assert Store(home / "results.sqlite").rows() == []
    (home / "data").mkdir()
    (home / "data" / "toy.csv").write_text("0,0,0\n1,1,1\n0,1,0\n1,0,1\n")
    assert len(sweep(zoo, "toy-fallback", "--dataset", "toy-file", "--seeds", "0-2").json_lines()) == 3


def test_a_fallback_run_counts_as_done(home, zoo):
    [run] = sweep(zoo, "toy-fallback").json_lines()
    assert run["dataset"] == "toy-points"  # its own dataset needs a file: it fell back, as `zoo run` does
    assert "all 1 runs are recorded already" in sweep(zoo, "toy-fallback").stderr


CRASHING = """
import torch
from zoo_core import hookimpl, ModelSpec


class Crashing:
    def __init__(self, dataset, crash=True):
        self.crash = crash

    def fit(self, x, y):
        if self.crash:
            raise RuntimeError("a bug in the plugin")

    def predict(self, x):
        return torch.zeros(len(x), dtype=torch.int64)

    def state_dict(self):
        return {"w": torch.zeros(1)}


@hookimpl
def zoo_models():
    return [ModelSpec(name="crashing", task="classification", factory="zoo_crash:Crashing", summary="s",
                      reference="r", gradient=False, defaults={"crash": True}, default_dataset="toy-points")]


@hookimpl
def zoo_run_finished(config, result):
    from zoo_core.layout import database_path
    from zoo_core.store import Store

    recorded = [r["run_id"] for r in Store(database_path(config.run_dir.parent.parent)).rows()]
    FINISHED.append((result.status, config.run_id in recorded))


FINISHED = []
"""


def test_a_crash_is_recorded_as_failed_and_the_sweep_goes_on(home, zoo, install):
    import sys

    install("zoo-crash", "1.0", {"crash": "zoo_crash"}, {"zoo_crash": CRASHING})
    env = {"ZOO_PLUGINS": "toy,crash"}
    result = sweep(zoo, "crashing", "--grid", "crash=true,false", "--seeds", "0-1", check=False, env=env)
    assert result.returncode == 1
    assert [r["status"] for r in result.json_lines()] == ["failed", "failed", "ok", "ok"]
    rows = Store(home / "results.sqlite").rows()
    failed = [r for r in rows if r["status"] == "failed"]
    assert len(failed) == 2 and all("a bug in the plugin" in r["error"] for r in failed)
    assert all("Traceback" in (Path(r["run_dir"]) / "error.txt").read_text() for r in failed)
    # zoo_run_finished fires in the recording process, once the row is in the store.
    assert sys.modules["zoo_crash"].FINISHED == [("failed", True)] * 2 + [("ok", True)] * 2
    # Failed runs are not done: the same sweep runs them again (crash=true is the default).
    again = sweep(zoo, "crashing", "--seeds", "0-1", check=False, env=env)
    assert "2 of 2 runs to go" in again.stderr


STOPPING = """
from zoo_core import hookimpl


@hookimpl
def zoo_epoch_finished(config, epoch, loss, validation):
    if config.seed == 2:
        raise KeyboardInterrupt
"""


def test_an_interrupted_sweep_resumes_to_what_an_uninterrupted_one_records(home, tmp_path, zoo, install):
    install("zoo-stop", "1.0", {"stop": "zoo_stop"}, {"zoo_stop": STOPPING})
    args = ["toy-mlp", "--grid", "hidden=4,8", "--seeds", "0-3"]
    stopped = sweep(zoo, *args, check=False, env={"ZOO_PLUGINS": "toy,stop"})
    assert stopped.returncode == 130 and "run the same command again" in stopped.stderr
    assert [r["seed"] for r in stopped.json_lines()] == [0, 1]
    assert len(Store(home / "results.sqlite").rows()) == 2
    assert not (home / "runs" / "x").exists() and len(list((home / "runs").iterdir())) == 2
    resumed = sweep(zoo, *args)
    assert [(r["settings"]["hidden"], r["seed"]) for r in resumed.json_lines()] == [
        ("4", 2), ("4", 3), ("8", 0), ("8", 1), ("8", 2), ("8", 3),
    ]  # fmt: skip
    whole = tmp_path / "whole"
    sweep(zoo, *args, home=whole)

    def store(path: Path) -> list[tuple]:
        return sorted((r["run_key"], r["status"], json.dumps(r["metrics"])) for r in Store(path).rows())

    assert store(home / "results.sqlite") == store(whole / "results.sqlite")
    assert len(list((home / "runs").iterdir())) == 8
