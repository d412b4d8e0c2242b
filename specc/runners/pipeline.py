"""Input pipelines whose batch order is a pure function of (seed, epoch).

That is what makes `specc train --resume` exact: a run resumed at epoch k
sees the same batches in the same order as a run that was never interrupted,
because no random state has to be carried across the interruption.

- TensorFlow backend: a tf.data pipeline over index permutations from
  ``tf.random.experimental.stateless_shuffle`` and a gather, prefetched; as fast
  as Keras's own array adapter.
- Other backends (JAX, torch): a ``keras.utils.PyDataset`` that permutes with
  NumPy's generator seeded by (seed, epoch).
"""

from __future__ import annotations

import math


def hold_out(x, y, fraction: float):
    """Keras's validation_split: the last `fraction` of the samples, before any shuffling."""
    if not fraction:
        return x, y, None, None
    n_val = int(len(x) * fraction)
    if n_val == 0:
        return x, y, None, None
    cut = len(x) - n_val
    return x[:cut], y[:cut], x[cut:], y[cut:]


def steps(n: int, batch_size: int) -> int:
    return max(1, math.ceil(n / batch_size))


def tf_dataset(x, y, batch_size: int, seed: int, first_epoch: int, epochs: int, shuffle: bool):
    import tensorflow as tf

    n = len(x)
    xs, ys = tf.constant(x), tf.constant(y)
    base = tf.constant(seed, tf.int64)

    def epoch(e):
        order = tf.range(n, dtype=tf.int64)
        if shuffle:
            order = tf.random.experimental.stateless_shuffle(order, seed=tf.stack([base, e]))
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size)

    return (
        tf.data.Dataset.range(first_epoch, epochs)
        .flat_map(epoch)
        .map(lambda idx: (tf.gather(xs, idx), tf.gather(ys, idx)), num_parallel_calls=tf.data.AUTOTUNE,
             deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )


def py_dataset(x, y, batch_size: int, seed: int, first_epoch: int, shuffle: bool):
    import keras
    import numpy as np

    class EpochShuffled(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.epoch = first_epoch
            self._order()

        def _order(self):
            n = len(x)
            self.order = np.random.default_rng([seed, self.epoch]).permutation(n) if shuffle else np.arange(n)

        def __len__(self):
            return steps(len(x), batch_size)

        def __getitem__(self, i):
            idx = self.order[i * batch_size:(i + 1) * batch_size]
            return x[idx], y[idx]

        def on_epoch_end(self):
            self.epoch += 1
            self._order()

    return EpochShuffled()


def training_input(x, y, batch_size: int, seed: int, first_epoch: int, epochs: int, shuffle: bool, backend: str):
    """(data, fit kwargs) for model.fit, seeded by epoch."""
    if backend == "tensorflow":
        return tf_dataset(x, y, batch_size, seed, first_epoch, epochs, shuffle), {
            "steps_per_epoch": steps(len(x), batch_size)}
    return py_dataset(x, y, batch_size, seed, first_epoch, shuffle), {}
