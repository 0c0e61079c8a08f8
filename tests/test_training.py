"""The gradient trainer: losses, schedules, reproducibility, memory and progress."""

from __future__ import annotations

import io
import platform
import resource

import pytest
import torch

from zoo_core.data import Split
from zoo_core.training import fit, gradient_step, keep_freed_memory, loss_fn, make_schedule


def test_loss_follows_the_task():
    logits, labels = torch.tensor([[2.0, 0.0]]), torch.tensor([0])
    assert loss_fn("classification")(logits, labels) == torch.nn.functional.cross_entropy(logits, labels)
    assert loss_fn("forecasting")(torch.tensor([[1.0], [3.0]]), torch.tensor([0.0, 1.0])) == 2.5
    with pytest.raises(ValueError, match="Estimator"):
        loss_fn("clustering")


def test_fit_learns_and_is_reproducible(capsys):
    x = torch.randn(256, 3, generator=torch.Generator().manual_seed(0))
    y = x @ torch.tensor([1.0, -2.0, 0.5])

    def train_once():
        torch.manual_seed(0)
        model = torch.nn.Linear(3, 1)
        history = fit(
            model, Split(x, y), task="forecasting", epochs=20, batch_size=32, lr=0.05, seed=1, progress=0
        )
        return model, history.loss

    (model_a, history_a), (model_b, history_b) = train_once(), train_once()
    assert history_a == history_b
    assert history_a[-1] < history_a[0] / 100
    assert torch.equal(model_a.weight, model_b.weight)
    assert capsys.readouterr().err == ""  # progress=0: not a word


def test_onecycle_warms_up_to_lr_then_anneals_far_below_it():
    opt = torch.optim.Adam(torch.nn.Linear(2, 1).parameters(), lr=0.01)
    scheduler = make_schedule(opt, "onecycle", 0.01, total_steps=100)
    lrs = []
    for _ in range(100):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    peak = lrs.index(max(lrs))
    assert lrs[0] < 0.001 and max(lrs) == pytest.approx(0.01) and 10 < peak < 50
    assert lrs[-1] < 1e-5
    assert make_schedule(opt, "constant", 0.01, total_steps=100) is None


def test_fit_with_onecycle_learns_and_is_reproducible():
    x = torch.randn(256, 3, generator=torch.Generator().manual_seed(0))
    y = x @ torch.tensor([1.0, -2.0, 0.5])

    def train_once():
        torch.manual_seed(0)
        model = torch.nn.Linear(3, 1)
        return fit(
            model, Split(x, y), task="forecasting", epochs=10, batch_size=32, lr=0.1, schedule="onecycle"
        ).loss

    history = train_once()
    assert history == train_once()
    assert history[-1] < history[0] / 100


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="a glibc allocator setting")
def test_training_keeps_freed_activations_instead_of_faulting_them_in_again():
    assert keep_freed_memory()
    for _ in range(3):  # the first blocks of this size come from the kernel
        torch.ones(1 << 20).sum()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):  # 4 MB each, as large as a big batch's activations
        torch.ones(1 << 20).sum()
    assert resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before < 100  # not 20 x 1,024 pages


def test_progress_bar_shows_epoch_loss_and_throughput(monkeypatch):
    stream = io.StringIO()
    stream.isatty = lambda: True
    monkeypatch.setattr("sys.stderr", stream)
    x = torch.randn(64, 2)
    fit(
        torch.nn.Linear(2, 2),
        Split(x, torch.zeros(64, dtype=torch.int64)),
        task="classification",
        epochs=1,
        batch_size=8,
        lr=0.1,
        label="toy",
    )
    text = stream.getvalue()
    assert "toy epoch 1/1" in text and "sample/s" in text and "loss=" in text


class Chunked(torch.nn.Module):
    """A small network whose batches the trainer may split; ``unused`` never gets a gradient."""

    batch_chunks = 3

    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
        self.unused = torch.nn.Parameter(torch.zeros(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def chunked_data() -> Split:
    x = torch.randn(100, 4, generator=torch.Generator().manual_seed(0))
    return Split(x, (x[:, 0] > 0).long() + (x[:, 1] > 0).long())


def test_chunked_gradients_are_the_whole_batchs() -> None:
    torch.manual_seed(0)
    model, train = Chunked(), chunked_data()
    batch = torch.arange(0, 100, 3)  # 34 samples: chunks of 12, 11 and 11
    criterion = loss_fn("classification")
    with gradient_step(model, criterion, train, threads=2) as backward:
        loss = backward(batch)
    chunked = [p.grad for p in model.net.parameters()]
    assert model.unused.grad is None
    whole_loss = criterion(model(train.x[batch]), train.y[batch])
    whole = torch.autograd.grad(whole_loss, list(model.net.parameters()))
    torch.testing.assert_close(loss, whole_loss.detach())
    for a, b in zip(chunked, whole, strict=True):
        torch.testing.assert_close(a, b)


def test_chunked_training_gives_the_same_weights_on_any_number_of_threads() -> None:
    def train_once(threads: int) -> torch.nn.Module:
        torch.manual_seed(0)
        model = Chunked()
        fit(model, chunked_data(), task="classification", epochs=3, batch_size=16, lr=0.01, threads=threads)
        return model

    one, two, four = train_once(1), train_once(2), train_once(4)
    for name, value in one.state_dict().items():
        assert torch.equal(value, two.state_dict()[name]) and torch.equal(value, four.state_dict()[name])
