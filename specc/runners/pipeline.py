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

A model with several inputs or outputs takes ``x``/``y`` as dicts keyed by input/output name (see
data/named.py); every function here takes either, and a dict's arrays are indexed with the same rows.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass

from .data.streams import n_samples, streamed, take


@dataclass(frozen=True)
class Batching:
    """How training batches are drawn: ``batch_size`` rows at a time, epochs ``first_epoch`` to ``epochs - 1``,
    each epoch's order a function of (``seed``, epoch) only (shuffled, or in order), through the ``backend``'s
    own input pipeline."""

    batch_size: int
    seed: int
    first_epoch: int
    epochs: int
    shuffle: bool
    backend: str = "tensorflow"

    def order(self, n: int, epoch: int):
        """The rows of one epoch, in the order they are taken (NumPy; the tf.data pipeline has its own)."""
        import numpy as np

        return np.random.default_rng([self.seed, epoch]).permutation(n) if self.shuffle else np.arange(n)


def _split(a, start, stop):
    import numpy as np

    if isinstance(a, dict):
        return {k: _split(v, start, stop) for k, v in a.items()}
    return a.subset(np.arange(start, stop)) if streamed(a) else a[start:stop]


def hold_out(x, y, fraction: float):
    """Keras's validation_split: the last `fraction` of the samples, before any shuffling."""
    if not fraction:
        return x, y, None, None
    n = n_samples(x)
    n_val = int(n * fraction)
    if n_val == 0:
        return x, y, None, None
    cut = n - n_val
    return _split(x, 0, cut), _split(y, 0, cut), _split(x, cut, n), _split(y, cut, n)


def steps(n: int, batch_size: int) -> int:
    return max(1, math.ceil(n / batch_size))


def _plain(fn):
    """``fn`` for a tf.data transformation, traced as written: none of these functions branch on tensors, and
    AutoGraph's conversion of them doubled the pipeline's set-up before the first training step."""
    import tensorflow as tf

    return tf.autograph.experimental.do_not_convert(fn)


def _tf_index_batches(n: int, b: Batching):
    """Batches of row indices, epoch after epoch, each epoch's order a function of (seed, epoch)."""
    import tensorflow as tf

    base = tf.constant(b.seed, tf.int64)

    def epoch(e):
        order = tf.range(n, dtype=tf.int64)
        if b.shuffle:
            order = tf.random.experimental.stateless_shuffle(order, seed=tf.stack([base, e]))
        return tf.data.Dataset.from_tensor_slices(order).batch(b.batch_size)

    return tf.data.Dataset.range(b.first_epoch, b.epochs).flat_map(_plain(epoch))


def tf_dataset(x, y, b: Batching):
    import tensorflow as tf

    if isinstance(x, dict) or isinstance(y, dict):
        return _tf_dataset_named(x, y, b)
    xs, ys = tf.constant(x), tf.constant(y)
    return (
        _tf_index_batches(len(x), b)
        .map(_plain(lambda idx: (tf.gather(xs, idx), tf.gather(ys, idx))), num_parallel_calls=tf.data.AUTOTUNE,
             deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )


def _tf_dataset_named(x, y, b: Batching):
    """``tf_dataset`` for several inputs or outputs: the same index batches gather every array."""
    import tensorflow as tf

    xs, ys = tf.nest.map_structure(tf.constant, x), tf.nest.map_structure(tf.constant, y)

    def gather(idx):
        return (tf.nest.map_structure(lambda t: tf.gather(t, idx), xs),
                tf.nest.map_structure(lambda t: tf.gather(t, idx), ys))

    return (
        _tf_index_batches(n_samples(x), b)
        .map(_plain(gather), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )


_read_failures: list = []  # what stopped a streamed read: TensorFlow hands it on as an error of its own


def _reported(read):
    """``read`` for tf.numpy_function, keeping the RunError (a damaged file) it may raise for streamed_reads."""
    from . import RunError

    def guarded(idx):
        try:
            return read(idx)
        except RunError as e:
            _read_failures.append(e)
            raise

    return guarded


def _read_failure():
    """The RunError that stopped a streamed read (TensorFlow reports it as an UnknownError naming a node), once."""
    failure = _read_failures[-1] if _read_failures else None
    _read_failures.clear()
    return failure


@contextmanager
def streamed_reads():
    """Around a Keras call that reads streamed batches (fit, evaluate, predict): a damaged file met while reading
    one is raised as the RunError that names it, in one line, not TensorFlow's error about a graph node."""
    _read_failure()  # none left over from an earlier call of this process
    try:
        yield
    except Exception:
        failure = _read_failure()
        if failure is None:
            raise
        raise failure from None


def _tf_read(x, y):
    """A tf.data map: index batch -> (x, y) rows read with NumPy (a streamed ``x`` reads only those rows)."""
    import numpy as np
    import tensorflow as tf

    if isinstance(x, dict) or isinstance(y, dict):
        return _tf_read_named(x, y)

    def read(idx):
        xb = take(x, idx)
        if y is None:
            return (xb,)
        return xb, (xb if y is x else np.asarray(take(y, idx)))

    parts = [x] if y is None else [x, y]
    dtypes = [tf.as_dtype(a.dtype) for a in parts]

    def load(idx):
        out = tf.numpy_function(_reported(read), [idx], dtypes, stateful=False)
        for t, a in zip(out, parts):
            t.set_shape((None, *a.shape[1:]))
        return out[0] if y is None else tuple(out)

    return load


def _tf_read_named(x, y):
    """``_tf_read`` for dicts of arrays (several inputs or outputs): every array's rows of the batch."""
    import numpy as np
    import tensorflow as tf

    structure = x if y is None else (x, y)
    parts = tf.nest.flatten(structure)

    def read(idx):
        return [np.asarray(take(a, idx)) for a in parts]

    dtypes = [tf.as_dtype(a.dtype) for a in parts]

    def load(idx):
        out = tf.numpy_function(_reported(read), [idx], dtypes, stateful=False)
        for t, a in zip(out, parts):
            t.set_shape((None, *a.shape[1:]))
        return tf.nest.pack_sequence_as(structure, out)

    return load


def tf_stream_dataset(x, y, b: Batching):
    """``tf_dataset`` for streamed data: the same (seed, epoch) index batches, rows read per batch."""
    import tensorflow as tf

    return (
        _tf_index_batches(n_samples(x), b)
        .map(_plain(_tf_read(x, y)), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )


def batches(x, y, batch_size: int, backend: str):
    """Streamed samples in order, one batch at a time (``y`` None: inputs only), for validation_data,
    model.evaluate and model.predict."""
    if backend == "tensorflow":
        import tensorflow as tf

        return (tf.data.Dataset.range(n_samples(x)).batch(batch_size)  # a known number of batches
                .map(_plain(_tf_read(x, y)), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
                .prefetch(tf.data.AUTOTUNE))
    import keras
    import numpy as np

    n = n_samples(x)

    class InOrder(keras.utils.PyDataset):
        def __len__(self):
            return steps(n, batch_size) if n else 0

        def __getitem__(self, i):
            idx = np.arange(i * batch_size, min((i + 1) * batch_size, n))
            xb = take(x, idx)
            if y is None:
                return xb
            return xb, (xb if y is x else take(y, idx))

    return InOrder()


def py_dataset(x, y, b: Batching):
    import keras

    class EpochShuffled(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.epoch = b.first_epoch
            self.order = b.order(n_samples(x), self.epoch)

        def __len__(self):
            return steps(n_samples(x), b.batch_size)

        def __getitem__(self, i):
            idx = self.order[i * b.batch_size:(i + 1) * b.batch_size]
            if isinstance(x, dict) or isinstance(y, dict):
                return take(x, idx), take(y, idx)
            xb = x[idx]
            return xb, (xb if y is x else y[idx])

        def on_epoch_end(self):
            self.epoch += 1
            self.order = b.order(n_samples(x), self.epoch)

    return EpochShuffled()


def training_input(x, y, b: Batching):
    """(data, fit kwargs) for model.fit, seeded by epoch."""
    if b.backend == "tensorflow":
        make = tf_stream_dataset if streamed(x) or streamed(y) else tf_dataset
        return make(x, y, b), {"steps_per_epoch": steps(n_samples(x), b.batch_size)}
    return py_dataset(x, y, b), {}
