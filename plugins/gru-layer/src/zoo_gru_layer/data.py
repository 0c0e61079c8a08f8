"""The lesson's random sequences, and a learnable set of noisy waveforms of the same shape.

Both are generated in memory from a fixed seed with their own generator, so they are the
same in every run whatever the run's seed.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from zoo_core.data import Split, Splits

SEQ_LENGTH = 10
CHANNELS = 8
TRAIN_SIZE = 1000
TEST_SIZE = 200
WAVEFORMS = ("sine", "square", "sawtooth", "triangle")
RANDOM_CLASSES = 4


def load_random_sequences(data_dir: Path) -> Splits:
    """The lesson's ``generate_random_data``: Gaussian inputs, labels drawn independently of them."""
    generator = torch.Generator().manual_seed(2024)

    def draw(n: int) -> Split:
        x = torch.randn(n, SEQ_LENGTH, CHANNELS, generator=generator)
        y = torch.randint(0, RANDOM_CLASSES, (n,), generator=generator)
        return Split(x, y)

    # Train first, then fresh test samples from the same stream, like the lesson's second call.
    return Splits(draw(TRAIN_SIZE), draw(TEST_SIZE))


def _waveforms(family: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Row i of ``u`` (positions inside the period, in [0, 1)) drawn as WAVEFORMS[family[i]]."""
    shapes = torch.stack(
        [
            torch.sin(2 * math.pi * u),
            torch.where(u < 0.5, 1.0, -1.0),
            2 * u - 1,
            1 - 4 * torch.abs(u - 0.5),
        ],
        dim=1,
    )
    return shapes[torch.arange(len(family)), family]


def _draw_waveforms(n: int, generator: torch.Generator) -> Split:
    # Balanced classes, shuffled, so a majority-class guess scores 0.25.
    y = (torch.arange(n) % len(WAVEFORMS))[torch.randperm(n, generator=generator)]

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, 1, generator=generator)

    # Periods of 6 to 12 steps, so ten steps show about one period, never at a fixed phase.
    frequency, phase = uniform(1 / 12, 1 / 6), uniform(0.0, 1.0)
    # Amplitude stays near 1: the signal's level is one of the cues telling sine from triangle.
    amplitude = uniform(0.8, 1.2)
    cycles = frequency * torch.arange(SEQ_LENGTH) + phase
    signal = amplitude * _waveforms(y, cycles - torch.floor(cycles))
    # Eight noisy views of the one signal: the shape shows through time, the channels average noise.
    noise = 0.5 * torch.randn(n, SEQ_LENGTH, CHANNELS, generator=generator)
    return Split(signal.unsqueeze(-1) + noise, y)


def load_waveforms(data_dir: Path) -> Splits:
    """Four waveform families with random phase, frequency, amplitude and Gaussian noise."""
    generator = torch.Generator().manual_seed(7)
    return Splits(_draw_waveforms(TRAIN_SIZE, generator), _draw_waveforms(TEST_SIZE, generator))
