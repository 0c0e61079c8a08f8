"""Plugin discovery through real entry points, and a plugin that can only hurt itself: broken
imports, misspelled or unmarked hooks, clashing names, garbage specs."""

from __future__ import annotations

import json

import pytest

BROKEN = "import not_a_module_anywhere\n"
MISSPELLED = "from zoo_core import hookimpl\n\n@hookimpl\ndef zoo_modles():\n    return []\n"
MODEL = (
    "from zoo_core import hookimpl, ModelSpec\n\n@hookimpl\ndef zoo_models():\n"
    "    return [ModelSpec(name={name!r}, task='classification', factory='x:y', summary='copy', "
    "reference='t')]\n"
)
METRIC = (
    "from zoo_core import hookimpl, MetricSpec\n\n@hookimpl\ndef zoo_metrics():\n"
    "    return [MetricSpec(name={name!r}, task='classification', fn='x:y', higher_is_better=True, "
    "summary='copy')]\n"
)


def plugins_json(zoo, **kw) -> dict[str, dict]:
    return {p["name"]: p for p in json.loads(zoo("plugins", "--json", **kw).stdout)}


def test_plugin_found_through_its_entry_point(zoo):
    plugins = plugins_json(zoo)
    assert plugins["toy"]["distribution"] == "zoo-toy"
    assert plugins["toy"]["version"] == "0.3"
    assert plugins["toy"]["status"] == "ok"
    assert plugins["toy"]["hooks"] == ["zoo_datasets", "zoo_models"]
    assert plugins["zoo-core"]["hooks"] == ["zoo_metrics", "zoo_models"]
    listed = json.loads(zoo("list", "--json").stdout)
    toy_mlp = next(m for m in listed["models"] if m["name"] == "toy-mlp")
    assert {"name": "toy-mlp", "task": "classification", "plugin": "toy"}.items() <= toy_mlp.items()


@pytest.mark.parametrize(
    "source, error",
    [
        (BROKEN, "ModuleNotFoundError"),
        ("import sys\nsys.exit(3)\n", "SystemExit: 3"),
        ("raise SystemExit('bye')\n", "SystemExit: bye"),
        ("raise RuntimeError('no')\n", "RuntimeError: no"),
        ("1/0\n", "ZeroDivisionError"),
    ],
)
def test_a_plugin_that_fails_to_import_is_reported_not_fatal(zoo, install, source, error):
    install("zoo-broken", "1.0", {"broken": "zoo_broken"}, {"zoo_broken": source})
    env = {"ZOO_PLUGINS": "toy,broken"}
    plugins = plugins_json(zoo, env=env)
    assert plugins["broken"]["status"] == "broken"
    assert error in plugins["broken"]["error"]
    assert plugins["toy"]["status"] == "ok"
    listing = zoo("list", env=env)
    assert "toy-mlp" in listing.stdout
    assert f"plugin 'broken' (zoo-broken 1.0) is broken: {error}" in listing.stderr
    assert zoo.json("run", "toy-mlp", "--quiet", env=env)[0]["status"] == "ok"


def test_strict_mode_makes_a_broken_plugin_fatal(zoo, install):
    install("zoo-broken", "1.0", {"broken": "zoo_broken"}, {"zoo_broken": BROKEN})
    result = zoo("list", env={"ZOO_PLUGINS": "toy,broken", "ZOO_STRICT_PLUGINS": "1"}, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "zoo-broken 1.0" in result.stderr and "Traceback" not in result.stderr


def test_misspelled_hook_is_an_error(zoo, install):
    install("zoo-typo", "0.1", {"typo": "zoo_typo"}, {"zoo_typo": MISSPELLED})
    plugins = plugins_json(zoo, env={"ZOO_PLUGINS": "toy,typo"})
    assert plugins["typo"]["status"] == "broken"
    assert "zoo_modles" in plugins["typo"]["error"]
    assert plugins["toy"]["status"] == "ok"


def test_unmarked_hook_is_shown_as_a_warning(zoo, install):
    unmarked = (
        MODEL.format(name="unmarked-net").replace("@hookimpl\n", "")
        + "\n@hookimpl\ndef zoo_metrics():\n    return []\n"
    )
    install("zoo-unmarked", "0.1", {"unmarked": "zoo_unmarked"}, {"zoo_unmarked": unmarked})
    plugins = plugins_json(zoo, env={"ZOO_PLUGINS": "toy,unmarked"})
    assert plugins["unmarked"]["status"] == "warning"
    assert plugins["unmarked"]["warnings"] == [
        "zoo_models looks like a hook but lacks @zoo_core.hookimpl, so it never runs"
    ]
    table = zoo("plugins", env={"ZOO_PLUGINS": "toy,unmarked"}).stdout
    assert "lacks @zoo_core.hookimpl" in table


@pytest.mark.parametrize(
    "source, kind, name",
    [
        (MODEL.format(name="toy-mlp"), "model", "toy-mlp"),
        (MODEL.format(name="toy-mlp") + METRIC.format(name="toy-score"), "model", "toy-mlp"),
        (
            "from zoo_core import hookimpl, DatasetSpec\n\n@hookimpl\ndef zoo_datasets():\n"
            "    return [DatasetSpec(name='toy-points', task='classification', loader='x:y', "
            "description='d', source='s', license='l', input_shape=(2,), train_size=1, test_size=1, "
            "classes=('a', 'b'))]\n",
            "dataset",
            "toy-points",
        ),
    ],
)
def test_a_name_two_plugins_register_is_withdrawn_from_both(zoo, install, source, kind, name):
    install("zoo-copycat", "2.0", {"copycat": "zoo_copycat"}, {"zoo_copycat": source})
    env = {"ZOO_PLUGINS": "toy,copycat"}
    result = zoo("list", "--json", env=env)
    listed = json.loads(result.stdout)
    assert name not in [item["name"] for item in listed[f"{kind}s"]]
    clash = [line for line in result.stderr.splitlines() if "registered by both" in line]
    assert len(clash) == 1, result.stderr
    assert "zoo-copycat 2.0" in clash[0] and "zoo-toy 0.3" in clash[0] and "withdrawn from both" in clash[0]
    # Everything else works: the rest of both plugins, and every command.
    assert "toy-net" in [m["name"] for m in listed["models"]]
    assert "toy-score" in [m["name"] for m in listed["metrics"]] or "toy-score" not in source
    plugins = plugins_json(zoo, env=env)
    assert plugins["copycat"]["status"] == plugins["toy"]["status"] == "warning"
    assert zoo.json("run", "toy-net", "--quiet", env=env)[0]["status"] == "ok"
    strict = zoo("list", env={**env, "ZOO_STRICT_PLUGINS": "1"}, check=False)
    assert strict.returncode == 2 and "registered by both" in strict.stderr
    shown = zoo("plugins", env={**env, "ZOO_STRICT_PLUGINS": "1"}, check=False)
    assert "registered by both" in shown.stdout and shown.returncode == 2


def test_a_plugin_cannot_replace_a_name_of_the_core(zoo, install):
    install("zoo-copycat", "2.0", {"copycat": "zoo_copycat"}, {"zoo_copycat": METRIC.format(name="accuracy")})
    result = zoo("list", "--json", env={"ZOO_PLUGINS": "toy,copycat"})
    accuracy = [m for m in json.loads(result.stdout)["metrics"] if m["name"] == "accuracy"]
    assert [m["plugin"] for m in accuracy] == ["zoo-core"]
    assert "zoo-core's own is kept" in result.stderr


GARBAGE = {
    "defaults=None": ("defaults=None", "defaults must be a mapping"),
    "name with a slash": ("name='../escape'", "must be lowercase kebab-case"),
    "name with dots": ("name='..'", "must be lowercase kebab-case"),
    "empty name": ("name=''", "must be a non-empty string"),
    "name not a string": ("name=7", "must be a non-empty string"),
    "unknown task": ("task='regression'", "task 'regression' is not one of"),
    "empty summary": ("summary=''", "summary must be a non-empty string"),
    "bounds for nothing": ("bounds={'depth': (1, 2)}", "bounds name 'depth', which has no default"),
    "choices for nothing": ("choices={'kind': ('a',)}", "choices name 'kind', which has no default"),
    "a list as a default": ("defaults={'sizes': [1, 2]}", "sizes=[1, 2] is not a bool, int, float or str"),
    "nan default": ("defaults={'rate': float('nan')}", "rate=nan is not finite"),
    "trainer setting in defaults": ("defaults={'epochs': 3}", "defaults name trainer settings (epochs)"),
    "unknown trainer setting": ("trainer={'momentum': 0.9}", "trainer names momentum"),
    "default outside its bounds": (
        "defaults={'width': 0}, bounds={'width': (1, None)}",
        "its defaults are refused: width must be at least 1, got 0",
    ),
    "factory not a reference": ("factory='no colon'", "must be a callable or a 'package.module:attribute'"),
}


@pytest.mark.parametrize("case", sorted(GARBAGE))
def test_a_garbage_spec_is_refused_and_the_rest_of_the_plugin_loads(zoo, install, case):
    fields, message = GARBAGE[case]
    base = {"name": "'good-net'", "task": "'classification'", "factory": "'x:y'", "summary": "'s'"}
    given = dict(field.split("=", 1) for field in [f.strip() for f in _split(fields)])
    arguments = ", ".join(f"{k}={v}" for k, v in {**base, "reference": "'r'", **given}.items())
    source = (
        "from zoo_core import hookimpl, ModelSpec\n\n@hookimpl\ndef zoo_models():\n"
        f"    return [ModelSpec({arguments}),\n"
        "            ModelSpec(name='kept-net', task='classification', factory='x:y', summary='s',\n"
        "                      reference='r')]\n"
    )
    install("zoo-junk", "0.1", {"junk": "zoo_junk"}, {"zoo_junk": source})
    result = zoo("list", "--json", env={"ZOO_PLUGINS": "toy,junk"})
    models = [m["name"] for m in json.loads(result.stdout)["models"]]
    assert "kept-net" in models and "toy-mlp" in models
    refused = [line for line in result.stderr.splitlines() if "refused" in line]
    assert len(refused) == 1 and message in refused[0], result.stderr
    assert "Traceback" not in result.stderr
    assert plugins_json(zoo, env={"ZOO_PLUGINS": "toy,junk"})["junk"]["status"] == "warning"


def _split(fields: str) -> list[str]:
    """Split ``a=1, b={'x': (1, 2)}`` at the top-level commas."""
    parts, depth, current = [], 0, ""
    for char in fields:
        depth += char in "([{" and 1 or char in ")]}" and -1 or 0
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def test_a_hook_that_raises_breaks_only_its_plugin(zoo, install):
    raising = "from zoo_core import hookimpl\n\n@hookimpl\ndef zoo_models():\n    raise SystemExit(1)\n"
    install("zoo-raiser", "0.1", {"raiser": "zoo_raiser"}, {"zoo_raiser": raising})
    env = {"ZOO_PLUGINS": "toy,raiser"}
    assert plugins_json(zoo, env=env)["raiser"]["status"] == "broken"
    assert "toy-mlp" in zoo("list", env=env).stdout


def test_zoo_plugins_selects_and_empty_selects_none(zoo, install):
    install("zoo-broken", "1.0", {"broken": "zoo_broken"}, {"zoo_broken": BROKEN})
    assert set(plugins_json(zoo, env={"ZOO_PLUGINS": "toy"})) == {"zoo-core", "toy"}
    assert set(plugins_json(zoo, env={"ZOO_PLUGINS": ""})) == {"zoo-core"}


def test_unknown_model_says_that_zoo_plugins_is_set(zoo):
    result = zoo("run", "knn", env={"ZOO_PLUGINS": "toy"}, check=False)
    assert result.returncode == 2
    assert "unknown model 'knn'" in result.stderr and "ZOO_PLUGINS='toy' is set" in result.stderr
    unset = zoo("info", "nothing-here", env={"ZOO_PLUGINS": None}, check=False)
    assert "ZOO_PLUGINS" not in unset.stderr


def test_plugins_load_once_per_process(in_process):
    from zoo_core.plugins import load_plugins
    from zoo_core.registry import get_registry

    assert load_plugins() is load_plugins()
    assert get_registry() is get_registry()
    assert "toy-mlp" in get_registry().models


def test_trace_prints_hook_calls(zoo):
    result = zoo("list", env={"ZOO_TRACE": "1"})
    assert "zoo_models" in result.stderr


def test_the_toy_plugin_passes_the_conformance_kit(in_process):
    from zoo_core.testing import check_plugin

    check_plugin("toy")
