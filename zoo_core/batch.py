"""Many runs in a row: `zoo run MODEL --seeds ...` and `zoo run --all`. What happens on failure.

- A run that diverges is recorded as failed; the other seeds still run.
- One model (``all_models=False``): bad input stops the batch (exit 2); a crash is a bug and
  keeps its traceback.
- Every model (``all_models=True``): a model refused for its input is skipped, said once with
  the reason; a crash is reported in one line and counted; the other models still run. When
  no model can run at all, that is bad input: one line, exit code 2 (when it shows only once
  the runs are tried, e.g. every dataset is missing, after the line of each model).
- A run that fell back to another dataset takes its other seeds there too, said once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from .errors import Diverged, ZooError
from .planning import Batch, Plan, plan_baselines
from .plugins import describe
from .runner import Context, Run
from .runs import RunResult

Say = Callable[[str], None]
Report = Callable[[RunResult, int], None]


@dataclass
class Tally:
    """What a batch did: the results, the failures, and the datasets its runs used."""

    results: list[RunResult] = field(default_factory=list)
    failures: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def datasets(self) -> list[str]:
        return sorted({result.dataset for result in self.results})

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0


def run_plans(
    plans: Sequence[Plan],
    seeds: Sequence[int],
    context: Context,
    *,
    all_models: bool,
    report: Report,
    say: Say,
    tally: Tally | None = None,
) -> Tally:
    """Run each plan with each seed, in order, applying the failure policy of the module docstring."""
    tally = tally or Tally()
    for plan in plans:
        for seed in seeds:
            run = Run(plan, seed, context)
            try:
                result = run.execute()
            except ZooError as exc:
                if not all_models:
                    raise
                tally.skipped.append((plan.model.spec.name, str(exc)))
                say(f"skipped {plan.model.spec.name}: {exc}")
                break  # the other seeds would be refused the same way
            except Diverged as exc:
                # An outcome, not a bug: recorded as failed, and the other seeds may still converge.
                tally.failures += 1
                say(f"{plan.model.spec.name} (seed {seed}) failed and was recorded as such: {exc}")
                continue
            except Exception as exc:
                if not all_models:
                    raise
                tally.failures += 1
                say(f"{plan.model.spec.name} (seed {seed}) failed and was recorded as such: {describe(exc)}")
                continue
            finally:
                # The plan the run really ran: once a dataset was unavailable and the run fell back,
                # the other seeds run on the fallback too, without trying (and saying) it again.
                plan = run.plan
            tally.results.append(result)
            report(result, seed)
    return tally


def run_every_model(
    batch: Batch,
    seeds: Sequence[int],
    context: Context,
    *,
    with_baselines: bool,
    overrides: dict,
    report: Report,
    say: Say,
) -> Tally:
    """`zoo run --all`: the planned models, then (``with_baselines``) each baseline on each dataset used."""
    if not batch.plans:
        reasons = "; ".join(f"{name} ({reason})" for name, reason in batch.skipped)
        raise ZooError(f"no model can run: {reasons}" if reasons else "no model is installed")
    tally = Tally(skipped=list(batch.skipped))
    if batch.skipped:
        say("skipped " + "; ".join(f"{name} ({reason})" for name, reason in batch.skipped))
    run_plans(batch.plans, seeds, context, all_models=True, report=report, say=say, tally=tally)
    if with_baselines:
        assert context.registry is not None
        baselines = plan_baselines(context.registry, tally.datasets, overrides)
        if baselines.skipped:
            say("skipped " + "; ".join(f"{name} ({reason})" for name, reason in baselines.skipped))
            tally.skipped += baselines.skipped
        run_plans(baselines.plans, seeds, context, all_models=True, report=report, say=say, tally=tally)
    if not tally.results and not tally.failures:
        raise ZooError("no model ran: each was refused (see above)")
    return tally
