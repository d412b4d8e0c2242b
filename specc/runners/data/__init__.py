"""Loading and preparing a spec's data (the `data` section).

The steps, in order: read the sources, encode class names as ids, cut windows (forecasting), split, turn texts
into token ids, convert the features (rescale, normalize, reshape), encode the labels. Everything is checked
against the model's static input and output shapes before training starts, so a problem is one clear message
naming the file.

What the training data teaches the preparation (class names, CSV columns, normalization statistics, the text
vocabulary) is kept in a ``Preprocessing`` object, saved with the run as ``preprocessing.json`` (through
``Arrays.artifacts``), so that `specc evaluate --data` and `specc predict` prepare new data exactly as the
training data was prepared.

Several inputs or outputs (an npz/npy source whose ``x``/``y`` map input/output names to arrays) go through
``load_named_arrays`` (named.py): the same steps per array, dicts keyed by name.

Large data streams (see "Large data" in docs/training.md): an ``npy`` source stays memory-mapped and an
``images`` source is kept as its file list (``ImageRows``); when ``stream_mode`` says so, the splits are
``Lazy`` index sets over them, prepared (rescale, normalize, reshape) one batch at a time by ``Lazy.take``,
and the input pipeline, evaluate and predict read only the rows of each batch.

The steps live in modules of their own, each importing only the ones before it: ``records`` (what the steps
pass along), ``streams`` (large data, read per batch), ``sources`` (reading), ``prepare`` (one source: classes,
windows, tokens, features, labels), ``named`` (several inputs or outputs) and ``expected`` (the data files
checked against the model), ``load`` (``load_arrays``: the data of a spec, either way; ``PendingArrays``: the
same, read on a thread while `specc train` imports Keras), ``new`` (new data for a trained run).
"""

from .load import PendingArrays, load_arrays
from .new import load_preprocessing, new_samples, prepare_new, read_new_data
from .prepare import label_mode
from .records import PREPROCESSING_FILE, Arrays, Preprocessing, Raw
from .sources import read_csv, read_npy, read_npz, read_source
from .streams import STREAM_ENV, Lazy, read_images, run_stream_mode, stream_mode

__all__ = [
    "PREPROCESSING_FILE", "STREAM_ENV", "Arrays", "Lazy", "PendingArrays", "Preprocessing", "Raw", "label_mode",
    "load_arrays", "load_preprocessing", "new_samples", "prepare_new", "read_csv", "read_images", "read_new_data",
    "read_npy", "read_npz", "read_source", "run_stream_mode", "stream_mode",
]
