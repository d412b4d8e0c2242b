"""A Keras model's config read as data, and converted to a spec's data. Pure Python: json and zipfile, no Keras.

Used by `specc import` (specc/importing.py, which writes and checks the spec) and by the checker for
``type: Model, path: ...`` (specc/analysis/reuse.py); it imports neither the checker nor the formatter.

The model's config is read as data (``config.json`` inside a .keras zip, or the JSON of
``model.to_json()``) and never given to a Keras deserializer. Each Keras layer class maps to the
specc kind of the same name (``InputLayer`` is ``Input``); the constructor arguments that the kind
has as fields are copied and those equal to specc's default left out; Keras forms become specc's
(initializer and regularizer objects, ``[3, 3]`` windows, ``axis: 3`` on a 4-D input). Anything that
differs from Keras's default and that a spec cannot hold (a weight constraint, a Lambda or custom layer,
a call argument such as ``training=False``) is a
:class:`Problem`, never silently dropped; seeds and dtype policies are not architecture and are
dropped. Nested models become ``models:`` entries used by ``type: Model`` nodes, and a layer called
more than once becomes ``type: Shared`` nodes after its first call.

API:

- ``read_model_config(path) -> dict``: the serialized model (``{"class_name", "config", ...}``) from a
  .keras file, a JSON file, or a run directory holding ``model.keras``; :class:`ImportFailure` with a
  one-line message for a missing, corrupt or non-model file.
- ``import_config(config) -> (spec, problems)``: the spec as plain data (what the YAML of the spec
  loads to: ``{"specc": 1, "name", "models", "layers", "outputs"}``) and the problems found;
  ImportFailure for a malformed config.
- ``import_layer(serialized, input_rank=None) -> (layer, problems)``: one serialized layer.
- ``convert(config) -> (spec, problems, names)``: as import_config, with the spec name of each top-level
  Keras call; ``recorded_shapes(config)``: the shapes Keras recorded for those calls.
"""

from __future__ import annotations

import json
import math
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_CONFIG_BYTES = 256 * 1024 * 1024  # a config.json larger than this is not a model config
BUILTIN_MODULES = ("keras.layers", "keras.src.layers")
MODEL_CLASSES = ("Functional", "Sequential", "Model")
KIND_OF = {"InputLayer": "Input"}  # Keras class name -> specc kind, where they differ
META = ("name", "trainable", "dtype")  # handled for every layer
WINDOW_FIELDS = ("kernel_size", "strides", "dilation_rate", "pool_size", "size", "output_padding")
PAD_FIELDS = ("padding", "cropping")  # windows in ZeroPadding/Cropping kinds only
AXIS_KINDS = ("BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization",
              "RMSNormalization", "Normalization", "Softmax", "Concatenate")

# Keras constructor arguments that no specc kind has, with Keras's default: a config holding the
# default loses nothing when the argument is left out; any other value is a problem.
KERAS_DEFAULTS: dict[str, Any] = {
    "data_format": "channels_last",
    **{f"{w}_constraint": None for w in ("kernel", "bias", "recurrent", "depthwise", "pointwise", "beta",
                                         "gamma", "alpha", "embeddings")},
    "synchronized": False, "renorm": False, "renorm_clipping": None, "renorm_momentum": 0.99,
    "quantization_config": None, "lora_rank": None, "lora_alpha": None,
    "return_state": False, "stateful": False, "zero_output_for_mask": False, "time_major": False,
    "sparse": False, "ragged": False, "optional": False,
    "use_gate": False, "sliding_window": None, "flash_attention": None,
}
# Build information, not arguments: derived from the inputs when the layer is called.
BUILD_INFO = ("query_shape", "key_shape", "value_shape", "build_input_shape")
# Call arguments that are harmless at these values.
CALL_DEFAULTS = {"mask": None, "use_causal_mask": False, "return_attention_scores": False,
                 "initial_state": None, "attention_mask": None, "query_mask": None, "value_mask": None,
                 "key_mask": None}
TENSOR_KWARGS = ("query", "value", "key")  # tensors passed by keyword, in input order (attention)

OPS_MODULES = ("keras.src.ops", "keras.ops")
OP_MERGES = {"Add": "Add", "Subtract": "Subtract", "Multiply": "Multiply", "Maximum": "Maximum",
             "Minimum": "Minimum"}
# x op c (tensor first) or c op x, as Rescaling's (scale, offset): x * scale + offset.
OP_SCALES = {
    "Add": lambda c, first: (1.0, c),
    "Subtract": lambda c, first: (1.0, -c) if first else (-1.0, c),
    "Multiply": lambda c, first: (c, 0.0),
    "TrueDivide": lambda c, first: (1.0 / c, 0.0) if first and c else (None, None),
    "Divide": lambda c, first: (1.0 / c, 0.0) if first and c else (None, None),
}

INIT_NAMES = {"GlorotUniform": "glorot_uniform", "GlorotNormal": "glorot_normal", "HeUniform": "he_uniform",
              "HeNormal": "he_normal", "LecunUniform": "lecun_uniform", "LecunNormal": "lecun_normal",
              "Zeros": "zeros", "Ones": "ones", "Identity": "identity", "IdentityInitializer": "identity"}
# Initializers with arguments: (name when every argument is Keras's default, the defaults).
INIT_ARGS = {
    "VarianceScaling": ("variance_scaling", {"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal"}),
    "RandomNormal": ("random_normal", {"mean": 0.0, "stddev": 0.05}),
    "TruncatedNormal": ("truncated_normal", {"mean": 0.0, "stddev": 0.05}),
    "RandomUniform": ("random_uniform", {"minval": -0.05, "maxval": 0.05}),
    "Orthogonal": ("orthogonal", {"gain": 1.0}),
    "Constant": (None, {"value": 0.0}),
}
INIT_IGNORED = {"seed": None, "input_axes": None, "output_axes": None}

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


class ImportFailure(ValueError):
    """The file is not a Keras model that can be read (missing, corrupt, not a model). One line."""


@dataclass(frozen=True)
class Problem:
    """Something in the model that a spec cannot express: where (``encoder/dense_1``), the Keras class, what."""

    layer: str
    kind: str
    message: str

    def __str__(self) -> str:
        where = f"layer '{self.layer}'" if self.layer else "the model"
        return f"{where} ({self.kind}): {self.message}"


# -- reading ------------------------------------------------------------------------------------
def read_model_config(path) -> dict:
    """The serialized model from a .keras file, a JSON file (``model.to_json()``, a .keras file's
    ``config.json``) or a run directory with ``model.keras``. Raises ImportFailure."""
    path = Path(path)
    if path.is_dir():
        if (path / "model.keras").is_file():
            path = path / "model.keras"
        else:
            raise ImportFailure(f"{path} is a folder, not a model (give a .keras file or a JSON config)")
    from .userfiles import regular_file_problem

    problem = regular_file_problem(path, what="model file") if path.exists() else None
    if problem:
        raise ImportFailure(problem)
    try:
        with open(path, "rb") as f:
            head = f.read(4)
            is_zip = head == b"PK\x03\x04"
            if not is_zip:
                f.seek(0)
                raw = f.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ImportFailure(f"no such file: {path}")
    except OSError as e:
        raise ImportFailure(f"cannot read {path}: {e.strerror or e}")
    if is_zip:
        raw = _zip_config(path)
    elif path.suffix == ".keras":
        raise ImportFailure(f"{path} is not a .keras file (not a zip archive)")
    if len(raw) > MAX_CONFIG_BYTES:
        raise ImportFailure(f"{path}: the model config is larger than {MAX_CONFIG_BYTES // 2**20} MB")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ImportFailure(f"{path} is not a Keras model (neither a .keras zip nor UTF-8 JSON)")
    except json.JSONDecodeError as e:
        raise ImportFailure(f"{path} is not a Keras model config: invalid JSON at line {e.lineno} column {e.colno}")
    except RecursionError:
        raise ImportFailure(f"{path}: the JSON is nested too deeply to be a model config")
    if isinstance(data, str):  # json.dumps(model.to_json()): a JSON string holding the JSON
        try:
            data = json.loads(data)
        except (json.JSONDecodeError, RecursionError):
            raise ImportFailure(f"{path} is not a Keras model config")
    if not (isinstance(data, dict) and isinstance(data.get("class_name"), str)
            and isinstance(data.get("config"), dict)):
        raise ImportFailure(f"{path} is not a Keras model config (expected an object with class_name and config)")
    return data


def _zip_config(path: Path) -> bytes:
    try:
        with zipfile.ZipFile(path) as z:
            try:
                info = z.getinfo("config.json")
            except KeyError:
                raise ImportFailure(f"{path} is a zip archive without config.json, not a .keras model")
            if info.file_size > MAX_CONFIG_BYTES:
                raise ImportFailure(f"{path}: config.json is larger than {MAX_CONFIG_BYTES // 2**20} MB")
            with z.open(info) as f:
                return f.read(MAX_CONFIG_BYTES + 1)
    except ImportFailure:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError) as e:
        raise ImportFailure(f"{path} is a corrupt .keras file ({str(e) or type(e).__name__})")


# -- converting ---------------------------------------------------------------------------------
def import_config(config: dict) -> tuple[dict, list[Problem]]:
    """The spec (plain data, as its YAML loads) for a serialized Keras model, and what it cannot express.
    Raises ImportFailure for a config that is not what Keras writes."""
    spec, problems, _ = convert(config)
    return spec, problems


def import_layer(serialized: dict, input_rank: int | None = None) -> tuple[dict, list[Problem]]:
    """One serialized Keras layer (``keras.saving.serialize_keras_object(layer)``) as a spec layer."""
    conv = _Converter()
    where = str((serialized.get("config") or {}).get("name") or serialized.get("class_name"))
    return conv.layer(serialized, where, input_rank, []), conv.problems


def convert(config: dict) -> tuple[dict, list[Problem], dict]:
    """The spec, the problems, and the spec name of each top-level Keras call ((layer, node index) -> name).
    A config that is not what Keras writes (a hand-edited or hostile file) raises ImportFailure."""
    try:
        return _convert_model(config)
    except RecursionError:
        raise ImportFailure("the model config is nested too deeply") from None
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as e:
        raise ImportFailure(f"the model config is malformed ({type(e).__name__}: {_short(str(e), 80)})") from None


def _convert_model(config: dict) -> tuple[dict, list[Problem], dict]:
    if not isinstance(config, dict):
        return {"specc": 1, "layers": []}, [Problem("", type(config).__name__, "not a Keras model config")], {}
    conv = _Converter()
    name = str((config.get("config") or {}).get("name") or "model")[:128]
    spec: dict = {"specc": 1, "name": name}
    cls = config.get("class_name")
    if cls not in MODEL_CLASSES or not _builtin_model(config):
        conv.problem("", str(cls), "not a Functional or Sequential model: a subclassed model has no layer graph "
                     "in its config (rebuild it with the functional API, or import its parts)")
        return {**spec, "layers": []}, conv.problems, {}
    layers, outputs = conv.model(config, prefix="")
    if conv.models:
        spec["models"] = conv.models
    spec["layers"] = layers
    if outputs is not None:
        spec["outputs"] = outputs
    return spec, conv.problems, conv.names


def _builtin_model(entry: dict) -> bool:
    module = entry.get("module")
    return module is None or module == "keras" or str(module).startswith("keras.src.models")


@dataclass
class _Node:
    layer: dict  # the spec layer (without name and inputs yet)
    want: str | None  # the Keras name; None for a later call of a shared layer
    sources: list  # [(layer name, node index, tensor index)]
    key: tuple  # (layer name, node index)
    base: str = ""  # specc's default name for the kind (auto-naming)
    name: str = ""
    explicit: bool = True  # whether the spec writes the name (or specc's automatic naming gives it)


class _Converter:
    def __init__(self):
        self.problems: list[Problem] = []
        self.models: dict[str, dict] = {}
        self._model_keys: dict[int, str] = {}
        self.names: dict[tuple, str] = {}  # top-level (Keras layer, node index) -> spec layer name

    def problem(self, where: str, kind: str, message: str) -> None:
        self.problems.append(Problem(where, kind, message))

    # -- models ------------------------------------------------------------
    def model(self, entry: dict, prefix: str, input_shape=None) -> tuple[list, list | None]:
        """(layers, outputs or None) of a Functional or Sequential model's serialized form."""
        cfg = entry.get("config") or {}
        if entry.get("class_name") == "Sequential":
            nodes, outs = self._sequential(cfg, prefix, entry, input_shape)
        else:
            nodes, outs = self._functional(cfg, prefix)
        return self._emit(nodes, outs, prefix)

    def _sequential(self, cfg: dict, prefix: str, entry: dict, input_shape=None):
        entries = [e for e in cfg.get("layers") or [] if isinstance(e, dict)]
        nodes: list[_Node] = []
        if not entries or entries[0].get("class_name") != "InputLayer":
            shape = cfg.get("build_input_shape") or (entry.get("build_config") or {}).get("input_shape") or input_shape
            if not isinstance(shape, list) or not shape:
                self.problem(prefix.rstrip("/"), "Sequential", "the model has no input shape (build it, or start it "
                             "with keras.Input, before saving)")
                return [], None
            nodes.append(_Node({"type": "Input", "shape": list(shape[1:])}, "input_layer", [], ("input_layer", 0)))
        for e in entries:
            c = e.get("config") or {}
            name = str(c.get("name") or e.get("name") or e.get("class_name"))
            source = [(nodes[-1].key[0], 0, 0)] if nodes else []
            built = (e.get("build_config") or {}).get("input_shape")
            layer = self.layer(e, prefix + name, _rank(built), [built] if nodes else [])
            nodes.append(_Node(layer, name, source, (name, 0)))
        return nodes, None

    def _functional(self, cfg: dict, prefix: str):
        entries = [e for e in cfg.get("layers") or [] if isinstance(e, dict)]
        nodes: list[_Node] = []
        for e in entries:
            c = e.get("config") or {}
            name = str(e.get("name") or c.get("name") or e.get("class_name"))
            inbound = e.get("inbound_nodes") or []
            if e.get("class_name") == "InputLayer" or not inbound:
                layer = self.layer(e, prefix + name, None, [])
                nodes.append(_Node(layer, name, [], (name, 0)))
                continue
            if str(e.get("module") or "").startswith(OPS_MODULES):
                op = self._op(e, prefix + name, inbound)
                if op is not None:
                    nodes.append(_Node(op[0], name, op[1], (name, 0)))
                continue
            for k, call in enumerate(inbound):
                sources, shapes = self._call_inputs(call, prefix + name, e.get("class_name"))
                if k == 0 or self._is_model(e):
                    layer = self.layer(e, prefix + name, _rank(shapes[0] if shapes else None), shapes, call=k)
                    want = name if k == 0 else None
                else:
                    layer = {"type": "Shared", "layer": name}
                    want = None
                nodes.append(_Node(layer, want, sources, (name, k)))
        # The model's inputs first, in its input order (the order a built model takes them in).
        first = [(ref[0], ref[1]) for ref in _refs(cfg.get("input_layers")) or []]
        nodes.sort(key=lambda n: first.index(n.key) if n.key in first else len(first))
        outs = _refs(cfg.get("output_layers"))
        return nodes, outs

    def _call_inputs(self, call, where: str, kind: str) -> tuple[list, list]:
        """The tensors a layer call takes, in input order: [(layer, node, tensor)], and their shapes."""
        if isinstance(call, list):  # Keras 2: [[name, node, tensor, kwargs], ...]
            refs = [(str(x[0]), int(x[1]), int(x[2])) for x in call if isinstance(x, list) and len(x) >= 3]
            for x in call:
                if isinstance(x, list) and len(x) > 3 and isinstance(x[3], dict):
                    self._call_kwargs(x[3], where, kind)
            return refs, [None] * len(refs)
        found: list = []
        _tensors(call.get("args") or [], found)
        kwargs = dict(call.get("kwargs") or {})
        for k in TENSOR_KWARGS:
            if k in kwargs and _has_tensor(kwargs[k]):
                _tensors(kwargs.pop(k), found)
        self._call_kwargs(kwargs, where, kind)
        refs = [(str(h[0]), int(h[1]), int(h[2])) for h, _ in found]
        return refs, [shape for _, shape in found]

    def _op(self, entry: dict, where: str, inbound: list) -> tuple[dict, list] | None:
        """A Keras operation applied to tensors (``x + 3.0``, ``x * y``) as the layer that computes it."""
        cls = str(entry.get("class_name"))
        call = inbound[0] if len(inbound) == 1 and isinstance(inbound[0], dict) else None
        args = list(call.get("args") or []) if call else []
        if call and len(args) == 1 and isinstance(args[0], list):
            args = args[0]
        tensors = [a for a in args if _has_tensor(a)]
        numbers = [a for a in args if isinstance(a, (int, float)) and not isinstance(a, bool)]
        if call and not (call.get("kwargs") or {}) and len(args) == 2 and len(tensors) + len(numbers) == 2:
            sources, _ = self._call_inputs({"args": tensors}, where, cls)
            if len(tensors) == 2 and cls in OP_MERGES:
                return {"type": OP_MERGES[cls]}, sources
            if len(tensors) == 1 and cls in OP_SCALES:
                c, tensor_first = float(numbers[0]), _has_tensor(args[0])
                scale, offset = OP_SCALES[cls](c, tensor_first)
                if scale is not None:
                    layer = {"type": "Rescaling", "scale": float(scale)}
                    if offset:
                        layer["offset"] = float(offset)
                    return layer, sources
        module = str(entry.get("module")).replace(".src", "")
        self.problem(where, cls, f"a Keras operation ({module}.{_snake_op(cls)}) applied to tensors directly; specc "
                     "expresses only layers (and scalar +, -, *, / as Rescaling, tensor +, -, * as merges)")
        return None

    def _call_kwargs(self, kwargs: dict, where: str, kind: str) -> None:
        for k, v in kwargs.items():
            if _has_tensor(v):
                self.problem(where, kind, f"called with a tensor as `{k}`, which a spec cannot express")
            elif k in CALL_DEFAULTS and v == CALL_DEFAULTS[k]:
                continue
            elif k == "training" and v in (None, False):
                # Keras records training=False for layers whose call defaults to it (Dropout, LSTM), and a
                # functional model passes its own training flag over it whenever it has one (fit, predict).
                continue
            elif k == "training":
                self.problem(where, kind, "called with training=True (dropout and noise also at inference), which "
                             "a spec cannot express")
            else:
                self.problem(where, kind, f"called with {k}={_short(v)}, which a spec cannot express")

    def _emit(self, nodes: list[_Node], outs: list | None, prefix: str) -> tuple[list, list | None]:
        """Order, name and wire the nodes; spec layers and outputs (None: the last layer)."""
        nodes = _toposort(nodes)
        by_key = {n.key: n for n in nodes}
        for n in nodes:
            n.base = _default_name(n.layer)
        # A layer that another names (beyond the next layer in a chain) carries its name in the spec.
        referenced = {(ref[0], ref[1]) for ref in outs or []} if len(outs or []) > 1 or (
            outs and nodes and (outs[0][0], outs[0][1]) != nodes[-1].key) else set()
        for i, n in enumerate(nodes):
            keys = [(src[0], src[1]) for src in n.sources]
            if len(keys) > 1 or (keys and (i == 0 or keys[0] != nodes[i - 1].key)):
                referenced.update(keys)
            if n.layer.get("type") == "Shared":
                referenced.add((n.layer["layer"], 0))
        _assign_names(nodes, referenced)
        if not prefix:
            self.names = {n.key: n.name for n in nodes}
        layers = []
        previous = None
        for n in nodes:
            refs = []
            for src in n.sources:
                target = by_key.get((src[0], src[1]))
                if target is None:
                    self.problem(prefix + n.name, n.layer.get("type", "?"), f"takes its input from '{src[0]}' "
                                 f"(call {src[1]}), which is not in the model's config")
                    continue
                if src[2] != 0:
                    self.problem(prefix + n.name, n.layer.get("type", "?"), f"takes output {src[2]} of "
                                 f"'{src[0]}', and a spec names only a layer's first output")
                refs.append(target.name)
            item: dict = {"type": n.layer["type"]}
            if n.explicit:
                item["name"] = n.name
            if n.layer["type"] != "Input" and refs and refs != ([previous] if previous else []):
                item["inputs"] = refs[0] if len(refs) == 1 else refs
            item.update({k: v for k, v in n.layer.items() if k != "type"})
            if "trainable" in item:
                item["trainable"] = item.pop("trainable")
            layers.append(item["type"] if list(item) == ["type"] else item)
            previous = n.name
        out_names = []
        for ref in outs or []:
            target = by_key.get((ref[0], ref[1]))
            if target is not None:
                if ref[2] != 0:
                    self.problem(prefix + ref[0], target.layer.get("type", "?"), f"the model's output is output "
                                 f"{ref[2]} of the layer, and a spec names only a layer's first output")
                out_names.append(target.name)
        if not nodes or out_names == [nodes[-1].name] or not out_names:
            return layers, None
        return layers, out_names

    def _is_model(self, entry: dict) -> bool:
        return entry.get("class_name") in MODEL_CLASSES and _builtin_model(entry)

    def _submodel(self, entry: dict, where: str, shapes: list) -> str | None:
        """The `models:` key for a nested model (converted once per model object)."""
        cfg = entry.get("config") or {}
        ident = id(cfg)
        if ident in self._model_keys:
            return self._model_keys[ident]
        key = re.sub(r"[^A-Za-z0-9_]", "_", str(cfg.get("name") or "model"))[:60] or "model"
        if not re.match(r"[A-Za-z_]", key):
            key = "m_" + key
        base, k = key, 1
        while key in self.models:
            key = f"{base}_{k}"
            k += 1
        self._model_keys[ident] = key
        self.models[key] = {}  # reserve the key (nested entries come first in the dict)
        layers, outputs = self.model(entry, where + "/", input_shape=shapes[0] if shapes else None)
        body: dict = {"layers": layers}
        if outputs is not None:
            body["outputs"] = outputs
        if entry.get("class_name") == "Sequential":
            body["sequential"] = True  # its weights are stored under .../sequential/...
        del self.models[key]
        self.models[key] = body
        return key

    # -- layers ------------------------------------------------------------
    def layer(self, entry: dict, where: str, rank: int | None, shapes: list, call: int = 0,
              context: str | None = None) -> dict:
        """One Keras layer as a spec layer (type first); problems are recorded, never raised."""
        cls = str(entry.get("class_name"))
        cfg = entry.get("config") if isinstance(entry.get("config"), dict) else {}
        module = str(entry.get("module") or "")
        if self._is_model(entry):
            key = self._submodel(entry, where, shapes)
            out: dict = {"type": "Model", "model": key}
            if cfg.get("trainable") is False:
                out["trainable"] = False
            return out
        if cls == "Lambda":
            self.problem(where, cls, "a Lambda layer runs Python code, which a spec cannot hold (and specc never "
                         "loads code); rebuild it from built-in layers")
            return {"type": cls}
        from .layers import REGISTRY

        kind = KIND_OF.get(cls, cls)
        target = REGISTRY.get(kind)
        # A class of Keras's own beside its applications (ConvNeXt's LayerScale) is known by its module.
        builtin = module.startswith(BUILTIN_MODULES) or module == getattr(target, "keras_module", None)
        registered = entry.get("registered_name")
        custom = (module and not builtin) or (registered not in (None, cls))
        if custom or target is None or getattr(target, "category", "") == "reuse":
            what = f"a custom layer class ({module + '.' + cls if module else registered})" if custom else \
                f"specc has no {cls} layer kind"
            self.problem(where, cls, f"{what}; specc imports only the built-in Keras layers it knows")
            return {"type": cls}
        out = {"type": kind}
        args = dict(cfg)
        if kind == "Input":
            self._input(args, out, where)
        elif kind in ("Bidirectional", "TimeDistributed"):
            self._wrapper(kind, args, out, where, rank, shapes)
        for key in list(args):
            if key in META or key in BUILD_INFO or key.endswith("seed") and key not in target.model_fields:
                continue
            value = args[key]
            if key in target.model_fields and key not in ("type", "name", "inputs", "input_shape", "trainable"):
                converted = self.value(key, value, where, cls, kind)
                if converted is _DROP:
                    continue
                converted = _normalize(target, kind, key, converted, rank, args)
                if not _is_default(target, key, converted):
                    out[key] = converted
            elif key in KERAS_DEFAULTS and _same(value, KERAS_DEFAULTS[key]):
                continue
            elif key == "zero_output_for_mask" and context == "Bidirectional":
                continue  # Bidirectional sets it on the layers it wraps
            else:
                shown = _keras_object(value) if isinstance(value, dict) and "class_name" in value else _short(value)
                why = " (specc has no weight constraints)" if key.endswith("_constraint") else ""
                self.problem(where, cls, f"argument {key}={shown} cannot be expressed in a spec{why}")
        if cfg.get("trainable") is False:
            out["trainable"] = False
        self._validate(target, out, where, cls)
        order = {k: i for i, k in enumerate(target.model_fields)}
        order.update(type=-1, trainable=len(order))
        return dict(sorted(out.items(), key=lambda kv: order.get(kv[0], len(order))))

    def _input(self, args: dict, out: dict, where: str) -> None:
        shape = args.pop("batch_shape", None)
        if shape is None and "batch_input_shape" in args:  # Keras 2
            shape = args.pop("batch_input_shape")
        if shape is None and "shape" in args:
            shape = [None, *(args.pop("shape") or [])]
        if not isinstance(shape, list) or not shape:
            self.problem(where, "InputLayer", "the input has no shape")
            shape = [None]
        if shape[0] is not None:
            self.problem(where, "InputLayer", f"a fixed batch size ({shape[0]}) cannot be expressed in a spec")
        out["shape"] = list(shape[1:])
        dtype = args.pop("dtype", None)
        if isinstance(dtype, dict):  # a policy (Keras 3.x writes a name for InputLayer)
            dtype = (dtype.get("config") or {}).get("name")
        if dtype not in (None, "float32"):
            out["dtype"] = dtype
        args.pop("batch_size", None)

    def _wrapper(self, kind: str, args: dict, out: dict, where: str, rank, shapes) -> None:
        inner = args.pop("layer", None)
        backward = args.pop("backward_layer", None)
        if not isinstance(inner, dict):
            self.problem(where, kind, "the wrapped layer is missing")
            return
        inner_cfg = inner.get("config") if isinstance(inner.get("config"), dict) else {}
        inner_rank = rank - 1 if (kind == "TimeDistributed" and rank) else rank
        layer = self.layer(inner, where + "/" + str(inner_cfg.get("name")), inner_rank, [], context=kind)
        name = str(inner_cfg.get("name") or "")
        if kind == "Bidirectional":
            name = name.removeprefix("forward_")
            if isinstance(backward, dict) and not _mirrors(inner, backward):
                self.problem(where, kind, "its backward_layer differs from the forward layer by more than the "
                             "direction; a spec's Bidirectional runs one layer both ways")
        if name and name != _default_name(layer) and _PLAIN.match(name):
            layer = {"type": layer["type"], "name": name, **{k: v for k, v in layer.items() if k != "type"}}
        out["layer"] = layer

    def value(self, key: str, value, where: str, cls: str, kind: str):
        """A Keras argument value in specc's form (or _DROP after recording a problem)."""
        if isinstance(value, dict) and value.get("class_name") == "__tuple__":
            value = (value.get("config") or {}).get("value")
        if key.endswith("_initializer"):
            return self._initializer(key, value, where, cls)
        if key.endswith("_regularizer"):
            return self._regularizer(key, value, where, cls)
        if key in ("activation", "recurrent_activation"):
            if isinstance(value, dict):
                name = value.get("config") if value.get("class_name") == "function" else None
                if isinstance(name, str) and str(value.get("module", "")).startswith("keras"):
                    return name
                self.problem(where, cls, f"{key} is a custom function ({_short(value)}), which a spec cannot hold")
                return _DROP
            return value
        if isinstance(value, dict):
            self.problem(where, cls, f"argument {key}={_keras_object(value)} cannot be expressed in a spec")
            return _DROP
        return _plain(value)

    def _initializer(self, key: str, value, where: str, cls: str):
        if value is None or isinstance(value, str):
            return value
        if not isinstance(value, dict):
            self.problem(where, cls, f"argument {key}={_short(value)} cannot be expressed in a spec")
            return _DROP
        name = str(value.get("class_name"))
        config = {k: v for k, v in (value.get("config") or {}).items()
                  if not (k in INIT_IGNORED and (k == "seed" or v == INIT_IGNORED[k]))}
        if name in INIT_NAMES and not config:
            return INIT_NAMES[name]
        if name in INIT_ARGS:
            short, defaults = INIT_ARGS[name]
            unknown = set(config) - set(defaults)
            simple = all(isinstance(v, (int, float, str)) and not isinstance(v, bool) for v in config.values())
            if not unknown and simple:
                args = {k: v for k, v in config.items() if not _same(v, defaults[k])}
                if name == "VarianceScaling" and args.get("distribution") == "normal":
                    args.pop("distribution")  # Keras's old name for truncated_normal
                if not args and short is not None:
                    return short
                return {"type": name, **args}
        self.problem(where, cls, f"argument {key}={_keras_object(value)} cannot be expressed in a spec")
        return _DROP

    def _regularizer(self, key: str, value, where: str, cls: str):
        if value is None:
            return None
        if isinstance(value, dict) and value.get("class_name") in ("L1", "L2", "L1L2", "l1", "l2", "l1_l2"):
            c = value.get("config") or {}
            out = {k: float(c[k]) for k in ("l1", "l2") if isinstance(c.get(k), (int, float)) and c.get(k)}
            return out or None  # L1L2(0, 0) penalizes nothing
        shown = _keras_object(value) if isinstance(value, dict) else _short(value)
        self.problem(where, cls, f"argument {key}={shown} cannot be expressed in a spec (L1, L2 and L1L2 can)")
        return _DROP

    def _validate(self, target, out: dict, where: str, cls: str) -> None:
        from pydantic import ValidationError

        try:
            target.model_validate(out)
        except ValidationError as e:
            found: dict[str, str] = {}
            for err in e.errors():
                # The path in the data (leaving out union labels), and the last (most specific) message for it.
                node, path = out, []
                for part in err["loc"]:
                    if isinstance(node, dict) and part in node or isinstance(node, list) and isinstance(part, int) \
                            and 0 <= part < len(node):
                        node = node[part]
                        path.append(str(part))
                key = ".".join(path) or "value"
                why = _short(err["msg"].lower(), 100)
                found[key] = f"argument {key}={_short(node)} cannot be expressed in a spec: {why}"
            for message in list(found.values())[:5]:
                self.problem(where, cls, message)


_DROP = object()


def _snake_op(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _tensors(value, found: list) -> None:
    """Keras tensors in call arguments, in order: [(keras_history, shape)]."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            c = value.get("config") or {}
            history = c.get("keras_history")
            if isinstance(history, list) and len(history) >= 3:
                found.append((history, c.get("shape")))
            return
        for v in value.values():
            _tensors(v, found)
    elif isinstance(value, list):
        for v in value:
            _tensors(v, found)


def _has_tensor(value) -> bool:
    found: list = []
    _tensors(value, found)
    return bool(found)


def _refs(value) -> list | None:
    """``input_layers``/``output_layers``: one [name, node, tensor] or a list of them."""
    if not isinstance(value, list) or not value:
        return None
    if isinstance(value[0], str):
        value = [value]
    return [(str(v[0]), int(v[1]), int(v[2])) for v in value if isinstance(v, list) and len(v) >= 3]


def _rank(shape) -> int | None:
    if isinstance(shape, list) and shape and all(isinstance(d, (int, type(None))) for d in shape):
        return len(shape)
    return None


def _plain(value):
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _collapse(value):
    """[3, 3] -> 3 and [[1, 1], [1, 1]] -> 1: a window that is the same on every axis."""
    if isinstance(value, list):
        items = [_collapse(v) for v in value]
        if items and all(isinstance(v, int) and not isinstance(v, bool) for v in items) and len(set(items)) == 1:
            return items[0]
        return items
    return value


def _normalize(target, kind: str, key: str, value, rank: int | None, args: dict):
    if key in WINDOW_FIELDS or (key in PAD_FIELDS and kind.startswith(("ZeroPadding", "Cropping"))):
        value = _collapse(value)
        if key == "strides" and "pool_size" in args and value == _collapse(_plain(args["pool_size"])):
            return None  # Keras writes the default (strides = pool_size) out
    if key == "axis" and kind in AXIS_KINDS:
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if isinstance(value, int) and rank is not None and value == rank - 1 and value > 0:
            value = -1
    if key == "attention_axes" and rank is not None and value is not None:
        axes = [value] if isinstance(value, int) else value
        if [a if a >= 0 else rank + a for a in axes] == list(range(1, rank - 1)):
            return None  # what Keras fills in when it builds the layer: every axis between batch and features
    if key == "activation" and value == "linear" and target.model_fields[key].default is None:
        return None  # specc writes no activation as null
    return value


def _is_default(target, key: str, value) -> bool:
    f = target.model_fields[key]
    if f.is_required():
        return False
    default = f.default_factory() if f.default_factory is not None else f.default
    return _same(value, default)


def _same(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or math.isclose(a, b, rel_tol=1e-6, abs_tol=0.0)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _mirrors(forward: dict, backward: dict) -> bool:
    """Whether a Bidirectional's backward layer is its forward layer run the other way."""
    if forward.get("class_name") != backward.get("class_name"):
        return False
    fc, bc = dict(forward.get("config") or {}), dict(backward.get("config") or {})
    for c in (fc, bc):
        for k in ("name", "zero_output_for_mask", "seed", "dtype"):
            c.pop(k, None)
    if fc.pop("go_backwards", False) == bc.pop("go_backwards", False):
        return False
    return _comparable(fc) == _comparable(bc)


def _comparable(value):
    """A config without seeds and the ids Keras adds to objects it serializes twice (.keras files)."""
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items() if k not in ("seed", "shared_object_id")}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


def _keras_object(value: dict) -> str:
    """A serialized Keras object as its constructor call: ``MaxNorm(max_value=2.0, axis=0)``."""
    config = value.get("config")
    args = ", ".join(f"{k}={_short(v, 20)}" for k, v in config.items() if k != "seed") \
        if isinstance(config, dict) else _short(config, 20)
    return _short(f"{value.get('class_name')}({args})", 80)


def _short(value, limit: int = 60) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _default_name(layer: dict | str) -> str:
    """specc's automatic name for a layer (Keras's: dense, conv2d, ...)."""
    from .layers.base import snake

    kind = layer if isinstance(layer, str) else layer.get("type", "")
    if kind == "Input":
        return "input_layer"
    if kind == "Model":
        return layer.get("model") or "model"
    if kind == "Shared":
        return f"{layer.get('layer')}_shared"
    return snake(kind)


def _assign_names(nodes: list[_Node], referenced: set) -> None:
    """Final names. A name is written when another layer refers to it, or when specc's automatic
    naming (dense, dense_1, ...) would not give it; the others are left to that naming."""
    from .layers.base import unique_name

    def simulate(explicit):
        taken = {n.want for n, e in zip(nodes, explicit) if e}
        tried: dict[str, int] = {}
        return [n.want if e else unique_name(n.base, taken, tried) for n, e in zip(nodes, explicit)]

    # A Keras name a spec cannot hold (a leading digit, a space) becomes the nearest one it can.
    taken = {n.want for n in nodes if n.want is not None}
    for n in nodes:
        if n.want is not None and not (_PLAIN.match(n.want) and len(n.want) <= 128):
            base = re.sub(r"[^A-Za-z0-9_.\-]", "_", n.want)[:120]
            base = base if re.match(r"[A-Za-z_]", base) else "_" + base
            name, k = base, 1
            while name in taken:
                name, k = f"{base}_{k}", k + 1
            taken.add(name)
            n.want = name
    # A later call of a shared layer or model has no Keras name: it takes the automatic one.
    for n, name in zip(nodes, simulate([False] * len(nodes))):
        if n.want is None:
            n.want = name
    auto = re.compile(r"(?P<base>.+?)(_\d+)?")
    explicit = [n.key in referenced or auto.fullmatch(n.want).group("base") != n.base and n.want != n.base
                for n in nodes]
    while True:
        names = simulate(explicit)
        wrong = [i for i, e in enumerate(explicit) if not e and names[i] != nodes[i].want]
        if not wrong:
            break
        for i in wrong:
            explicit[i] = True
    for n, name, e in zip(nodes, names, explicit):
        n.name, n.explicit = name, e


def _toposort(nodes: list[_Node]) -> list[_Node]:
    """Config order, with a later call of a shared layer moved after its inputs (stable Kahn)."""
    import heapq

    keys = {n.key for n in nodes}
    pending = {}
    users: dict[tuple, list[int]] = {}
    for i, n in enumerate(nodes):
        deps = {(s[0], s[1]) for s in n.sources if (s[0], s[1]) in keys}
        if n.layer.get("type") == "Shared":
            deps.add((n.layer["layer"], 0))
        deps &= keys
        pending[i] = len(deps)
        for d in deps:
            users.setdefault(d, []).append(i)
    ready = [i for i in range(len(nodes)) if pending[i] == 0]
    heapq.heapify(ready)
    out = []
    while ready:
        i = heapq.heappop(ready)
        out.append(nodes[i])
        for u in users.get(nodes[i].key, []):
            pending[u] -= 1
            if pending[u] == 0:
                heapq.heappush(ready, u)
    if len(out) < len(nodes):  # a cycle: Keras would not have built it; keep the config order
        out += [n for n in nodes if n not in out]
    return out


def recorded_shapes(config: dict) -> dict[tuple, Any]:
    """The output shape Keras recorded for each (layer, call index) that another layer is called on
    (a functional config records the shape of every tensor a layer is called on)."""
    recorded: dict[tuple, Any] = {}
    for e in (config.get("config") or {}).get("layers") or []:
        for call in (e.get("inbound_nodes") or []) if isinstance(e, dict) else []:
            if isinstance(call, dict):
                found: list = []
                _tensors(call, found)
                for history, shape in found:
                    recorded[(str(history[0]), int(history[1]))] = shape
    return recorded
