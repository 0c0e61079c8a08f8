"""The conformance kit as a pytest plugin (entry point ``pytest11``), for plugin authors.

A test module names the plugin and the checks it knows fail; each check becomes one test item::

    ZOO_PLUGIN = "knn"
    ZOO_EXPECTED_FAILURES = {"model-determinism[knn]": "why it fails"}

    def test_conformance(zoo_check):
        zoo_check()

Expected failures are strict xfails, so a check that starts passing is reported. Nothing
here runs for tests that do not ask for ``zoo_check``, and nothing heavy is imported at
startup: torch loads only when a check needs it.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

FIXTURE = "zoo_check"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if FIXTURE not in metafunc.fixturenames:
        return
    from .errors import UnknownName
    from .kit import plugin_checks, unknown_expected_failures

    where = metafunc.module.__name__
    name = getattr(metafunc.module, "ZOO_PLUGIN", None)
    if not isinstance(name, str):
        raise pytest.Collector.CollectError(
            f"{where} uses {FIXTURE} but does not name the plugin: add ZOO_PLUGIN = '<entry-point name>'"
        )
    expected = getattr(metafunc.module, "ZOO_EXPECTED_FAILURES", {})
    try:
        checks = plugin_checks(name)
    except UnknownName as exc:
        raise pytest.Collector.CollectError(f"{where}: {exc}") from None
    # A plugin that fails to register has no per-model checks: its registration item says why.
    if _registers(checks):
        unknown = unknown_expected_failures(expected, [check.id for check in checks])
        if unknown:
            raise pytest.Collector.CollectError(f"{where}: ZOO_EXPECTED_FAILURES: " + "; ".join(unknown))
    params = []
    for check in checks:
        marks = [pytest.mark.xfail(reason=expected[check.id], strict=True)] if check.id in expected else []
        params.append(pytest.param(check, id=check.id, marks=marks))
    metafunc.parametrize(FIXTURE, params, indirect=True)


def _registers(checks: list[Any]) -> bool:
    registration = next(check for check in checks if check.id == "registration")
    try:
        registration.run()  # cheap: specs only, no torch
    except Exception:
        return False
    return True


@pytest.fixture
def zoo_check(request: pytest.FixtureRequest) -> Callable[[], None]:
    """Run this item's conformance check: a problem fails it, missing data skips it."""
    from .kit import CheckFailed, CheckSkipped

    check: Any = request.param

    def run() -> None:
        try:
            check.run()
        except CheckSkipped as exc:
            pytest.skip(str(exc))
        except CheckFailed as exc:
            pytest.fail(f"{check.id}: {exc}", pytrace=False)

    return run
