"""Merge layers: several inputs, one output. Add, Subtract, Multiply, Average, Maximum, Minimum,
Concatenate, Dot.

A merge layer names its inputs (``inputs: [a, b]``); the shape rules are Keras's own:
element-wise merges broadcast the inputs' sample shapes against each other from the last
axis (sizes equal, or 1), Concatenate needs every axis but ``axis`` to match, and Dot
contracts one axis of each of its two inputs.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field

from .base import Layer, Shape, ShapeError, fmt_shape, fmt_shapes

MANY = 1024  # no Keras limit; a bound for the graph check

MERGE_HELP = "give the inputs the same shape: padding: same, or a 1x1 Conv2D (with strides) or Dense on the shortcut"


def broadcast(kind: str, shapes: list[Shape]) -> Shape:
    """Keras's element-wise merge rule (``Merge._compute_elemwise_op_output_shape``).

    Sample shapes (batch axis left out) are aligned on their last axis; the shorter one is
    padded in front. Sizes must be equal or 1; an unknown size on either side gives an
    unknown size, as Keras reports it.
    """
    out = tuple(shapes[0][1:])
    for k, shape in enumerate(shapes[1:], start=2):
        a, b = out, tuple(shape[1:])
        swapped = len(a) < len(b)
        if swapped:
            a, b = b, a
        if not b:
            out = a
            continue
        merged = list(a[: len(a) - len(b)])
        for pos, (i, j) in enumerate(zip(a[len(a) - len(b):], b)):
            if i is None or j is None:
                merged.append(None)
            elif i == 1 or j == 1 or i == j:
                merged.append(j if i == 1 else i)
            else:
                axis = pos - len(b)
                before = "input 1" if k == 2 else f"inputs 1 to {k - 1}"
                mine, theirs = (i, j) if swapped else (j, i)
                raise ShapeError(
                    f"{kind} needs inputs of the same shape, or sizes of 1 that broadcast: axis {axis} (counted from "
                    f"the end) is {theirs} in {before} and {mine} in input {k}. Received: input shapes "
                    f"{fmt_shapes(shapes)}",
                    help=MERGE_HELP,
                )
        out = tuple(merged)
    return (None, *out)


class _Merge(Layer):
    n_inputs = (2, MANY)
    category = "merging"

    def infer(self, shapes):
        return broadcast(self.kind(), shapes)


class Add(_Merge):
    """Sum of its inputs, element by element (a residual connection: ``inputs: [block, shortcut]``)."""

    type: Literal["Add"]


class Subtract(_Merge):
    """First input minus the second, element by element (exactly two inputs)."""

    type: Literal["Subtract"]
    n_inputs = (2, 2)


class Multiply(_Merge):
    """Product of its inputs, element by element (e.g. gating)."""

    type: Literal["Multiply"]


class Average(_Merge):
    """Mean of its inputs, element by element."""

    type: Literal["Average"]


class Maximum(_Merge):
    """Largest of its inputs, element by element."""

    type: Literal["Maximum"]


class Minimum(_Merge):
    """Smallest of its inputs, element by element."""

    type: Literal["Minimum"]


class Concatenate(_Merge):
    """Joins its inputs along ``axis``; every other axis must match (e.g. parallel Inception branches)."""

    type: Literal["Concatenate"]
    axis: int = Field(-1, description="The axis joined, batch axis counted as 0; -1 is the channels/features axis.")

    def infer(self, shapes):
        ranks = {len(s) for s in shapes}
        if len(ranks) > 1:
            raise ShapeError(
                "Concatenate needs inputs of the same rank. Received: input shapes " + fmt_shapes(shapes),
                help="add a Reshape or Flatten to the input with the different rank",
            )
        rank = len(shapes[0])
        if not -rank <= self.axis < rank:
            raise ShapeError(
                f"Concatenate's axis {self.axis} is out of range for {rank}-D inputs (axes -{rank} to {rank - 1}, "
                f"batch included). Received: input shapes {fmt_shapes(shapes)}",
                field="axis",
            )
        axis = self.axis % rank
        if axis == 0:
            # Keras reports an unknown batch size and runs it, but the result has more
            # samples than the batch it came from.
            raise ShapeError(
                f"Concatenate's axis {self.axis} is the batch axis. Received: input shapes {fmt_shapes(shapes)}",
                field="axis",
                help="count axes with the batch axis as 0: the last axis is -1",
            )
        for a in range(1, rank):
            if a == axis:
                continue
            sizes = {s[a] for s in shapes} - {None}
            if len(sizes) > 1:
                raise ShapeError(
                    f"Concatenate joins axis {self.axis}, so every other axis must match, but axis {a} has sizes "
                    f"{', '.join(str(s[a]) for s in shapes)}. Received: input shapes {fmt_shapes(shapes)}",
                    help="resize or crop the inputs to the same size on that axis (e.g. padding: same)",
                )
        out = list(shapes[0])  # other axes as the first input reports them, as in Keras
        sizes = [s[axis] for s in shapes]
        out[axis] = None if None in sizes else sum(sizes)
        return tuple(out)


class Dot(_Merge):
    """Dot product of exactly two inputs along one axis of each (cosine similarity with normalize: true)."""

    type: Literal["Dot"]
    axes: Union[int, Annotated[list[int], Field(min_length=2, max_length=2)]] = Field(
        description="The axis contracted in both inputs, or [axis of input 1, axis of input 2]; batch axis is 0."
    )
    normalize: bool = Field(False, description="L2-normalize both inputs along the axes first (cosine similarity).")
    n_inputs = (2, 2)

    def _axes(self, shapes) -> list[int]:
        axes = self.axes if isinstance(self.axes, list) else [self.axes, self.axes]
        out = []
        for k, (a, shape) in enumerate(zip(axes, shapes), start=1):
            rank = len(shape)
            if rank < 2:
                raise ShapeError(
                    f"Dot needs inputs of at least 2-D (batch, features). Received: input shapes {fmt_shapes(shapes)}",
                    code="E300",
                )
            if not -rank <= a < rank:
                # Keras wraps an int axes below -rank around (a % rank); specc refuses it.
                raise ShapeError(
                    f"Dot's axes {self.axes} is out of range for input {k}, which is {rank}-D (axes -{rank} to "
                    f"{rank - 1}, batch included). Received: input shapes {fmt_shapes(shapes)}",
                    field="axes",
                )
            if a % rank == 0:
                raise ShapeError(
                    f"Dot's axes {self.axes} names the batch axis of input {k}. Received: input shapes "
                    f"{fmt_shapes(shapes)}",
                    field="axes",
                    help="count axes with the batch axis as 0: the last axis is -1",
                )
            out.append(a % rank)
        return out

    def infer(self, shapes):
        s1, s2 = shapes
        a1, a2 = self._axes(shapes)
        if s1[a1] != s2[a2]:
            unknown = " (Keras needs both sizes known, or both unknown)" if None in (s1[a1], s2[a2]) else ""
            raise ShapeError(
                f"Dot contracts axis {a1} of input 1 (size {s1[a1]}) with axis {a2} of input 2 (size {s2[a2]}); "
                f"the sizes must be equal{unknown}. Received: input shapes {fmt_shape(s1)} and {fmt_shape(s2)}",
                field="axes",
            )
        out = [d for i, d in enumerate(s1) if i != a1] + [d for i, d in enumerate(s2) if i not in (0, a2)]
        if len(out) == 1:
            out.append(1)
        return tuple(out)
