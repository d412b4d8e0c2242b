"""What every layer kind shares: fields, the registry, shape and parameter rules.

A layer kind is one Pydantic model class. Its fields are the Keras constructor
arguments (same names), its ``infer`` method is the static shape rule, its
``count_params`` the parameter rule, and ``to_keras`` the lowering (by default:
the Keras layer class of the same name, called with the fields the user set).
Subclassing registers the kind; the package's index (``specc.layers.FAMILIES``) names its module, so that a
spec imports only the families of the kinds it uses.

Shapes are tuples that include the batch axis (``None`` for unknown sizes),
exactly as Keras reports them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache, partial
from importlib import import_module
from typing import Annotated, Any, ClassVar, Literal, Union, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    TypeAdapter,
    model_validator,
)
from pydantic_core import core_schema

Shape = tuple  # tuple[int | None, ...] including the batch axis


class Registry(Mapping):
    """Every layer kind by its `type` tag, in the index's order. The index (``index``) says which module of a
    package defines each kind; a family's module is imported the first time one of its kinds is looked up,
    so that checking a spec of dense layers does not define the convolutions too. Iterating the tags imports
    nothing; ``values()`` and ``items()`` import every family."""

    def __init__(self) -> None:
        self.modules: dict[str, str] = {}  # tag -> module that defines it
        self.kinds: dict[str, type[Layer]] = {}  # the kinds defined so far

    def index(self, package: str, families: dict[str, tuple[str, ...]]) -> None:
        self.modules.update({tag: f"{package}.{family}" for family, tags in families.items() for tag in tags})

    def register(self, tag: str, kind: type[Layer]) -> None:
        self.kinds[tag] = kind

    def __getitem__(self, tag: str) -> type[Layer]:
        if tag not in self.kinds and tag in self.modules:
            import_module(self.modules[tag])
        return self.kinds[tag]

    def __contains__(self, tag: object) -> bool:
        return tag in self.modules or tag in self.kinds

    def __iter__(self) -> Iterator[str]:
        yield from self.modules
        yield from (tag for tag in self.kinds if tag not in self.modules)

    def __len__(self) -> int:
        return sum(1 for _ in self)


REGISTRY = Registry()

# Every activation ``keras.activations`` exports (Keras 3) is either accepted by name here or refused in
# REFUSED_ACTIVATIONS with the reason; tests/test_layers_keras.py compares both with keras.activations.
ACTIVATIONS = (
    "linear", "relu", "sigmoid", "tanh", "softmax", "log_softmax", "elu", "selu", "gelu",
    "silu", "swish", "mish", "softplus", "softsign", "exponential", "hard_sigmoid",
    "hard_silu", "hard_swish", "leaky_relu", "relu6", "celu", "sparse_plus",
    "squareplus", "tanh_shrink", "hard_tanh", "hard_shrink", "soft_shrink", "sparsemax",
    "log_sigmoid", "sparse_sigmoid",
)
REFUSED_ACTIVATIONS = {
    # Keras builds these by name, and the model then fails at its first batch.
    "glu": "specc refuses 'glu', which Keras accepts by name: it halves the last axis when it runs while Keras "
           "layers report the unhalved shape, so the next layer is built for the wrong size and the model fails at "
           "its first batch",
    "threshold": "specc refuses 'threshold', which Keras accepts by name: the function needs `threshold` and "
                 "`default_value` arguments, which a name cannot give, so the model fails at its first batch (for "
                 "default_value 0, a ReLU layer with `threshold:` does the same)",
}


def _activation_refused(value):
    if isinstance(value, str) and value in REFUSED_ACTIVATIONS:
        from pydantic_core import PydanticCustomError

        raise PydanticCustomError("activation_refused", "{reason}", {"reason": REFUSED_ACTIVATIONS[value]})
    return value


ActivationName = Annotated[Literal[ACTIVATIONS], BeforeValidator(_activation_refused)]

InitializerName = Literal[
    "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal",
    "orthogonal", "zeros", "ones", "random_uniform", "random_normal", "truncated_normal",
    "variance_scaling", "identity",
]

PositiveInt = Annotated[int, Field(gt=0)]
# Keras's floating dtype policies; a layer's `dtype` (Input takes integer dtypes too).
LayerDType = Literal["float32", "float16", "bfloat16", "float64", "mixed_float16", "mixed_bfloat16"]
# Where a Keras layer takes `data_format`: specc's shape rules are written for channels_last, and
# Layer.output_of moves the channel axis for channels_first.
DataFormat = Annotated[Literal["channels_last", "channels_first"], Field(
    description="channels_last: (batch, ..., channels); channels_first: (batch, channels, ...).")]
Dim = Union[PositiveInt, None]
Padding = Literal["valid", "same"]


class ShapeError(Exception):
    """A static shape/argument problem; ``field`` names the offending argument."""

    def __init__(self, message: str, field: str | None = None, code: str = "E301", help: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code
        self.help = help


@dataclass(frozen=True)
class Params:
    trainable: int = 0
    non_trainable: int = 0

    @property
    def total(self) -> int:
        return self.trainable + self.non_trainable

    def __add__(self, other: Params) -> Params:
        return Params(self.trainable + other.trainable, self.non_trainable + other.non_trainable)

    def frozen(self) -> Params:
        return Params(0, self.total)


class Regularizer(BaseModel):
    """Weight penalty: ``{l2: 1.0e-4}``, ``{l1: 1.0e-5, l2: 1.0e-4}``."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, defer_build=True)
    l1: Annotated[float, Field(ge=0)] = 0.0
    l2: Annotated[float, Field(ge=0)] = 0.0

    def to_keras(self):
        import keras

        if self.l1 and not self.l2:
            return keras.regularizers.L1(self.l1)
        if self.l2 and not self.l1:
            return keras.regularizers.L2(self.l2)
        return keras.regularizers.L1L2(l1=self.l1, l2=self.l2)


# -- initializers with arguments (`specc import` writes them; Keras's own names and arguments) --
class _InitializerArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, defer_build=True)

    def to_keras(self):
        import keras

        return getattr(keras.initializers, self.type)(**self.model_dump(exclude={"type"}))


class VarianceScaling(_InitializerArgs):
    """Samples scaled to the fan-in or fan-out: ``{type: VarianceScaling, scale: 2.0, mode: fan_out}``."""

    type: Literal["VarianceScaling"]
    scale: Annotated[float, Field(gt=0)] = Field(1.0, description="Multiplies the variance.")
    mode: Literal["fan_in", "fan_out", "fan_avg"] = Field("fan_in", description="The fan that scales the variance.")
    distribution: Literal["truncated_normal", "untruncated_normal", "uniform"] = "truncated_normal"


class RandomNormal(_InitializerArgs):
    """Normally distributed values: ``{type: RandomNormal, stddev: 0.01}``."""

    type: Literal["RandomNormal"]
    mean: float = 0.0
    stddev: Annotated[float, Field(ge=0)] = 0.05


class TruncatedNormal(_InitializerArgs):
    """Normal values, redrawn beyond two standard deviations: ``{type: TruncatedNormal, stddev: 0.02}``."""

    type: Literal["TruncatedNormal"]
    mean: float = 0.0
    stddev: Annotated[float, Field(ge=0)] = 0.05


class RandomUniform(_InitializerArgs):
    """Uniformly distributed values in [minval, maxval): ``{type: RandomUniform, minval: -0.1, maxval: 0.1}``."""

    type: Literal["RandomUniform"]
    minval: float = -0.05
    maxval: float = 0.05


class Orthogonal(_InitializerArgs):
    """An orthogonal matrix times ``gain``: ``{type: Orthogonal, gain: 2.0}``."""

    type: Literal["Orthogonal"]
    gain: float = 1.0


class Constant(_InitializerArgs):
    """Every value the same: ``{type: Constant, value: 0.1}``."""

    type: Literal["Constant"]
    value: float = 0.0


def by_type(*kinds: type) -> dict[str, type]:
    """``{tag: model}`` for models whose `type` field is one ``Literal`` tag: a registry of kinds (``lazy_union``)."""
    return {kind.model_fields["type"].annotation.__args__[0]: kind for kind in kinds}


INITIALIZERS: dict[str, type[_InitializerArgs]] = by_type(
    VarianceScaling, RandomNormal, TruncatedNormal, RandomUniform, Orthogonal, Constant)


def _name_only(value):
    """A mapping is for the other branch: report it as "not a string" here, which the checker leaves out."""
    if not isinstance(value, str):
        from pydantic_core import PydanticCustomError

        raise PydanticCustomError("string_type", "Input should be a valid string")
    return value


# A name (``he_normal``) or a mapping with arguments (``{type: VarianceScaling, scale: 2.0}``).
Initializer = Union[
    Annotated[InitializerName, BeforeValidator(_name_only)],
    Annotated[Union[tuple(INITIALIZERS.values())], Field(discriminator="type")],
]
# -- end of initializers with arguments --


def unique_name(base: str, taken: set[str], tried: dict[str, int]) -> str:
    """Keras-style names: dense, dense_1, ... (``tried`` keeps this linear for thousands of layers)."""
    k = tried.get(base, 0)
    name = base if k == 0 else f"{base}_{k}"
    while name in taken:
        k += 1
        name = f"{base}_{k}"
    tried[base] = k + 1
    taken.add(name)
    return name


@cache
def snake(name: str) -> str:
    """Keras's own naming: 'Conv2D' -> 'conv2d', 'SimpleRNN' -> 'simple_rnn'."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def fmt_shape(shape: Shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def fmt_shapes(shapes) -> str:
    """Several inputs' shapes, in input order: '(None, 3), (None, 4)'."""
    return ", ".join(fmt_shape(s) for s in shapes)


def rank_name(rank: int) -> str:
    return f"{rank}-D"


def feature_axes(kind: str, axis, shape: Shape, field: str = "axis") -> list[int]:
    """Resolve ``axis`` (an int or a list) against ``shape``: in range, not the batch axis, no repeats.

    Returns the axes as non-negative indices, in the order given.
    """
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    rank = len(shape)
    out = []
    for a in axes:
        if not -rank <= a < rank:
            raise ShapeError(
                f"{kind}'s {field} {a} is out of range for a {rank}-D input (axes -{rank} to {rank - 1}, batch "
                f"included). Received: input shape {fmt_shape(shape)}",
                field=field,
            )
        if a % rank == 0:
            raise ShapeError(
                f"{kind}'s {field} {a} is the batch axis, which would mix the samples of a batch. Received: "
                f"input shape {fmt_shape(shape)}",
                field=field,
                help="count axes with the batch axis as 0: the last axis is -1",
            )
        if a % rank in out:
            raise ShapeError(f"{kind}'s {field} names axis {a % rank} twice. Received: {field}={axis}", field=field)
        out.append(a % rank)
    return out


# Base fields that describe the node in the graph, not the Keras layer's arguments.
GRAPH_FIELDS = frozenset({"type", "name", "inputs", "input_shape", "comment"})


class Layer(BaseModel):
    """Fields shared by every layer kind."""

    # Built when a spec first uses the kind (LazyUnion, below), not when the kinds are defined.
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, defer_build=True)

    type: str
    name: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.\-]*$", max_length=128)] | None = Field(
        None, description="Layer name; defaults to Keras's naming (dense, dense_1, ...)."
    )
    inputs: Union[str, list[str], None] = Field(
        None, description="Names of the layers feeding this one; defaults to the layer before it."
    )
    input_shape: list[Dim] | None = Field(
        None, description="Shape of one sample (no batch axis); only on the model's first layer."
    )
    trainable: bool = Field(True, description="False freezes the layer's weights.")
    dtype: LayerDType | None = Field(
        None, description="The layer's dtype policy (Keras's `dtype`), e.g. float32 for the output layer of a "
        "mixed-precision model; null follows the global policy."
    )

    # Class-level facts about the kind.
    builds_keras_layer: ClassVar[bool] = True  # False for nodes that stand for other parts of the spec
    keras_class: ClassVar[str | None] = None  # defaults to the `type` tag
    ranks: ClassVar[tuple[int, ...] | None] = None  # accepted input ranks, batch axis included
    rank_hint: ClassVar[str] = ""  # what the input axes mean, for messages
    n_inputs: ClassVar[tuple[int, int]] = (1, 1)  # min, max number of inputs
    category: ClassVar[str] = "core"

    @classmethod
    def __pydantic_init_subclass__(cls, **kw):
        super().__pydantic_init_subclass__(**kw)
        tag = cls.model_fields["type"].annotation
        args = getattr(tag, "__args__", ())
        if len(args) == 1 and isinstance(args[0], str):
            REGISTRY.register(args[0], cls)

    @model_validator(mode="after")
    def _dtype_applies(self):
        if self.dtype is not None and not self.builds_keras_layer:
            raise ValueError(f"dtype applies to layers Keras builds, not to a {self.kind()} node, whose layers "
                             "take their own dtype")
        return self

    # -- identity ---------------------------------------------------------
    @classmethod
    def kind(cls) -> str:
        return cls.model_fields["type"].annotation.__args__[0]

    def default_name(self) -> str:
        return snake(self.kind())

    def input_names(self) -> list[str] | None:
        if self.inputs is None:
            return None
        return [self.inputs] if isinstance(self.inputs, str) else list(self.inputs)

    def sample_shape(self) -> list | None:
        """The shape of one sample when this layer declares the model input."""
        return self.input_shape

    # -- static rules -----------------------------------------------------
    def check_rank(self, shape: Shape) -> None:
        if self.ranks is not None and len(shape) not in self.ranks:
            want = " or ".join(rank_name(r) for r in self.ranks)
            raise ShapeError(
                f"{self.kind()} expects a {want} input{self.rank_hint}. Received: {rank_name(len(shape))} "
                f"shape {fmt_shape(shape)}",
                code="E300",
            )

    def infer(self, shapes: list[Shape]) -> Shape:
        """Output shape for the given input shapes (identity by default), channels_last."""
        return shapes[0]

    def count_params(self, shapes: list[Shape]) -> Params:
        return Params()

    def channels_first(self) -> bool:
        return self.__dict__.get("data_format") == "channels_first"  # a field where the kind has it

    def output_of(self, shapes: list[Shape]) -> Shape:
        """``infer`` honouring ``data_format``: a channels_first input is moved to channels_last, and back."""
        if not self.channels_first():
            return self.infer(shapes)
        return channels_to_front(self.infer([channels_to_back(s) for s in shapes]))

    def params(self, shapes: list[Shape]) -> Params:
        p = self.count_params([channels_to_back(s) for s in shapes] if self.channels_first() else shapes)
        return p if self.trainable else p.frozen()

    # -- lowering ---------------------------------------------------------
    def keras_kwargs(self) -> dict[str, Any]:
        """Constructor arguments: the Keras fields the user set, converted."""
        out = {}
        for key in self.model_fields_set - GRAPH_FIELDS:
            value = getattr(self, key)
            out[key] = to_keras_value(value)
        return out

    def to_keras(self, name: str):
        import keras

        cls = getattr(keras.layers, self.keras_class or self.kind())
        return cls(name=name, **self.keras_kwargs())

    def call_keras(self, layer, tensors: list, **kwargs):
        """Apply the built Keras ``layer`` to this node's input tensors, in ``inputs`` order.

        One input is passed as a tensor, several as a list (merge layers, Attention);
        a kind whose Keras ``call`` takes them as separate arguments overrides this.
        """
        return layer(tensors[0] if len(tensors) == 1 else tensors, **kwargs)


def channels_to_back(shape: Shape) -> Shape:
    """(batch, channels, ...) -> (batch, ..., channels)."""
    return tuple(shape) if len(shape) < 3 else (shape[0], *shape[2:], shape[1])


def channels_to_front(shape: Shape) -> Shape:
    """(batch, ..., channels) -> (batch, channels, ...)."""
    return tuple(shape) if len(shape) < 3 else (shape[0], shape[-1], *shape[1:-1])


def to_keras_value(value):
    if isinstance(value, (Regularizer, _InitializerArgs)):
        return value.to_keras()
    if isinstance(value, Layer):
        return value.to_keras(value.name or value.default_name())
    if isinstance(value, list):
        return tuple(to_keras_value(v) for v in value)
    return value


# -- shape arithmetic shared by convolution and pooling ---------------------
def tuple_arg(value, n: int) -> tuple:
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,) * n


def conv_length(length, kernel, padding, stride, dilation=1):
    if length is None:
        return None
    eff = kernel + (kernel - 1) * (dilation - 1)
    if padding in ("same", "causal"):
        return (length + stride - 1) // stride
    return (length - eff) // stride + 1 if length >= eff else 0


def pool_length(length, pool, padding, stride):
    if length is None:
        return None
    if padding == "same":
        return (length + stride - 1) // stride
    return (length - pool) // stride + 1 if length >= pool else 0


def deconv_length(length, kernel, padding, stride, dilation=1, output_padding=None):
    if length is None:
        return None
    eff = kernel + (kernel - 1) * (dilation - 1)
    if output_padding is None:
        return length * stride + max(eff - stride, 0) if padding == "valid" else length * stride
    pad = eff // 2 if padding == "same" else 0
    return (length - 1) * stride + eff - 2 * pad + output_padding


def prod(dims) -> int | None:
    if any(d is None for d in dims):
        return None
    return math.prod(dims)


AXES = {1: ("steps",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def spatial_check(kind: str, shape_in: Shape, spatial_out: tuple, field: str, sizes: tuple) -> None:
    """Refuse a window that does not fit: an output axis of size 0 or less."""
    spatial_in = shape_in[1:-1]
    for axis, before, after, size in zip(AXES[len(spatial_in)], spatial_in, spatial_out, sizes):
        if after is not None and after <= 0:
            raise ShapeError(
                f"{kind}'s {field} {size} does not fit the input's {axis} of {before}. Received: input shape "
                f"{fmt_shape(shape_in)}",
                field=field,
                help="use padding: same, a smaller window, or a larger input",
            )


# -- lazily built unions: every layer kind, and the spec's other unions on `type` --------------------------------
# Pydantic builds a discriminated union's validator for all of its members at once: for every layer kind, that
# was most of the time `specc validate` took. LazyUnion gives Pydantic the same tagged union on `type` (same tags
# in the same order, so the same errors at the same locations: ('layers', 0, 'Dense', 'units'),
# union_tag_invalid, union_tag_not_found), but each member is a function that validates with the kind's own
# model, looked up in the registry (which imports its family then) and building its validator the first time a
# spec uses the kind (the members are defer_build). The JSON Schema is the plain union's. The optimizers,
# schedules, data sources and search parameters are unions of the same shape, with a dict as their registry.
def _validate_kind(registry: Mapping, tag: str, value: Any) -> Any:
    return registry[tag].model_validate(value)


class LazyUnion:
    """Pydantic metadata: validate ``Annotated[Base, LazyUnion(registry)]`` as the union of the registry's kinds
    (``{tag: model}``, in the union's order)."""

    def __init__(self, registry: Mapping):
        self.registry = registry
        self.eager: dict | None = None  # the plain union's core schema while its JSON Schema is being written

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        choices = {tag: core_schema.no_info_plain_validator_function(partial(_validate_kind, self.registry, tag))
                   for tag in self.registry}
        return core_schema.tagged_union_schema(choices, discriminator="type")

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler):
        if self.eager is not None:  # a kind inside the union (TimeDistributed's `layer`): refer to the kinds
            union = self.eager["schema"] if self.eager["type"] == "definitions" else self.eager
            refs = {tag: core_schema.definition_reference_schema(choice.get("ref") or choice["schema_ref"])
                    for tag, choice in union["choices"].items()}
            return handler({**union, "choices": refs})
        eager = Annotated[Union[tuple(self.registry.values())], Field(discriminator="type")]
        self.eager = TypeAdapter(eager).core_schema
        try:
            return handler(self.eager)
        finally:
            self.eager = None


def lazy_union(base: type, registry: Mapping) -> Any:
    """The union on `type` of ``registry``'s kinds (subclasses of ``base``) as an annotation, each kind's validator
    built the first time it is used (see ``type_args``)."""
    return Annotated[base, LazyUnion(registry)]


def type_args(annotation: Any) -> tuple:
    """``typing.get_args``, where a ``lazy_union`` stands for its kinds (every family is imported then)."""
    args = get_args(annotation)
    for arg in args:
        if isinstance(arg, LazyUnion):
            return tuple(arg.registry.values())
    return args


AnyLayer = lazy_union(Layer, REGISTRY)
