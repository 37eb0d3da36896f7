"""The sampler: a Bayesian Gaussian mixture on the latent means of the training rows.

Sampling the mixture instead of the N(0, 1) prior follows where the encoder actually put
the data, which keeps joint structure and rare modes. Full covariances on a small latent
space and a bounded fitting sample keep the fit to seconds.
"""

from __future__ import annotations

import warnings

import numpy as np

MAX_COMPONENTS = 15
MAX_FIT_ROWS = 3000
MAX_ITER = 30  # the fit has mostly settled by then; full convergence costs 3x the time
_MIN_WEIGHT = 1e-3


class LatentMixture:
    def __init__(self, weights: np.ndarray, means: np.ndarray, cholesky: np.ndarray):
        self.weights = weights
        self.means = means
        self.cholesky = cholesky

    @classmethod
    def fit(cls, codes: np.ndarray, seed: int) -> "LatentMixture":
        rng = np.random.default_rng(seed)
        if len(codes) > MAX_FIT_ROWS:
            codes = codes[rng.choice(len(codes), MAX_FIT_ROWS, replace=False)]
        distinct = len(np.unique(codes.round(4), axis=0))
        components = int(min(MAX_COMPONENTS, max(1, len(codes) // 20), distinct))
        try:
            mixture = _fit_mixture(codes, components, seed, reg_covar=1e-3)
        except ValueError:  # codes collapsed onto a few points (e.g. one small category)
            mixture = _fit_mixture(codes, 1, seed, reg_covar=1e-2)
        keep = mixture.weights_ >= _MIN_WEIGHT
        weights = mixture.weights_[keep] / mixture.weights_[keep].sum()
        cholesky = np.linalg.cholesky(mixture.covariances_[keep])
        return cls(weights, mixture.means_[keep], cholesky)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        component = rng.choice(len(self.weights), size=n, p=self.weights)
        noise = rng.standard_normal((n, self.means.shape[1]))
        codes = np.empty_like(noise)
        for k in range(len(self.weights)):
            rows = component == k
            codes[rows] = self.means[k] + noise[rows] @ self.cholesky[k].T
        return codes.astype(np.float32)

    def state(self) -> dict[str, np.ndarray]:
        return {"latent.weights": self.weights, "latent.means": self.means, "latent.cholesky": self.cholesky}

    @classmethod
    def from_state(cls, arrays) -> "LatentMixture":
        return cls(arrays["latent.weights"], arrays["latent.means"], arrays["latent.cholesky"])


def _fit_mixture(codes: np.ndarray, components: int, seed: int, reg_covar: float):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import BayesianGaussianMixture

    mixture = BayesianGaussianMixture(
        n_components=components,
        covariance_type="full",
        max_iter=MAX_ITER,
        n_init=1,
        weight_concentration_prior_type="dirichlet_process",
        reg_covar=reg_covar,
        random_state=seed,
    )
    with warnings.catch_warnings():  # an unconverged fit still samples well; it is not news
        warnings.simplefilter("ignore", ConvergenceWarning)
        mixture.fit(codes.astype(np.float64))
    return mixture
