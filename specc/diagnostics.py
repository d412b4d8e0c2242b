"""Diagnostics: what every pass reports, and the catalogue of codes.

A diagnostic is a plain value (code, severity, message, location). Passes never
print or raise for a user's mistake; they return diagnostics, and the CLI
renders them. The catalogue below is the single source of the codes: the
errors reference in docs/ is generated from it and a test keeps it fresh.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


class Span(NamedTuple):
    """A source range; lines and columns are 1-based, end is exclusive. A tuple: the loader makes one per key
    and value of every spec, and a tuple is made in half the time of a frozen dataclass."""

    line: int
    col: int
    end_line: int
    end_col: int


@dataclass(frozen=True)
class Code:
    code: str
    name: str
    summary: str
    severity: Severity = Severity.ERROR


_CODES = (
    # Reading the file.
    Code("E001", "file-not-found", "The spec file does not exist or cannot be read."),
    Code("E002", "not-text", "The file is not UTF-8 text (binary data or another encoding)."),
    Code("E003", "file-too-large", "The file is larger than the loader accepts."),
    # YAML.
    Code("E010", "yaml-syntax", "The file is not well-formed YAML; where the layout is the likely cause (a key "
         "deeper or shallower than its siblings, a tab, no space after ':'), the help line says which."),
    Code("E011", "duplicate-key", "A mapping has the same key twice; YAML loaders would silently keep one."),
    Code("E012", "alias", "YAML anchors and aliases (&x / *x) are not allowed in specs."),
    Code("E013", "unknown-tag", "An explicit YAML tag (such as !!python/object) that specc does not accept."),
    Code("E014", "too-deep", "The document nests deeper than any spec needs."),
    Code("E015", "multiple-documents", "The file holds more than one YAML document."),
    Code("E016", "complex-key", "A mapping key that is not a plain scalar."),
    Code("E020", "not-a-mapping", "The spec is empty or its top level is not a mapping."),
    # Variables, includes and blocks (expanded before the schema check).
    Code("E050", "unknown-variable", "`${name}` names no variable (or block parameter)."),
    Code("E051", "bad-expression", "What is inside `${...}` is not a name or simple arithmetic, or cannot be "
         "computed."),
    Code("E052", "include-not-found", "An included file does not exist or is not a spec library."),
    Code("E053", "include-outside", "An included path leaves the project tree (or is absolute)."),
    Code("E054", "include-cycle", "Files include each other in a loop."),
    Code("E055", "unknown-block", "`block:` names no block of this spec or its includes."),
    Code("E056", "block-arguments", "A block use gives an unknown parameter, misses a required one, or gives the "
         "wrong number of inputs."),
    Code("E057", "block-cycle", "Blocks use each other in a loop."),
    Code("E058", "too-large", "Expanding the blocks or variables makes more layers, values or text than any model needs."),
    Code("E059", "duplicate-definition", "Two files define the same block or model."),
    # Schema.
    Code("E060", "extends-not-found", "The spec that `extends:` names does not exist, cannot be read, or is not a "
         "spec (a mapping); or `extends` is not a file path."),
    Code("E061", "extends-outside", "An `extends:` path leaves the project tree (or is absolute)."),
    Code("E062", "extends-cycle", "Specs extend each other in a loop, or in a chain longer than 16 files."),
    Code("E100", "unknown-key", "A key that this part of the spec does not have."),
    Code("E101", "missing-key", "A required key is missing."),
    Code("E102", "invalid-value", "A value has the wrong type or is out of range."),
    Code("E103", "unknown-layer", "The layer type is not one specc knows; the help line names the closest types."),
    Code("E104", "unsupported-version", "The spec's format version (`specc:`) is not supported."),
    # Graph.
    Code("E200", "duplicate-name", "Two layers have the same name."),
    Code("E201", "unknown-input", "A layer's `inputs` names a layer that does not exist before it."),
    Code("E202", "no-input-shape", "The model's input shape is not given."),
    Code("E203", "misplaced-input-shape", "`input_shape`/`input_dim` given on a layer that is not a model input."),
    Code("E204", "arity", "A layer received the wrong number of inputs."),
    Code("E205", "unknown-output", "`outputs` (of the model or of a block) names a layer that does not exist."),
    Code("E206", "cycle", "Layers (or models) feed each other in a loop."),
    Code("E207", "unknown-model", "A Model layer names no entry of `models:`."),
    Code("E208", "saved-model", "A Model layer's saved model cannot be read or expressed."),
    # Shapes.
    Code("E300", "rank", "A layer received an input of the wrong rank."),
    Code("E301", "shape", "A layer's arguments do not fit the shape of its input."),
    Code("E302", "wrapper", "A wrapper layer wraps a layer it cannot wrap."),
    # Model / training consistency.
    Code("E400", "loss-output", "The loss cannot work with the model's output."),
    Code("W401", "softmax-from-logits", "A softmax/sigmoid output is paired with a from_logits loss.", Severity.WARNING),
    Code("W402", "activation-loss", "The output activation and the loss do not match.", Severity.WARNING),
    Code("W403", "dropout-at-output", "A Dropout layer is the model's output: it only adds noise to the predictions "
         "during training.", Severity.WARNING),
    Code("W404", "unused-layer", "A layer does not lead to any output, so it is never trained or used.",
         Severity.WARNING),
    Code("W405", "no-seed", "The spec trains but has no `seed`: runs are not repeatable.", Severity.WARNING),
    Code("W406", "learning-rate", "A learning rate outside the range that usually trains (1e-6 to 1).",
         Severity.WARNING),
    Code("W407", "dense-per-position", "An output Dense layer takes an input of 4-D or more (images), so it "
         "predicts one vector per position instead of one per sample.", Severity.WARNING),
    Code("E407", "unknown-io-name", "A per-output mapping (compile `loss`, `loss_weights`, `metrics`; data `y`) or "
         "per-input mapping (data `x`) names a layer that is not an output (input) of the model."),
    Code("E408", "output-without-loss", "An output of the model gets no loss: a per-output `loss` mapping leaves it "
         "out."),
    Code("E409", "data-inputs-outputs", "The data does not fit the model's inputs and outputs: an `x`/`y` mapping "
         "leaves one out, one array is given for several, a source holds only one array, or an option (window, "
         "noise, target: input, classes, class_weight) applies only to one input and one output."),
    # Budgets.
    Code("E410", "budget-params", "The model has more parameters than the budget allows."),
    Code("E411", "budget-memory", "The estimated training memory exceeds the budget."),
    Code("E412", "budget-depth", "The model is deeper than the budget allows."),
    Code("E413", "model-too-large", "Without a `max_params` budget, the model has more than 10^10 parameters (40 GB "
         "of float32 weights, about 160 GB to train with Adam): more than one machine holds. A budget's "
         "`max_params` (or `--max-params`) replaces this limit."),
    # Outputs against their training targets.
    Code("E414", "labels-loss", "The label encoding cannot work with the loss: `labels: raw` keeps class ids, "
         "but categorical_crossentropy needs one-hot labels."),
    Code("E415", "output-target", "The model's output cannot match the targets it is trained against: an "
         "autoencoder's output shape differs from its input's, or an output has fewer units than the data has "
         "classes."),
    Code("E416", "unknown-monitor", "A training callback (`early_stopping`, `reduce_lr_on_plateau`, `checkpoint`) "
         "monitors a quantity that training does not log."),
    Code("E417", "class-weight-count", "`train.class_weight` gives another number of weights than the model has "
         "classes (its output units; two for one sigmoid unit)."),
    Code("E418", "vocabulary-embedding", "An Embedding that reads the token ids of imdb or reuters has a smaller "
         "`input_dim` than the dataset's `num_words` (a text folder's vocabulary is checked when it is learnt, "
         "before training)."),
    # The search space (`search:`, specc tune).
    Code("E500", "search-key", "A `search.space` key names no value of the spec (or a variable it does not have)."),
    Code("E501", "search-value", "A value of the search space is refused by the field it sets (its type or range)."),
    Code("E502", "search-point", "Points of the search space give a spec that fails the static check (shapes, "
         "loss, budget): reported once per failure with the values that cause it and how many points fail."),
    Code("E503", "search-objective", "The search objective names a quantity that training does not log."),
    Code("W504", "search-unchecked", "The search space has more points than `specc validate` checks one by one; "
         "the rest are checked when `specc tune` reaches them.", Severity.WARNING),
)

CODES: dict[str, Code] = {c.code: c for c in _CODES}


@dataclass(frozen=True)
class Diagnostic:
    """One problem the checker found: its ``code`` (E102, W405; docs/errors.md), ``severity``, ``message``, the
    ``file`` and its ``line`` and ``column`` (1-based; None when the problem has no position; ``span`` is the
    whole range), the YAML ``path`` (``layers[3].units``) and a ``help`` hint (or None)."""

    code: str
    message: str
    file: str | None = None
    span: Span | None = None
    path: str | None = None  # YAML path, e.g. "layers[3].units"
    help: str | None = None
    severity: Severity = field(default=Severity.ERROR)
    # The same location as ``path``, as keys and indexes: ('layers', 3, 'units').
    loc: tuple | None = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        """The code's name in docs/errors.md (``invalid-value`` for E102)."""
        return CODES[self.code].name

    @property
    def line(self) -> int | None:
        """The 1-based line the diagnostic points at (None when it has no position)."""
        return self.span.line if self.span is not None else None

    @property
    def column(self) -> int | None:
        """The 1-based column the diagnostic points at (None when it has no position)."""
        return self.span.col if self.span is not None else None


class Findings:
    """What a file's check reports, by severity (for a class with a ``diagnostics`` list)."""

    diagnostics: list[Diagnostic]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.WARNING]


def diag(code: str, message: str, **kw) -> Diagnostic:
    """Build a diagnostic whose severity comes from the catalogue."""
    kw.setdefault("severity", CODES[code].severity)
    return Diagnostic(code, message, **kw)


def short(text: str, limit: int = 60) -> str:
    """A name as a message quotes it: a hostile key can be megabytes long."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _lowered(choices) -> dict[str, str]:
    """The string choices by their lower-case spelling (the first of those spelt alike)."""
    lowered: dict[str, str] = {}
    for c in choices:
        if isinstance(c, str):
            lowered.setdefault(c.lower(), c)
    return lowered


def closest(word: str, choices) -> str | None:
    """The choice a misspelt ``word`` most likely meant, or None (case-insensitive)."""
    if not isinstance(word, str):
        return None
    lowered = _lowered(choices)
    if word.lower() in lowered:
        return lowered[word.lower()]
    prefixed = [c for low, c in lowered.items() if len(word) >= 3 and low.startswith(word.lower())]
    if len(prefixed) == 1:  # `acc` -> `accuracy`, before `auc`, which merely looks alike
        return prefixed[0]
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


def closest_names(word: str, choices, n: int = 3) -> list[str]:
    """Up to ``n`` choices a misspelt ``word`` may have meant, best first (case-insensitive): the exact one alone,
    else the names it begins (shortest first), else difflib's closest."""
    if not isinstance(word, str):
        return []
    lowered = _lowered(choices)
    low = word.lower()
    if low in lowered:
        return [lowered[low]]
    prefixed = sorted((c for k, c in lowered.items() if len(word) >= 3 and k.startswith(low)), key=lambda c: (len(c), c))
    if prefixed:
        return prefixed[:n]
    close = difflib.get_close_matches(low, list(lowered), n=n, cutoff=0.6)
    best = difflib.SequenceMatcher(None, low, close[0]).ratio() if close else 0
    return [lowered[k] for k in close if difflib.SequenceMatcher(None, low, k).ratio() >= best - 0.1]


def quoted_choices(names: list[str]) -> str:
    """'A', 'B' or 'C'."""
    shown = [f"'{name}'" for name in names]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + f" or {shown[-1]}"


def did_you_mean(word: str, choices) -> str | None:
    """A 'did you mean' hint for a misspelt name, or None."""
    match = closest(word, choices)
    return f"did you mean '{match}'?" if match is not None else None


def also(hint: str | None) -> str:
    """A hint appended to a one-line message: ``; did you mean 'x'?``, or nothing."""
    return f"; {hint}" if hint else ""


def apply_policy(diagnostics: list[Diagnostic], ignore: set[str], error: set[str]) -> list[Diagnostic]:
    """Drop ignored warning codes; turn the listed warning codes into errors."""
    import dataclasses

    out = []
    for d in diagnostics:
        if d.code in ignore and d.severity is Severity.WARNING:
            continue
        if d.code in error and d.severity is Severity.WARNING:
            d = dataclasses.replace(d, severity=Severity.ERROR)
        out.append(d)
    return out


def format_path(path: tuple) -> str:
    """('layers', 3, 'units') -> 'layers[3].units'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class SpecError(Exception):
    """A spec with errors. ``diagnostics`` holds every problem found (errors and warnings, each with its
    code, file, line, column, message and help); ``str()`` is the text the ``specc`` command prints."""

    def __init__(self, diagnostics: list[Diagnostic], text: str | None = None):
        self.diagnostics = list(diagnostics)
        self.text = text if text is not None else "\n".join(d.message for d in self.diagnostics)
        super().__init__(self.text or "invalid spec")

    @property
    def errors(self) -> list[Diagnostic]:
        """The diagnostics that are errors."""
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    def __str__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        from .style import diagnostics_html

        return diagnostics_html(self.text)
