"""The variational autoencoder (Keras 3) and its training loop.

Imported only to train: it pulls in the deep-learning backend. The loss is a real generative
objective: per-column reconstruction terms (squared error on quantile-normal numbers,
cross-entropy on categories, binary cross-entropy on null flags) plus a weighted KL term,
trained with early stopping on a validation split. The trained layers are exported as
NumPy (``network.Mlp``) for generation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

import numpy as np

from syngen.engine.network import Mlp

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def _import_keras_quietly():
    """Import Keras with the native libraries' start-up chatter (CUDA probes, absl
    warnings written straight to file descriptor 2) kept off the user's terminal."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import keras
            import keras.ops  # noqa: F401  (loads the backend)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return keras


if TYPE_CHECKING:  # the checker sees the module itself, so its classes can be subclassed
    import keras
else:
    keras = _import_keras_quietly()
layers, ops = keras.layers, keras.ops


@dataclass
class TrainConfig:
    epochs: int
    batch_size: int
    latent_dim: int  # the defaults live in Synthesizer, the one public entry point
    kl_weight: float
    hidden: tuple[int, ...] = (256, 128)
    patience: int = 10  # epochs without a better validation loss; 20 cost a third more time for no gain
    validation_share: float = 0.1
    seed: int = 0
    on_epoch: Callable[[int, dict], None] | None = None


@dataclass
class TrainResult:
    encoder: Mlp
    decoder: Mlp
    epochs_run: int
    history: dict = field(default_factory=dict)


class _Layout:
    """Where each output block sits in the model's input/output vector."""

    def __init__(self, blocks: list[tuple[str, int]]):
        self.numeric, self.numeric_null, self.nulls, self.categories = [], [], [], []
        position = 0
        for kind, width in blocks:
            if kind == "num":
                self.numeric.append(position)
                self.numeric_null.append(-1)
            elif kind == "null":
                self.nulls.append(position)
                self.numeric_null[-1] = position  # a null flag follows its numeric value
            else:
                self.categories.append((position, width))
            position += width
        self.width = position


class VariationalAutoencoder(keras.Model):
    def __init__(self, layout: _Layout, config: TrainConfig):
        super().__init__()
        self.layout = layout
        self.config = config
        self.encoder_layers = [layers.Dense(h, activation="relu") for h in config.hidden]
        self.mean_layer = layers.Dense(config.latent_dim)
        self.log_var_layer = layers.Dense(config.latent_dim)
        self.decoder_layers = [layers.Dense(h, activation="relu") for h in reversed(config.hidden)]
        self.output_layer = layers.Dense(layout.width)
        self.noise = keras.random.SeedGenerator(config.seed)
        self._numeric = np.asarray(layout.numeric, dtype="int32")
        # flags of each numeric column's nulls, or a zero column when it has none
        self._numeric_null = np.asarray([p if p >= 0 else layout.width for p in layout.numeric_null], dtype="int32")
        self._nulls = np.asarray(layout.nulls, dtype="int32")
        # every category block as one row of a padded index matrix, so the loss of all
        # categorical columns is a handful of tensor ops however many columns there are;
        # padding points past the output, at a logit of -inf
        widest = max((size for _, size in layout.categories), default=0)
        self._category_index = np.full((len(layout.categories), widest), layout.width, dtype="int32")
        for row, (start, size) in enumerate(layout.categories):
            self._category_index[row, :size] = np.arange(start, start + size)
        self._category_positions = self._category_index[self._category_index < layout.width]

    def call(self, x, training=False):
        h = x
        for layer in self.encoder_layers:
            h = layer(h)
        mean, log_var = self.mean_layer(h), ops.clip(self.log_var_layer(h), -10.0, 10.0)
        z = mean
        if training:
            z = mean + ops.exp(0.5 * log_var) * keras.random.normal(ops.shape(mean), seed=self.noise)
        h = z
        for layer in self.decoder_layers:
            h = layer(h)
        return ops.concatenate([self.output_layer(h), mean, log_var], axis=1)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        width, latent = self.layout.width, self.config.latent_dim
        out = y_pred[:, :width]
        mean, log_var = y_pred[:, width : width + latent], y_pred[:, width + latent :]
        recon = ops.zeros_like(out[:, 0])
        if len(self._numeric):
            padded = ops.concatenate([y, ops.zeros_like(y[:, :1])], axis=1)
            present = 1.0 - ops.take(padded, self._numeric_null, axis=1)
            error = ops.take(out, self._numeric, axis=1) - ops.take(y, self._numeric, axis=1)
            recon = recon + ops.sum(present * ops.square(error), axis=1)
        if len(self._nulls):
            logits, flags = ops.take(out, self._nulls, axis=1), ops.take(y, self._nulls, axis=1)
            recon = recon + ops.sum(ops.softplus(logits) - flags * logits, axis=1)
        if len(self._category_index):
            padded = ops.concatenate([out, ops.full_like(out[:, :1], -1e9)], axis=1)
            blocks = ops.take(padded, self._category_index, axis=1)  # rows x columns x width
            chosen = ops.take(y, self._category_positions, axis=1) * ops.take(out, self._category_positions, axis=1)
            recon = recon + ops.sum(ops.logsumexp(blocks, axis=2), axis=1) - ops.sum(chosen, axis=1)
        kl = -0.5 * ops.sum(1.0 + log_var - ops.square(mean) - ops.exp(log_var), axis=1)
        return ops.mean(recon + self.config.kl_weight * kl)

    def export(self) -> tuple[Mlp, Mlp]:
        def dense(layer, activation):
            kernel, bias = (np.asarray(v, dtype=np.float32) for v in layer.get_weights())
            return kernel, bias, activation

        encoder = Mlp([dense(width, "relu") for width in self.encoder_layers] + [dense(self.mean_layer, "linear")])
        decoder = Mlp([dense(width, "relu") for width in self.decoder_layers] + [dense(self.output_layer, "linear")])
        return encoder, decoder


def train(data: np.ndarray, blocks: list[tuple[str, int]], config: TrainConfig) -> TrainResult:
    """Fit the autoencoder on encoded rows; returns its layers as NumPy.

    Each step is one compiled TensorFlow function, driven by a plain loop with early
    stopping on the validation loss (on all rows when the table is too small to split);
    the best weights are kept.
    """
    import tensorflow as tf

    # each table compiles its own step functions; TensorFlow's "retracing" warning about
    # that is expected here, not a sign of a problem
    tf.get_logger().setLevel("ERROR")
    keras.utils.set_random_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    order = rng.permutation(len(data))
    n_val = int(len(data) * config.validation_share) if len(data) >= 200 else 0
    val = tf.constant(data[order[:n_val]] if n_val else data[order])
    fit_np = data[order[n_val:]]
    rows = len(fit_np)
    batch = min(config.batch_size, rows)
    model = VariationalAutoencoder(_Layout(blocks), config)
    model(fit_np[:1])  # build the layers
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    optimizer.build(model.trainable_variables)

    data_on_device = tf.constant(fit_np)
    steps = (rows + batch - 1) // batch

    @tf.function
    def train_epoch(permutation):
        """One pass over the rows in the given order, as one graph: no Python per step."""
        total = tf.constant(0.0)
        for step in tf.range(steps):
            x = tf.gather(data_on_device, permutation[step * batch : (step + 1) * batch])
            with tf.GradientTape() as tape:
                loss = model.compute_loss(y=x, y_pred=model(x, training=True))
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply(gradients, model.trainable_variables)
            total += loss
        return total / tf.cast(steps, tf.float32)

    def run_epoch():
        return float(train_epoch(tf.constant(rng.permutation(rows).astype(np.int32))))

    @tf.function
    def evaluate():
        return model.compute_loss(y=val, y_pred=model(val, training=False))

    history: dict[str, list[float]] = {"loss": [], "val_loss": []}
    best, best_weights, waited = np.inf, model.get_weights(), 0
    for epoch in range(1, config.epochs + 1):
        history["loss"].append(float(run_epoch()))
        history["val_loss"].append(float(evaluate()))
        if config.on_epoch:
            config.on_epoch(epoch, {k: v[-1] for k, v in history.items()})
        if history["val_loss"][-1] < best - 1e-4:
            best, best_weights, waited = history["val_loss"][-1], model.get_weights(), 0
        else:
            waited += 1
            if waited >= config.patience:
                break
    model.set_weights(best_weights)
    encoder, decoder = model.export()
    return TrainResult(encoder, decoder, len(history["loss"]), history)
