"""Naive baselines that give every leaderboard a floor."""

from __future__ import annotations

from typing import Any

import torch


class MajorityClass:
    """Predicts the most frequent training label (the smallest one on a tie)."""

    def __init__(self, dataset: Any) -> None:
        self.label = torch.tensor(0)

    def fit(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.label = torch.bincount(y).argmax()

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self.label.to(x.device).expand(x.shape[0])

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"label": self.label}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.label = state["label"]


class LastValue:
    """Forecasts that the next value equals the last one seen in the window."""

    def __init__(self, dataset: Any) -> None:
        pass

    def fit(self, x: torch.Tensor, y: torch.Tensor) -> None:
        pass

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, -1, -1]

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        pass  # nothing is learned
