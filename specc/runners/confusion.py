"""The confusion matrix counted while Keras evaluates the test set, so that drawing it needs no second pass
over the test samples (and no predict function to trace).

A classifier's test step (TensorFlow backend, one output of shape (batch, classes), test arrays in memory)
also adds each batch's (true class, predicted class) pairs to a counter kept outside the model (so it is never
saved with it). The class of a target or an output is read as ``plots.class_ids`` reads it: the index of the
largest value, or a sigmoid output above 0.5, or an integer label. Validation batches go through the same test
function and count too; the trainer resets the counter before it evaluates the test set. Where the counter does
not apply, or counted other than one pair per test sample, the plot predicts the test set as before.
"""

from __future__ import annotations


class ConfusionCounter:
    """Counts (true, predicted) class pairs in ``model``'s test step; ``matrix()`` after an evaluate."""

    def __init__(self, model, units: int):
        import tensorflow as tf

        self.units = units
        self.n = max(units, 2)
        self.counts = tf.Variable(tf.zeros((self.n * self.n,), tf.int64), trainable=False)
        self.tracing = False
        test_step, compute_metrics = model.test_step, model.compute_metrics

        def counting_test_step(data):
            self.tracing = True  # compute_metrics below is traced into the test function only
            try:
                return test_step(data)
            finally:
                self.tracing = False

        def counting_compute_metrics(x, y, y_pred, sample_weight=None):
            if self.tracing:
                self._count(y, y_pred)
            return compute_metrics(x, y, y_pred, sample_weight=sample_weight)

        model.test_step = counting_test_step
        model.compute_metrics = counting_compute_metrics

    @classmethod
    def attach(cls, model, y_test) -> ConfusionCounter | None:
        """A counter for ``model`` when its test targets ``y_test`` (an array in memory) are classes the
        confusion-matrix plot would draw; else None (the plot then predicts, as elsewhere)."""
        import keras

        from .data.streams import streamed
        from .plots import is_class_target

        if keras.backend.backend() != "tensorflow" or isinstance(model.output, list) or isinstance(y_test, dict):
            return None
        shape = model.output.shape
        if len(shape) != 2 or streamed(y_test) or not len(y_test) or not is_class_target(y_test, shape[-1]):
            return None
        return cls(model, shape[-1])

    def _ids(self, t):
        import tensorflow as tf

        if self.units == 1:
            return tf.cast(tf.reshape(t, (tf.shape(t)[0], -1))[:, 0] > 0.5, tf.int64)
        if t.shape.rank is not None and t.shape.rank >= 2 and t.shape[-1] == self.units:
            return tf.argmax(tf.reshape(t, (-1, self.units)), -1)
        return tf.cast(tf.reshape(t, (-1,)), tf.int64)

    def _count(self, y, y_pred) -> None:
        import tensorflow as tf

        true, pred = self._ids(tf.convert_to_tensor(y)), self._ids(tf.convert_to_tensor(y_pred))
        inside = (true >= 0) & (true < self.n)  # a label out of range is not counted (and the total then differs)
        pairs = tf.boolean_mask(true * self.n + pred, inside)
        self.counts.assign_add(tf.math.bincount(pairs, minlength=self.n * self.n, maxlength=self.n * self.n,
                                                dtype=tf.int64))

    def reset(self) -> None:
        self.counts.assign(self.counts * 0)

    def matrix(self, samples: int):
        """The matrix (rows: true class) counted since the last reset, or None unless it holds ``samples``."""
        counts = self.counts.numpy().reshape(self.n, self.n)
        return counts.astype(int) if int(counts.sum()) == samples else None
