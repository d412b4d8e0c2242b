"""Input pipelines whose batch order is a pure function of (seed, epoch).

That is what makes `specc train --resume` exact: a run resumed at epoch k
sees the same batches in the same order as a run that was never interrupted,
because no random state has to be carried across the interruption.

- TensorFlow backend: a tf.data pipeline over index permutations from
  ``tf.random.experimental.stateless_shuffle`` and a gather, prefetched; as fast
  as Keras's own array adapter.
- Other backends (JAX, torch): a ``keras.utils.PyDataset`` that permutes with
  NumPy's generator seeded by (seed, epoch).

Streamed data (``data.Lazy``: a memory-mapped .npy or an images folder) is never
copied whole: on TensorFlow the same epoch-keyed index batches go through a
``tf.numpy_function`` that reads (and prepares) only each batch's rows; the
PyDataset indexes per batch anyway. ``batches`` feeds validation, evaluate and
predict in order, batch by batch.
"""

from __future__ import annotations

import math


def streamed(a) -> bool:
    """A ``data.Lazy``: rows read (and prepared) per batch with ``take``."""
    return getattr(a, "streamed", False)


def _take(a, idx):
    return a.take(idx) if streamed(a) else a[idx]


def _split(a, start, stop):
    import numpy as np

    return a.subset(np.arange(start, stop)) if streamed(a) else a[start:stop]


def hold_out(x, y, fraction: float):
    """Keras's validation_split: the last `fraction` of the samples, before any shuffling."""
    if not fraction:
        return x, y, None, None
    n_val = int(len(x) * fraction)
    if n_val == 0:
        return x, y, None, None
    cut = len(x) - n_val
    return _split(x, 0, cut), _split(y, 0, cut), _split(x, cut, len(x)), _split(y, cut, len(y))


def steps(n: int, batch_size: int) -> int:
    return max(1, math.ceil(n / batch_size))


def _tf_index_batches(n: int, batch_size: int, seed: int, first_epoch: int, epochs: int, shuffle: bool):
    """Batches of row indices, epoch after epoch, each epoch's order a function of (seed, epoch)."""
    import tensorflow as tf

    base = tf.constant(seed, tf.int64)

    def epoch(e):
        order = tf.range(n, dtype=tf.int64)
        if shuffle:
            order = tf.random.experimental.stateless_shuffle(order, seed=tf.stack([base, e]))
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size)

    return tf.data.Dataset.range(first_epoch, epochs).flat_map(epoch)


def tf_dataset(x, y, batch_size: int, seed: int, first_epoch: int, epochs: int, shuffle: bool):
    import tensorflow as tf

    xs, ys = tf.constant(x), tf.constant(y)
    return (
        _tf_index_batches(len(x), batch_size, seed, first_epoch, epochs, shuffle)
        .map(lambda idx: (tf.gather(xs, idx), tf.gather(ys, idx)), num_parallel_calls=tf.data.AUTOTUNE,
             deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )


def _tf_read(x, y):
    """A tf.data map: index batch -> (x, y) rows read with NumPy (a streamed ``x`` reads only those rows)."""
    import numpy as np
    import tensorflow as tf

    def read(idx):
        xb = _take(x, idx)
        if y is None:
            return (xb,)
        return xb, (xb if y is x else np.asarray(_take(y, idx)))

    parts = [x] if y is None else [x, y]
    dtypes = [tf.as_dtype(a.dtype) for a in parts]

    def load(idx):
        out = tf.numpy_function(read, [idx], dtypes, stateful=False)
        for t, a in zip(out, parts):
            t.set_shape((None, *a.shape[1:]))
        return out[0] if y is None else tuple(out)

    return load


def tf_stream_dataset(x, y, batch_size: int, seed: int, first_epoch: int, epochs: int, shuffle: bool):
    """``tf_dataset`` for streamed data: the same (seed, epoch) index batches, rows read per batch."""
    import tensorflow as tf

    return (
        _tf_index_batches(len(x), batch_size, seed, first_epoch, epochs, shuffle)
        .map(_tf_read(x, y), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )


def batches(x, y, batch_size: int, backend: str):
    """Streamed samples in order, one batch at a time (``y`` None: inputs only), for validation_data,
    model.evaluate and model.predict."""
    if backend == "tensorflow":
        import tensorflow as tf

        return (tf.data.Dataset.range(len(x)).batch(batch_size)  # a known number of batches
                .map(_tf_read(x, y), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
                .prefetch(tf.data.AUTOTUNE))
    import keras
    import numpy as np

    class InOrder(keras.utils.PyDataset):
        def __len__(self):
            return steps(len(x), batch_size) if len(x) else 0

        def __getitem__(self, i):
            idx = np.arange(i * batch_size, min((i + 1) * batch_size, len(x)))
            xb = _take(x, idx)
            if y is None:
                return xb
            return xb, (xb if y is x else _take(y, idx))

    return InOrder()


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
            xb = x[idx]
            return xb, (xb if y is x else y[idx])

        def on_epoch_end(self):
            self.epoch += 1
            self._order()

    return EpochShuffled()


def training_input(x, y, batch_size: int, seed: int, first_epoch: int, epochs: int, shuffle: bool, backend: str):
    """(data, fit kwargs) for model.fit, seeded by epoch."""
    if backend == "tensorflow":
        make = tf_stream_dataset if streamed(x) or streamed(y) else tf_dataset
        return make(x, y, batch_size, seed, first_epoch, epochs, shuffle), {
            "steps_per_epoch": steps(len(x), batch_size)}
    return py_dataset(x, y, batch_size, seed, first_epoch, shuffle), {}
