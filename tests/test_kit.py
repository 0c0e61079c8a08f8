"""The conformance kit: a good plugin passes, each kind of broken plugin fails the right check."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from zoo_core.testing import check_plugin, run_checks

pytest_plugins = ["pytester"]

SAMPLE = (Path(__file__).parent / "kit" / "zoo_sample.py").read_text()
NAME = "sample"


def broken(*edits: tuple[str, str]) -> str:
    source = SAMPLE
    for old, new in edits:
        assert source.count(old) == 1, f"the sample plugin no longer contains {old!r} once"
        source = source.replace(old, new)
    return source


@pytest.fixture
def kit(install, in_process, monkeypatch):
    """Install a version of the sample plugin with real dist-info; return the kit's outcomes for it."""

    def outcomes(source: str = SAMPLE) -> dict[str, tuple[str, str]]:
        install("zoo-sample", "1.0", {NAME: "zoo_sample"}, {"zoo_sample": source})
        return {o.id: (o.status, o.message) for o in run_checks(NAME)}

    monkeypatch.setenv("ZOO_PLUGINS", NAME)
    yield outcomes
    sys.modules.pop("zoo_sample", None)


def failures(outcomes: dict[str, tuple[str, str]]) -> dict[str, str]:
    return {check: message for check, (status, message) in outcomes.items() if status == "failed"}


def test_a_good_plugin_passes_every_check(kit):
    outcomes = kit()
    assert {status for status, _ in outcomes.values()} == {"passed"}
    assert list(outcomes) == [
        "entry-point",
        "hooks",
        "registration",
        "model-spec[sample-centroid]",
        "model-fit[sample-centroid]",
        "model-determinism[sample-centroid]",
        "model-reload[sample-centroid]",
        "model-spec[sample-mlp]",
        "model-fit[sample-mlp]",
        "model-determinism[sample-mlp]",
        "model-reload[sample-mlp]",
        "dataset-spec[sample-points]",
        "dataset-load[sample-points]",
        "metric-spec[sample-error-rate]",
        "metric-scores[sample-error-rate]",
    ]


def test_misspelled_hook_fails_the_hooks_check(kit):
    failed = failures(kit(broken(("def zoo_datasets", "def zoo_datasetz"))))
    assert set(failed) == {"hooks", "registration"}  # a plugin that fails validation is not loaded
    assert "unknown hook 'zoo_datasetz'" in failed["hooks"]


def test_hook_without_its_marker_fails_the_hooks_check(kit):
    failed = failures(kit(broken(("@hookimpl\ndef zoo_metrics", "def zoo_metrics"))))
    assert failed == {"hooks": "zoo_metrics looks like a hook but lacks @zoo_core.hookimpl, so it never runs"}


def test_bad_model_name_is_refused_at_registration(kit):
    # The spec checks itself when the registry is built: the kit reports what was refused.
    failed = failures(kit(broken(('"sample-mlp"', '"Sample_MLP"'))))
    assert failed == {
        "registration": "model 'Sample_MLP' refused: name 'Sample_MLP' must be lowercase kebab-case like "
        "'my-net' (no spaces, dots or slashes)"
    }


def test_factory_that_does_not_resolve_fails_spec_and_fit(kit):
    failed = failures(kit(broken(('"zoo_sample:build_mlp"', '"zoo_sample:build_mpl"'))))
    assert set(failed) == {
        "model-spec[sample-mlp]",
        "model-fit[sample-mlp]",
        "model-determinism[sample-mlp]",
        "model-reload[sample-mlp]",
    }
    assert (
        "factory 'zoo_sample:build_mpl' does not resolve (AttributeError" in failed["model-spec[sample-mlp]"]
    )


def test_default_that_is_not_among_its_choices_is_refused_at_registration(kit):
    failed = failures(kit(broken(('"activation": "relu"}', '"activation": "gelu"}'))))
    assert failed == {
        "registration": "model 'sample-mlp' refused: its defaults are refused: activation must be one of "
        "relu, tanh, got 'gelu'"
    }


def test_default_dataset_typo_fails_the_spec_check_with_a_suggestion(kit):
    typo = (
        'default_dataset="sample-points",\n            gradient',
        'default_dataset="sample-pionts",\n            gradient',
    )
    failed = failures(kit(broken(typo)))
    assert failed["model-spec[sample-centroid]"] == (
        "default dataset 'sample-pionts' is not installed; did you mean 'sample-points'?"
    )


def test_wrong_output_shape_fails_the_fit_check(kit):
    failed = failures(kit(broken((".argmin(dim=1)", ".argmin(dim=1)[:, None]"))))
    assert failed == {
        "model-fit[sample-centroid]": "predict gave shape (16, 1) for 16 samples of sample-points; "
        "expected (16,): one label per sample"
    }


def test_nondeterministic_model_fails_the_determinism_check(kit):
    clock_seeded = "    import time\n\n    import torch\n\n    torch.manual_seed(time.perf_counter_ns())\n"
    failed = failures(kit(broken(("    import torch\n\n    act", clock_seeded + "    act"))))
    assert set(failed) == {"model-determinism[sample-mlp]"}
    assert failed["model-determinism[sample-mlp]"].startswith("two runs with seed 0 differ: ")
    assert (
        "the state_dict differs in 0.bias, 0.weight, 2.bias, 2.weight"
        in failed["model-determinism[sample-mlp]"]
    )


def test_metric_ordered_the_wrong_way_fails_the_scores_check(kit):
    failed = failures(kit(broken(("higher_is_better=False", "higher_is_better=True"))))
    assert failed == {
        "metric-scores[sample-error-rate]": "perfect predictions score 0 and wrong ones 0.6667, "
        "but higher_is_better=True says perfect must score higher"
    }


def test_dataset_with_the_wrong_shape_fails_the_load_check(kit):
    outcomes = kit(broken(("x[96:], y[96:]", "x[96:, :1], y[96:]")))
    assert failures(outcomes) == {
        "dataset-load[sample-points]": "test inputs are shaped (32, 1), not (N, 2) as declared"
    }
    status, reason = outcomes["model-fit[sample-mlp]"]
    assert status == "skipped" and "does not match its spec" in reason


def test_check_plugin_raises_on_failures_and_unexpected_passes(kit):
    kit(broken(("higher_is_better=False", "higher_is_better=True")))
    with pytest.raises(AssertionError, match=r"metric-scores\[sample-error-rate\]: perfect predictions"):
        check_plugin(NAME)
    check_plugin(NAME, {"metric-scores[sample-error-rate]": "known"})
    with pytest.raises(AssertionError, match=r"hooks passed but is an expected failure \(why\)"):
        check_plugin(NAME, {"metric-scores[sample-error-rate]": "known", "hooks": "why"})
    with pytest.raises(AssertionError, match=r"'model-fit\[sample]' names no check; did you mean"):
        check_plugin(NAME, {"metric-scores[sample-error-rate]": "known", "model-fit[sample]": "typo"})


AUTHOR_TEST = """
ZOO_PLUGIN = {plugin!r}
ZOO_EXPECTED_FAILURES = {expected!r}


def test_conformance(zoo_check):
    zoo_check()
"""


@pytest.fixture
def author(pytester, install, site, monkeypatch):
    """An author's few-line test file, run by pytest in a fresh process that sees the sample plugin."""
    monkeypatch.setenv("PYTHONPATH", str(site))
    monkeypatch.setenv("ZOO_PLUGINS", NAME)

    def run(source: str | None, plugin: str = NAME, expected: dict[str, str] | None = None):
        if source is not None:  # None: keep the version installed by the previous call
            install("zoo-sample", "1.0", {NAME: "zoo_sample"}, {"zoo_sample": source})
        pytester.makepyfile(
            test_sample_conformance=AUTHOR_TEST.format(plugin=plugin, expected=expected or {})
        )
        return pytester.runpytest_subprocess("-p", "no:cacheprovider")

    return run


def test_pytest_plugin_gives_one_item_per_check_and_strict_xfails(author):
    expected = {
        "metric-scores[sample-error-rate]": "ordered the wrong way on purpose",
        "hooks": "it does not",
    }
    result = author(broken(("higher_is_better=False", "higher_is_better=True")), expected=expected)
    result.assert_outcomes(passed=13, xfailed=1, failed=1)
    result.stdout.fnmatch_lines(["_* test_conformance?hooks? _*", "?XPASS(strict)? it does not"])


def test_pytest_plugin_reports_an_uninstalled_plugin_or_unknown_check(author):
    missing = author(SAMPLE, plugin="sampel")
    assert missing.ret == pytest.ExitCode.INTERRUPTED
    missing.stdout.fnmatch_lines(["*plugin 'sampel' is not installed*did you mean 'sample'?*"])
    unknown = author(None, expected={"model-fit[sample]": "typo"})
    unknown.stdout.fnmatch_lines(
        ["*ZOO_EXPECTED_FAILURES: expected failure 'model-fit?sample?' names no check*"]
    )


def test_pytest_plugin_leaves_other_tests_alone(pytester):
    pytester.makepyfile("import sys\n\ndef test_plain():\n    assert 'torch' not in sys.modules\n")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
