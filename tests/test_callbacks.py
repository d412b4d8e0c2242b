"""The best checkpoint (specc/runners/callbacks.py): best.keras holds the weights of the best epoch, whether the
epoch it is written after is the best one (saved as it is) or an earlier one (its weights swapped in and out)."""

import numpy as np


def _weights(model):
    return [np.asarray(w) for w in model.get_weights()]


def test_best_keras_holds_the_best_epochs_weights(tmp_path):
    import keras

    from specc.runners.callbacks import BestCheckpoint
    from specc.runners.train import RunContext

    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    model.compile(optimizer="adam", loss="mse")
    ctx = RunContext(spec=None, run_dir=tmp_path, epochs=3, steps_per_epoch=1, has_validation=True, tty=False,
                     quiet=True, tensorboard_available=False)
    best = BestCheckpoint(ctx, "val_loss", "auto")
    best.set_model(model)

    def epoch(i, val_loss):
        model.set_weights([np.full(w.shape, float(i), "float32") for w in model.get_weights()])  # "training"
        best.on_epoch_end(i, {"val_loss": val_loss})
        best.flush()  # as the epoch state does after every epoch
        return _weights(model)

    first = epoch(0, 1.0)
    saved = _weights(keras.saving.load_model(tmp_path / "best.keras", compile=False))
    assert all(np.array_equal(a, b) for a, b in zip(saved, first)) and ctx.best_epoch == 1
    second = epoch(1, 2.0)  # worse: best.keras is left alone
    third = epoch(2, 0.5)  # better again, then a worse epoch whose flush swaps the best weights in
    model.set_weights(second)
    best.on_epoch_end(3, {"val_loss": 3.0})
    best.dirty = True
    best.flush()
    saved = _weights(keras.saving.load_model(tmp_path / "best.keras", compile=False))
    assert all(np.array_equal(a, b) for a, b in zip(saved, third)) and ctx.best_epoch == 3
    assert all(np.array_equal(a, b) for a, b in zip(_weights(model), second))  # the model's own weights kept
