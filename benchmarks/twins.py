"""Hand-written Keras twins of the benchmark specs: what a careful person would write by hand.

Each twin loads the same .npz, holds out the same test split, builds the same layers with the
Keras Sequential API, trains with `model.fit(x, y, validation_split=..., shuffle=True)`, evaluates
on the test split and saves the model: a well-kept training script, without specc.

    python benchmarks/twins.py NAME DATA.npz OUT_DIR [--epochs N] [--precision mixed_bfloat16] [--lstm scan]
                               [--without sklearn,pandas]

``--without`` marks those packages as missing before Keras's import, so that Keras and TensorFlow do without
them, as on a machine where they are not installed.

With SPECC_TIMINGS=FILE it records the same wall-clock events as specc (Keras's import started and ended,
the first step, each epoch).
"""

from __future__ import annotations

import json
import os
import sys
import time


def build(name: str, keras, precision: str = "float32", lstm: str = "auto"):
    """The twin's model. With a mixed ``precision``, as Keras's mixed precision guide says: the policy set
    before building, the output layer in float32. ``lstm``: how LSTMs run under it: ``auto`` (Keras's
    choice), ``scan`` (use_cudnn=False: the generic loop in bfloat16) or ``float32`` (those layers in float32)."""
    L = keras.layers
    keras.config.set_dtype_policy(precision)
    out = {"dtype": "float32"}  # Keras's default when the policy is float32 anyway
    rnn = {"use_cudnn": False} if lstm == "scan" else {"dtype": "float32"} if lstm == "float32" else {}
    if name == "digits":
        return keras.Sequential([
            keras.Input((64,)), L.Dense(64, activation="relu"), L.Dropout(0.2),
            L.Dense(10, activation="softmax", **out),
        ]), keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", 32
    if name == "mlp":
        return keras.Sequential([
            keras.Input((784,)), L.Dense(512, activation="relu"), L.Dropout(0.2),
            L.Dense(256, activation="relu"), L.Dense(10, activation="softmax", **out),
        ]), "adam", "sparse_categorical_crossentropy", 128
    if name == "cnn":
        return keras.Sequential([
            keras.Input((28, 28, 1)),
            L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2), L.Dropout(0.2),
            L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2), L.Dropout(0.2),
            L.Conv2D(128, 3, activation="relu"), L.MaxPooling2D(2), L.Dropout(0.2),
            L.Flatten(), L.Dense(128, activation="relu"), L.Dense(25, activation="softmax", **out),
        ]), "adam", "sparse_categorical_crossentropy", 256
    if name == "bilstm":
        wrap = {"dtype": "float32"} if lstm == "float32" else {}
        return keras.Sequential([
            keras.Input((200,)), L.Embedding(10000, 64),
            L.Bidirectional(L.LSTM(64, return_sequences=True, **rnn), **wrap),
            L.Bidirectional(L.LSTM(32, **rnn), **wrap),
            L.Dense(1, activation="sigmoid", **out),
        ]), "adam", "binary_crossentropy", 128
    if name == "vgg":
        block = lambda f: [L.Conv2D(f, 3, padding="same", activation="relu"),  # noqa: E731
                           L.Conv2D(f, 3, padding="same", activation="relu"), L.MaxPooling2D(2)]
        return keras.Sequential([
            keras.Input((32, 32, 3)), *block(64), *block(128), *block(256), L.BatchNormalization(),
            L.Flatten(), L.Dense(256, activation="relu"), L.Dropout(0.5), L.Dense(10, activation="softmax", **out),
        ]), keras.optimizers.SGD(0.01, momentum=0.9), "sparse_categorical_crossentropy", 64
    if name == "vgg16":  # keras.applications.VGG16(weights=None), written out
        convs = lambda f, n: [L.Conv2D(f, 3, padding="same", activation="relu") for _ in range(n)]  # noqa: E731
        return keras.Sequential([
            keras.Input((224, 224, 3)),
            *convs(64, 2), L.MaxPooling2D(2), *convs(128, 2), L.MaxPooling2D(2), *convs(256, 3), L.MaxPooling2D(2),
            *convs(512, 3), L.MaxPooling2D(2), *convs(512, 3), L.MaxPooling2D(2),
            L.Flatten(), L.Dense(4096, activation="relu"), L.Dense(4096, activation="relu"),
            L.Dense(1000, activation="softmax", **out),
        ]), keras.optimizers.SGD(0.01, momentum=0.9), "sparse_categorical_crossentropy", 64
    raise SystemExit(f"unknown twin {name}")


def main(argv):
    name, data, out = argv[:3]
    epochs = int(argv[argv.index("--epochs") + 1])
    precision = argv[argv.index("--precision") + 1] if "--precision" in argv else "float32"
    lstm = argv[argv.index("--lstm") + 1] if "--lstm" in argv else "auto"
    for package in argv[argv.index("--without") + 1].split(",") if "--without" in argv else []:
        if package != os.environ.get("KERAS_BACKEND"):  # Keras's JAX backend needs JAX
            sys.modules[package] = None  # `import package` raises ImportError from here on
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    timings = os.environ.get("SPECC_TIMINGS")

    def log(**event):
        if timings:
            with open(timings, "a") as f:
                f.write(json.dumps({"t": time.time(), **event}) + "\n")

    import numpy as np  # before Keras, as specc has it when Keras's import starts: both imports time Keras alone

    log(event="keras_import")
    import keras

    log(event="keras_imported")

    class Timer(keras.callbacks.Callback):
        async_safe = True  # only timestamps: keeps Keras's asynchronous batch dispatch
        first = True

        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if self.first:
                self.first = False
                log(event="first_step")

        def on_epoch_end(self, epoch, logs=None):
            log(event="epoch", epoch=epoch + 1, seconds=time.perf_counter() - self.t0)

    keras.utils.set_random_seed(1)
    with np.load(data) as f:
        x, y = f["x"], f["y"]
    order = np.random.default_rng(1).permutation(len(x))
    n_test = int(round(len(x) * 0.1))
    x_test, y_test = x[order[:n_test]].astype("float32"), y[order[:n_test]]
    x_train, y_train = x[order[n_test:]].astype("float32"), y[order[n_test:]]
    model, optimizer, loss, batch_size = build(name, keras, precision, lstm)
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1, shuffle=True,
              verbose=2, callbacks=[Timer()])
    print(model.evaluate(x_test, y_test, batch_size=batch_size, verbose=0, return_dict=True))
    os.makedirs(out, exist_ok=True)
    model.save(os.path.join(out, "model.keras"))


if __name__ == "__main__":
    main(sys.argv[1:])
