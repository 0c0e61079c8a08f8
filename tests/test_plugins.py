"""Plugin discovery through real entry points, isolation of broken plugins, duplicates."""

from __future__ import annotations

import json
from pathlib import Path

from zoo_core.testing import run_zoo

BROKEN = "import not_a_module_anywhere\n"
MISSPELLED = "from zoo_core import hookimpl\n\n@hookimpl\ndef zoo_modles():\n    return []\n"
DUPLICATE = (
    "from zoo_core import hookimpl, ModelSpec\n\n@hookimpl\ndef zoo_models():\n"
    "    return [ModelSpec('toy-mlp', 'classification', 'x:y', 'copy', 'test')]\n"
)


def plugins_json(home: Path, env: dict[str, str], **kw) -> dict[str, dict]:
    out = run_zoo("plugins", "--json", home=home, env=env, **kw).stdout
    return {p["name"]: p for p in json.loads(out)}


def test_plugin_found_through_its_entry_point(home, env):
    plugins = plugins_json(home, env)
    assert plugins["toy"]["distribution"] == "zoo-toy"
    assert plugins["toy"]["version"] == "0.3"
    assert plugins["toy"]["status"] == "ok"
    assert plugins["toy"]["hooks"] == ["zoo_datasets", "zoo_models"]
    assert plugins["zoo-core"]["hooks"] == ["zoo_metrics", "zoo_models"]
    listed = json.loads(run_zoo("list", "--json", home=home, env=env).stdout)
    toy_mlp = next(m for m in listed["models"] if m["name"] == "toy-mlp")
    assert {"name": "toy-mlp", "task": "classification", "plugin": "toy"}.items() <= toy_mlp.items()


def test_broken_plugin_is_reported_not_fatal(home, env, install):
    install("zoo-broken", "1.0", {"broken": "zoo_broken"}, {"zoo_broken": BROKEN})
    env = {**env, "ZOO_PLUGINS": "toy,broken"}
    plugins = plugins_json(home, env)
    assert plugins["broken"]["status"] == "broken"
    assert "ModuleNotFoundError" in plugins["broken"]["error"]
    assert plugins["toy"]["status"] == "ok"
    listing = run_zoo("list", home=home, env=env)
    assert "toy-mlp" in listing.stdout
    assert "plugin 'broken' (zoo-broken 1.0) is broken: ModuleNotFoundError" in listing.stderr


def test_strict_mode_makes_a_broken_plugin_fatal(home, env, install):
    install("zoo-broken", "1.0", {"broken": "zoo_broken"}, {"zoo_broken": BROKEN})
    result = run_zoo(
        "list", home=home, env={**env, "ZOO_PLUGINS": "toy,broken", "ZOO_STRICT_PLUGINS": "1"}, check=False
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "zoo-broken 1.0" in result.stderr and "Traceback" not in result.stderr


def test_misspelled_hook_is_an_error(home, env, install):
    install("zoo-typo", "0.1", {"typo": "zoo_typo"}, {"zoo_typo": MISSPELLED})
    plugins = plugins_json(home, {**env, "ZOO_PLUGINS": "toy,typo"})
    assert plugins["typo"]["status"] == "broken"
    assert "zoo_modles" in plugins["typo"]["error"]
    assert plugins["toy"]["status"] == "ok"


def test_duplicate_names_name_both_distributions(home, env, install):
    install("zoo-copycat", "2.0", {"copycat": "zoo_copycat"}, {"zoo_copycat": DUPLICATE})
    result = run_zoo("list", home=home, env={**env, "ZOO_PLUGINS": "toy,copycat"}, check=False)
    assert result.returncode == 2
    assert "model 'toy-mlp' is registered by both" in result.stderr
    assert "zoo-copycat 2.0" in result.stderr and "zoo-toy 0.3" in result.stderr


def test_zoo_plugins_selects_and_empty_selects_none(home, env, install):
    install("zoo-broken", "1.0", {"broken": "zoo_broken"}, {"zoo_broken": BROKEN})
    assert set(plugins_json(home, {**env, "ZOO_PLUGINS": "toy"})) == {"zoo-core", "toy"}
    assert set(plugins_json(home, {**env, "ZOO_PLUGINS": ""})) == {"zoo-core"}


def test_plugins_load_once_per_process(in_process):
    from zoo_core.plugins import load_plugins
    from zoo_core.registry import get_registry

    assert load_plugins() is load_plugins()
    assert get_registry() is get_registry()
    assert "toy-mlp" in get_registry().models


def test_trace_prints_hook_calls(home, env):
    result = run_zoo("list", home=home, env={**env, "ZOO_TRACE": "1"})
    assert "zoo_models" in result.stderr


def test_the_toy_plugin_passes_the_conformance_kit(in_process):
    from zoo_core.testing import check_plugin

    check_plugin("toy")
