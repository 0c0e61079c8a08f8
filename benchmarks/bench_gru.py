"""Time the from-scratch GRUs' forward + backward against torch.nn.GRU (issue 5, row 5).

The recurrent cores of ``gru-cell`` (its ``GRUCell.unroll``) and ``my-gru`` (its ``MyGRU.unroll``),
built through the zoo's registry, each against an ``nn.GRU`` of the same sizes: batch 64,
sequence 50, hidden 64, and each model's input size taken from its lesson's default dataset
(noisy-sine: 1 feature per step; waveforms: 8). Float32 on the CPU, from a zero state; one run
is forward + ``backward()`` of the sum of the final state. Needs every plugin installed (the
``gru`` plugin provides noisy-sine).

    python benchmarks/bench_gru.py [--repeats 30] [--threads N]
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
from timing import Row, emit, interleaved_medians, options, pin_threads
from torch import nn

from zoo_core import ZooError
from zoo_core.registry import get_registry

if TYPE_CHECKING:
    from zoo_core import DatasetSpec

BATCH, STEPS, HIDDEN = 64, 50, 64
GOAL = 1.5  # ours / nn.GRU, in time: lower is better


def forward_backward(
    module: nn.Module, final_state: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor
) -> Callable[[], torch.Tensor]:
    """One timed run: ``final_state(x)``, then the gradients of its sum into ``module``'s parameters."""

    def run() -> torch.Tensor:
        module.zero_grad(set_to_none=True)
        state = final_state(x)
        state.sum().backward()
        return state.detach()

    return run


def load_torch_weights(cell: nn.Module, gru: nn.GRU) -> None:
    """Copy nn.GRU's stacked (r, z, n) chunks into gru-cell's per-term Linears."""
    stacked = {"w": (gru.weight_ih_l0, gru.bias_ih_l0), "u": (gru.weight_hh_l0, gru.bias_hh_l0)}
    with torch.no_grad():
        for side, (weights, biases) in stacked.items():
            for gate, weight, bias in zip("rzh", weights.chunk(3), biases.chunk(3), strict=True):
                getattr(cell, f"{side}_{gate}").weight.copy_(weight)
                getattr(cell, f"{side}_{gate}").bias.copy_(bias)


def lesson_model(name: str) -> tuple[nn.Module, DatasetSpec]:
    """The named model built through the registry with HIDDEN units, and its default dataset."""
    registry = get_registry()
    spec = registry.model(name).spec
    dataset = registry.dataset(spec.default_dataset).spec
    torch.manual_seed(0)
    return spec.build(dataset, hidden_size=HIDDEN), dataset


def time_cores(
    cores: dict[str, nn.Module], gru: nn.GRU, repeats: int
) -> tuple[dict[str, float], dict[str, torch.Tensor]]:
    """Median seconds and final states of each core's ``unroll`` and of ``gru``, on one batch."""
    x = torch.randn(BATCH, STEPS, gru.input_size)
    h0 = x.new_zeros(BATCH, HIDDEN)
    runs = {
        label: forward_backward(core, lambda x, core=core: core.unroll(x, h0), x)
        for label, core in cores.items()
    }
    runs["nn.GRU"] = forward_backward(gru, lambda x: gru(x)[1][0], x)
    interleaved_medians(runs, 1)  # warm-up: one-time allocations and library initialisation
    return interleaved_medians(runs, repeats)


def report(
    name: str, label: str, dataset: DatasetSpec, seconds: dict[str, float], repeats: int, note: str = ""
) -> None:
    """Emit row 5 for the model ``name``: its time over nn.GRU's, lower is better."""
    features = dataset.input_shape[-1]
    ratio = seconds[name] / seconds["nn.GRU"]
    setting = (
        f"input size {features}: the features per step of {dataset.name}, {name}'s default dataset; "
        f"float32, CPU, {torch.get_num_threads()} threads, median of {repeats}"
    )
    emit(
        Row(
            row=5,
            figure=f"GRU forward + backward, batch {BATCH}, sequence {STEPS}, hidden {HIDDEN}, "
            f"input {features}",
            ours=f"{label} {seconds[name] * 1e3:.1f} ms",
            reference=f"nn.GRU {seconds['nn.GRU'] * 1e3:.1f} ms",
            ratio=ratio,
            goal=f"ours / nn.GRU <= {GOAL} (time, lower is better)",
            met=ratio <= GOAL,
            note="; ".join(part for part in (note, setting) if part),
        )
    )


def bench_gru_cell(repeats: int) -> None:
    model, dataset = lesson_model("gru-cell")
    gru = nn.GRU(dataset.input_shape[-1], HIDDEN, batch_first=True)
    # The torch convention computes nn.GRU's own function; timed on nn.GRU's weights, it also
    # shows that like is timed with like.
    torch_style = type(model.cell)(gru.input_size, HIDDEN, convention="torch")
    load_torch_weights(torch_style, gru)
    seconds, states = time_cores({"gru-cell": model.cell, "convention=torch": torch_style}, gru, repeats)
    gap = (states["convention=torch"] - states["nn.GRU"]).abs().max().item()
    ratio = seconds["convention=torch"] / seconds["nn.GRU"]
    note = f"convention=torch {ratio:.2f}x on nn.GRU's weights (final states differ by {gap:.1e} at most)"
    report("gru-cell", f"gru-cell (convention={model.cell.convention})", dataset, seconds, repeats, note)


def bench_my_gru(repeats: int) -> None:
    model, dataset = lesson_model("my-gru")
    gru = nn.GRU(dataset.input_shape[-1], HIDDEN, batch_first=True)
    seconds, _ = time_cores({"my-gru": model.gru}, gru, repeats)
    report("my-gru", "my-gru", dataset, seconds, repeats)


def main() -> None:
    parser = options(__doc__.splitlines()[0], repeats=30)
    args = parser.parse_args()
    pin_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores")
    try:
        bench_gru_cell(args.repeats)
        bench_my_gru(args.repeats)
    except ZooError as error:  # a plugin or its default dataset is not installed
        parser.exit(2, f"{parser.prog}: {error}\n")


if __name__ == "__main__":
    main()
