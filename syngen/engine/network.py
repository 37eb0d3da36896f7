"""The trained networks as plain NumPy: generation needs no deep-learning framework.

Training exports its dense layers here, so ``infer`` starts fast, runs in worker processes
cheaply, and gives byte-identical output for the same seed on any backend.
"""

from __future__ import annotations

import numpy as np

_ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
}


class Mlp:
    """A stack of dense layers: (kernel, bias, activation) each."""

    def __init__(self, layers: list[tuple[np.ndarray, np.ndarray, str]]):
        self.layers = layers

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        for kernel, bias, activation in self.layers:
            x = _ACTIVATIONS[activation](x @ kernel + bias)
        return x

    def state(self, prefix: str) -> tuple[list[str], dict[str, np.ndarray]]:
        arrays = {}
        for i, (kernel, bias, _) in enumerate(self.layers):
            arrays[f"{prefix}.{i}.kernel"] = kernel
            arrays[f"{prefix}.{i}.bias"] = bias
        return [a for _, _, a in self.layers], arrays

    @classmethod
    def from_state(cls, prefix: str, activations: list[str], arrays) -> "Mlp":
        return cls(
            [(arrays[f"{prefix}.{i}.kernel"], arrays[f"{prefix}.{i}.bias"], a) for i, a in enumerate(activations)]
        )
