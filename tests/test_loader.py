"""The loader: source positions, YAML 1.2 scalars, and a corpus of hostile inputs.

Every hostile input must give its diagnostic code, never raise, and finish
quickly (the time bounds are generous guards against blowups, not benchmarks),
both through the library and through the real CLI in a subprocess.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
import yaml

from specc import loader
from specc.check import check_file, check_text
from specc.diagnostics import CODES, Span
from specc.loader import MAX_BYTES, MAX_DEPTH, MAX_NODES, Document, decode, load_file, load_text, resolve_plain

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / "tests" / "data" / "hostile"
# Work is bounded by memory, not timed (a slow CI machine is not a bug; speed belongs in benchmarks/):
SMALL = 50 * 2**20  # bytes at the peak for a hostile file of a few kilobytes (these take a few MB)
LARGE = 400 * 2**20  # bytes at the peak for inputs of 40,000 lines or 200,000 nodes


def codes(diagnostics) -> list[str]:
    return [d.code for d in diagnostics]


def pos(span: Span | None) -> tuple[int, int] | None:
    return None if span is None else (span.line, span.col)


def assert_well_formed(diagnostics) -> None:
    for d in diagnostics:
        assert d.code in CODES, d
        assert d.severity is CODES[d.code].severity
        if d.span is not None:
            assert d.span.line >= 1 and d.span.col >= 1, d
            assert (d.span.end_line, d.span.end_col) >= (d.span.line, d.span.col), d


@pytest.fixture(params=["c", "python"])
def parser(request, monkeypatch):
    """Run a test with libyaml's parser and with PyYAML's pure-Python one (the fallback)."""
    if request.param == "c":
        if not yaml.__with_libyaml__:
            pytest.skip("PyYAML was built without libyaml")
        from yaml._yaml import CParser

        monkeypatch.setattr(loader, "_Parser", CParser)
    else:
        monkeypatch.setattr(loader, "_Parser", loader.PurePythonParser)
    return request.param


def test_the_c_parser_is_the_default_when_available():
    if yaml.__with_libyaml__:
        from yaml._yaml import CParser

        assert loader._Parser is CParser


# -- positions ------------------------------------------------------------------
BLOCK = """\
specc: 1
name: demo
layers:
  - type: Dense
    units: 8
    input_dim: 4
  - Flatten
"""


def test_block_positions(parser):
    doc, errors = load_text(BLOCK)
    assert errors == []
    assert doc.key_spans[("specc",)] == Span(1, 1, 1, 6)
    assert doc.spans[("specc",)] == Span(1, 8, 1, 9)
    assert doc.spans[("name",)] == Span(2, 7, 2, 11)
    assert doc.key_spans[("layers", 0, "units")] == Span(5, 5, 5, 10)
    assert doc.spans[("layers", 0, "units")] == Span(5, 12, 5, 13)
    assert doc.spans[("layers", 0, "input_dim")].line == 6
    assert doc.spans[("layers", 1)] == Span(7, 5, 7, 12)
    # A block mapping's span starts at its first key.
    assert pos(doc.spans[("layers", 0)]) == (4, 5)
    assert pos(doc.spans[()]) == (1, 1)


FLOW = 'specc: 1\nlayers: [{type: Dense, units: 8, input_shape: [4, 2]}, "Flatten"]\n'


def col(line: str, needle: str) -> int:
    """1-based column of ``needle`` in ``line``."""
    return line.index(needle) + 1


def test_flow_positions(parser):
    doc, errors = load_text(FLOW)
    assert errors == []
    line = FLOW.splitlines()[1]
    assert doc.spans[("layers",)] == Span(2, col(line, "["), 2, len(line) + 1)
    assert doc.spans[("layers", 0)] == Span(2, col(line, "{"), 2, col(line, "}") + 1)
    assert doc.key_spans[("layers", 0, "units")] == Span(2, col(line, "units"), 2, col(line, "units") + 5)
    assert doc.spans[("layers", 0, "units")] == Span(2, col(line, "8"), 2, col(line, "8") + 1)
    assert doc.spans[("layers", 0, "input_shape", 1)] == Span(2, col(line, "2]"), 2, col(line, "2]") + 1)
    assert doc.spans[("layers", 1)] == Span(2, col(line, '"F'), 2, col(line, 'n"') + 2)  # quotes included


def test_nested_list_positions(parser):
    text = "grid:\n  - [1, [2, 3]]\n  - - 4\n    - - 5\n"
    doc, errors = load_text(text)
    assert errors == []
    assert doc.data == {"grid": [[1, [2, 3]], [4, [5]]]}
    lines = text.splitlines()
    assert doc.spans[("grid", 0, 1, 1)] == Span(2, col(lines[1], "3"), 2, col(lines[1], "3") + 1)
    assert doc.spans[("grid", 0, 1)] == Span(2, col(lines[1], "[2"), 2, col(lines[1], "]]") + 1)
    assert doc.spans[("grid", 1, 0)] == Span(3, col(lines[2], "4"), 3, col(lines[2], "4") + 1)
    assert doc.spans[("grid", 1, 1, 0)] == Span(4, col(lines[3], "5"), 4, col(lines[3], "5") + 1)


def test_columns_count_characters_not_bytes(parser):
    doc, _ = load_text("é: [ü, 5]\n")
    assert doc.spans[("é", 1)] == Span(1, 8, 1, 9)


def test_crlf_and_multiline_scalars(parser):
    doc, errors = load_text("a: 1\r\nb: |\r\n  x\r\n  y\r\nc: 2\r\n")
    assert errors == []
    assert doc.data == {"a": 1, "b": "x\ny\n", "c": 2}
    assert doc.spans[("c",)].line == 5
    assert doc.line(5) == "c: 2"
    assert doc.line(0) == doc.line(99) == ""


def test_resolve_skips_parts_that_are_not_in_the_data():
    doc, _ = load_text(BLOCK)
    # Pydantic's location for a field of a discriminated-union member.
    assert doc.resolve(("layers", 0, "Dense", "units")) == ("layers", 0, "units")
    # A missing key resolves to the mapping that lacks it.
    assert doc.resolve(("layers", 0, "Dense", "activation")) == ("layers", 0)
    assert doc.resolve(("layers", 1, "Flatten")) == ("layers", 1)
    assert doc.resolve(("nothing", "here")) == ()


def test_error_points_at_the_value_or_at_the_key():
    doc, _ = load_text(BLOCK)
    value = doc.error("E102", "x", ("layers", 0, "Dense", "units"))
    key = doc.error("E100", "x", ("layers", 0, "Dense", "units"), key=True)
    assert (value.span.line, value.span.col, value.path) == (5, 12, "layers[0].units")
    assert (key.span.line, key.span.col) == (5, 5)
    assert value.file == "<string>"


# -- YAML 1.2 core-schema scalars -------------------------------------------------
SCALARS = [
    ("1e-3", 0.001), ("1E5", 100000.0), ("5e-6", 5e-6), ("1.0e-3", 0.001), ("-2.5E+2", -250.0),
    (".5", 0.5), ("1.", 1.0), ("+12", 12), ("-0", 0), ("010", 10), ("0x1f", 31), ("0o17", 15),
    ("true", True), ("False", False), ("TRUE", True),
    ("no", "no"), ("on", "on"), ("off", "off"), ("yes", "yes"), ("y", "y"), ("N", "N"),
    ("12:30", "12:30"), ("1_000", "1_000"), ("0b101", "0b101"), ("0X1F", "0X1F"), ("2001-12-14", "2001-12-14"),
    ("~", None), ("null", None), ("Null", None), ("", None),
    ('"12"', "12"), ("'1e3'", "1e3"), ('"true"', "true"), ("'null'", "null"), ('""', ""),
    ("!!str 12", "12"), ('!!int "12"', 12), ("!!float 1", 1.0), ("!!bool 'true'", True), ("!!null ''", None),
    ("! 12", "12"), ("!<tag:yaml.org,2002:str> 7", "7"),
]


@pytest.mark.parametrize("text,expected", SCALARS, ids=[s[0] or "empty" for s in SCALARS])
def test_scalars_follow_yaml_1_2(text, expected, parser):
    doc, errors = load_text(f"v: {text}\n")
    assert errors == []
    value = doc.data["v"]
    assert type(value) is type(expected) and value == expected


@pytest.mark.parametrize("text,sign", [(".inf", 1), ("+.inf", 1), ("-.Inf", -1), (".INF", 1)])
def test_infinities(text, sign):
    value = load_text(f"v: {text}\n")[0].data["v"]
    assert math.isinf(value) and math.copysign(1, value) == sign


@pytest.mark.parametrize("text", [".nan", ".NaN", ".NAN"])
def test_nan(text):
    assert math.isnan(load_text(f"v: {text}\n")[0].data["v"])


def test_yaml_1_1_booleans_are_distinct_string_keys(parser):
    doc, errors = load_text("on: 1\nyes: 2\noff: 3\nno: 4\n")
    assert errors == []
    assert doc.data == {"on": 1, "yes": 2, "off": 3, "no": 4}


def test_keys_are_their_text(parser):
    doc, errors = load_text("1: a\n~: b\ntrue: c\n'x': d\n")
    assert errors == []
    assert list(doc.data) == ["1", "~", "true", "x"]


@pytest.mark.parametrize("text", ['!!int "12.5"', "!!bool yes", "!!float abc", "!!null 0", "!!int 1e3"])
def test_core_tags_refuse_values_that_do_not_fit(text, parser):
    doc, errors = load_text(f"v: {text}\n")
    assert codes(errors) == ["E013"]
    assert errors[0].span == Span(1, 4, 1, 4 + len(text))
    assert errors[0].path == "v"


def test_resolve_plain_rejects_trailing_newlines():
    assert resolve_plain("12\n") == "12\n"
    assert resolve_plain("null\n") == "null\n"


@pytest.mark.parametrize("text", ["7" * 5000, "0x" + "f" * 5000, "0o" + "7" * 30, "9223372036854775808",
                                  "-9223372036854775809", "!!int 0x8000000000000000", "!!float 0x" + "f" * 400])
def test_integers_must_fit_in_64_bits(text, parser):
    doc, errors = load_text(f"specc: 1\nseed: {text}\n")
    assert codes(errors) == ["E102"]
    assert pos(errors[0].span) == (2, 7) and errors[0].path == "seed"
    assert errors[0].message.startswith("integers must fit in 64 bits")
    assert doc.data["seed"] is None


@pytest.mark.parametrize("text,value", [("9223372036854775807", 2**63 - 1), ("-9223372036854775808", -(2**63)),
                                        ("0x7fffffffffffffff", 2**63 - 1), ("0000000000000000000000042", 42)])
def test_64_bit_integers_are_read(text, value):
    assert load_text(f"v: {text}\n")[0].data["v"] == value


@pytest.mark.parametrize("layers", [
    "  - {type: Flatten, input_shape: [BIG, BIG]}\n  - {type: Reshape, target_shape: [3, 7]}\n",
    "  - {type: Input, shape: [BIG, BIG, BIG]}\n  - {type: Reshape, target_shape: [3, 7]}\n",
    "  - {type: Dense, units: BIG, input_dim: BIG}\n  - {type: Dense, units: BIG}\n",
    "  - {type: UpSampling2D, size: BIG, input_shape: [4, 4, 1]}\n  - {type: UpSampling2D, size: BIG}\n  - Flatten\n",
], ids=["flatten", "input", "dense", "upsampling"])
def test_sizes_past_64_bits_are_a_diagnostic(layers):
    # Python refuses to print an integer of more than 4,300 digits: sizes must stop growing first.
    result = check_text("specc: 1\nlayers:\n" + layers.replace("BIG", str(2**62)))
    assert codes(result.diagnostics) == ["E301"]
    assert "more than 2**63" in result.diagnostics[0].message


# -- hostile inputs -----------------------------------------------------------------
# Each file's name starts with the code it must produce; the position is where
# that code's first diagnostic must point (None: the whole file).
EXPECTED = {
    "E002-control-character.yaml": (2, 11),
    "E002-invalid-utf8.yaml": (2, 10),
    "E002-nul-bytes.yaml": (3, 12),
    "E002-random-bytes.yaml": (2, 22),
    "E002-utf16.yaml": (1, 1),
    "E010-tab-indentation.yaml": (4, 1),
    "E010-unclosed-quote.yaml": (5, 1),
    "E011-duplicate-key.yaml": (4, 1),
    "E011-duplicate-on-key.yaml": (5, 1),
    "E012-alias-as-key.yaml": (5, 5),
    "E012-billion-laughs.yaml": (6, 10),
    "E012-merge-key.yaml": (5, 9),
    "E013-binary-tag.yaml": (2, 7),
    "E013-python-name.yaml": (2, 7),
    "E013-python-object-apply.yaml": (3, 5),
    "E013-tag-directive.yaml": (5, 26),
    "E013-tagged-key.yaml": (2, 1),
    "E013-unknown-local-tag.yaml": (3, 5),
    "E014-deep-flow.yaml": (2, 8 + MAX_DEPTH),
    "E014-deep-mapping.yaml": (MAX_DEPTH + 6, 2 * MAX_DEPTH + 1),
    "E015-multiple-documents.yaml": (4, 1),
    "E016-complex-key.yaml": (4, 7),
    "E016-flow-mapping-key.yaml": (3, 19),
    "E020-empty.yaml": None,
    "E058-string-doubling.yaml": (18, 8),
    "E058-list-doubling.yaml": (46, 56),
    "E020-only-comments.yaml": None,
}
HOSTILE_FILES = sorted(p.name for p in HOSTILE.iterdir() if p.name[:1] in "EW")


def test_every_hostile_file_has_an_expectation():
    assert HOSTILE_FILES == sorted(EXPECTED)


def peak(fn, *args):
    """(fn(*args), the most memory Python held while it ran)."""
    tracemalloc.start()
    try:
        out = fn(*args)
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", HOSTILE_FILES)
def test_hostile_file(name, parser):
    code = name.split("-")[0]
    result, held = peak(check_file, HOSTILE / name, f"tests/data/hostile/{name}")
    assert held < SMALL
    assert not result.ok
    assert code in codes(result.diagnostics), result.diagnostics
    assert_well_formed(result.diagnostics)
    first = next(d for d in result.diagnostics if d.code == code)
    where = EXPECTED[name]
    assert pos(first.span) == where, first
    assert first.file == f"tests/data/hostile/{name}"


def test_no_python_object_is_ever_constructed(tmp_path, parser):
    marker = tmp_path / "pwned"
    text = f'specc: 1\nx: !!python/object/apply:os.system ["touch {marker}"]\n'
    text += f'y: !!python/object/new:subprocess.call [["touch", "{marker}"]]\n'
    result = check_text(text)
    assert codes(result.diagnostics).count("E013") == 2
    assert not marker.exists()
    assert result.doc.data["x"] == [f"touch {marker}"]  # plain data, nothing called


def test_billion_laughs_stays_small(parser):
    text = (HOSTILE / "E012-billion-laughs.yaml").read_text()
    result, held = peak(check_text, text)
    assert held < SMALL
    # Nothing is expanded: each alias is a null, and each anchor is reported once.
    assert result.doc.data["lol"]["i"] == [None] * 9
    alias_errors = [d for d in result.diagnostics if d.code == "E012"]
    assert len(alias_errors) == 8
    assert "8 more uses of '*a' not shown" in alias_errors[0].message


def test_alias_errors_are_not_repeated_as_schema_errors():
    text = "specc: 1\nlayers:\n  - {type: Dense, units: &u 8, input_dim: 4}\n  - {type: Dense, units: *u}\n" \
           "  - {type: Dense, units: *u}\n"
    result = check_text(text)
    assert codes(result.diagnostics) == ["E012"]
    assert pos(result.diagnostics[0].span) == (4, 26)


@pytest.mark.parametrize("make", [
    lambda: "[" * 100_000,
    lambda: "- " * 100_000,
    lambda: "{a: " * 100_000,
    lambda: "".join(" " * i + "k:\n" for i in range(1_500)),
    lambda: "specc: 1\nlayers:\n" + "".join("  " * i + "  - x:\n" for i in range(400)),
], ids=["flow-sequences", "block-sequences", "flow-mappings", "block-mappings", "in-a-spec"])
def test_depth_bombs(make, parser):
    text = make()
    result, held = peak(check_text, text)
    assert held < SMALL
    assert codes(result.diagnostics) == ["E014"]
    assert_well_formed(result.diagnostics)
    assert result.diagnostics[0].span is not None


def test_exactly_max_depth_is_allowed():
    doc, errors = load_text("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    assert errors == []
    doc, errors = load_text("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert codes(errors) == ["E014"]


def test_too_many_nodes():
    text = "[" + "0," * (MAX_NODES + 10) + "]"
    assert len(text) < MAX_BYTES
    result, held = peak(check_text, text)
    assert held < LARGE
    assert codes(result.diagnostics) == ["E003"]
    assert f"{MAX_NODES:,}" in result.diagnostics[0].message


def test_too_large_file(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# padding\n" * (MAX_BYTES // 10 + 1))
    result, held = peak(check_file, big)
    assert held < SMALL
    assert codes(result.diagnostics) == ["E003"]
    assert f"{MAX_BYTES:,}" in result.diagnostics[0].message
    assert codes(decode(big.read_bytes(), "big.yaml")[1]) == ["E003"]


def test_exactly_max_bytes_is_read(tmp_path):
    path = tmp_path / "edge.yaml"
    path.write_bytes(b"a: 1\n" + b"#" * (MAX_BYTES - 6) + b"\n")
    assert path.stat().st_size == MAX_BYTES
    doc, errors = load_file(path)
    assert errors == [] and doc.data == {"a": 1}


def test_missing_file(tmp_path):
    result = check_file(tmp_path / "nope.yaml", "nope.yaml")
    assert codes(result.diagnostics) == ["E001"]
    assert result.diagnostics[0].file == "nope.yaml"
    assert "no such file" in result.diagnostics[0].message


def test_directory(tmp_path):
    result = check_file(tmp_path)
    assert codes(result.diagnostics) == ["E001"]
    assert "directory" in result.diagnostics[0].message


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_link_to_an_endless_device_is_refused(tmp_path):
    link = tmp_path / "spec.yaml"
    link.symlink_to("/dev/zero")
    result, held = peak(check_file, link)
    assert held < SMALL
    assert codes(result.diagnostics) == ["E001"]


def test_a_path_through_a_file(tmp_path):
    (tmp_path / "file.yaml").write_text("specc: 1\n")
    result = check_file(tmp_path / "file.yaml" / "spec.yaml")
    assert codes(result.diagnostics) == ["E001"]


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path):
    path = tmp_path / "secret.yaml"
    path.write_text("specc: 1\n")
    path.chmod(0)
    assert codes(check_file(path).diagnostics) == ["E001"]


def test_utf8_bom_is_accepted():
    result = check_file(HOSTILE / "ok-utf8-bom.yaml")
    assert result.ok, result.diagnostics
    assert result.doc.spans[("specc",)] == Span(1, 8, 1, 9)  # the BOM takes no column


def test_bom_does_not_shift_invalid_utf8_position():
    text, errors = decode(b"\xef\xbb\xbfa: caf\xe9\n", "x")
    assert text is None and codes(errors) == ["E002"]
    assert pos(errors[0].span) == (1, 7)
    assert "0xe9" in errors[0].message


def test_invalid_utf8_column_counts_characters():
    _, errors = decode("a: 1\nnäme: ".encode() + b"\xff", "x")
    assert pos(errors[0].span) == (2, 7)


@pytest.mark.parametrize("raw", [b"\x00", b"a: 1\n\x00", b"\xff\xfe\x00\x00a\x00\x00\x00", b"\xfe\xff\x00a"])
def test_binary_and_other_encodings(raw):
    text, errors = decode(raw, "x")
    assert text is None and codes(errors) == ["E002"]
    assert errors[0].span is not None and errors[0].span.line >= 1


def test_tabs_get_a_hint(parser):
    result = check_file(HOSTILE / "E010-tab-indentation.yaml")
    assert "tab" in result.diagnostics[0].help


def test_unclosed_bracket_names_where_it_opened(parser):
    result = check_text("specc: 1\nlayers:\n  - {type: Dense, units: 4\n  - Flatten\n")
    (d,) = result.diagnostics
    assert d.code == "E010"
    assert "starts at line 3, column 5" in d.message


def test_lone_surrogates_in_text(parser):
    doc, errors = load_text("a: 1\nb: x\ud800\n")
    assert codes(errors) == ["E002"]
    assert pos(errors[0].span) == (2, 5)


def test_escaped_lone_surrogates_are_refused_by_both_parsers(parser):
    doc, errors = load_text('specc: 1\n"\\ud800": 1\n')
    assert codes(errors) == ["E010"]
    assert errors[0].span.line == 2
    assert doc.data is None


def test_control_characters_beyond_the_first_8k(parser):
    text = "a: 1\n" + "# pad\n" * 3000 + "b: \x00\n"
    result = check_text(text)
    assert codes(result.diagnostics) == ["E002"]
    assert pos(result.diagnostics[0].span) == (3002, 4)


@pytest.mark.parametrize("text,fragment", [
    ("!!map [1]", "does not fit a list"),
    ("!!str {a: 1}", "does not fit a mapping"),
    ("v: !!seq x", "does not fit a scalar"),
])
def test_core_tags_on_the_wrong_kind_of_node(text, fragment, parser):
    _, errors = load_text(text)
    assert codes(errors) == ["E013"] and fragment in errors[0].message


# -- many diagnostics: no quadratic work ---------------------------------------------
@pytest.mark.parametrize("make,code", [
    (lambda: "specc: 1\n" + "a: 1\n" * 60_000, "E011"),
    (lambda: "specc: 1\nlayers: [Flatten]\n" + "".join(f"k{i}: !foo 1\n" for i in range(40_000)), "E013"),
    (lambda: "specc: 1\nlayers: [Flatten]\n" + "".join(f"k{i}: 1\n" for i in range(40_000)), "E100"),
], ids=["duplicate-keys", "tags", "unknown-keys"])
def test_files_with_many_errors(make, code):
    text = make()
    result, held = peak(check_text, text)
    lines = [result.doc.line(d.span.line) for d in result.diagnostics]  # what the CLI prints
    assert len(lines) >= 40_000
    assert held < LARGE
    assert set(codes(result.diagnostics)) <= {code, "E101"}


def test_many_layers_check_in_linear_time():
    text = "specc: 1\nlayers:\n  - {type: Dense, units: 3, input_dim: 3}\n" + "  - {type: Dense, units: 3}\n" * 20_000
    result, held = peak(check_text, text)
    assert result.ok
    assert held < LARGE
    names = [n.name for n in result.graph.nodes]
    assert names[:3] == ["input_layer", "dense", "dense_1"] and names[-1] == "dense_20000"


def test_long_chains_do_not_recurse():
    text = "specc: 1\nlayers:\n  - {type: Dense, units: 3, input_dim: 3, activation: softmax}\n" \
           + "  - {type: Dropout, rate: 0.1}\n" * 5_000 + "compile: {loss: {type: categorical_crossentropy, from_logits: true}}\n"
    result = check_text(text)
    assert codes(result.diagnostics) == ["W401", "W403"]  # the softmax is found through 5,000 Dropouts


# -- the CLI, in a subprocess ---------------------------------------------------------
def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "specc", "validate", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def generated_inputs(tmp_path: Path) -> dict[str, tuple[str, bool]]:
    """Inputs too large (or too odd) to keep in the repository: path -> (code, has a position)."""
    out = {}
    for name, text in {"E014-flow-bomb.yaml": "[" * 100_000, "E014-block-bomb.yaml": "- " * 100_000,
                       "E014-mapping-bomb.yaml": "{a: " * 100_000}.items():
        (tmp_path / name).write_text(text)
        out[str(tmp_path / name)] = ("E014", True)
    (tmp_path / "E003-large.yaml").write_bytes(b"#" * (MAX_BYTES + 1))
    out[str(tmp_path / "E003-large.yaml")] = ("E003", False)
    out[str(tmp_path / "E001-missing.yaml")] = ("E001", False)
    return out


def test_cli_on_hostile_files(tmp_path):
    cases = {f"tests/data/hostile/{name}": (name.split("-")[0], EXPECTED[name] is not None)
             for name in HOSTILE_FILES}
    cases.update(generated_inputs(tmp_path))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = {path: subprocess.Popen([sys.executable, "-m", "specc", "validate", path], cwd=ROOT, env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for path in cases}
    for path, proc in procs.items():
        out, _ = proc.communicate(timeout=60)
        code, positioned = cases[path]
        assert proc.returncode == 1, (path, out)
        assert "Traceback" not in out, out
        if positioned:
            assert re.search(rf"^{re.escape(path)}:\d+:\d+: error\[{code}\]: ", out, re.M), out
        else:
            assert re.search(rf"^{re.escape(path)}: error\[{code}\]: ", out, re.M), out
        assert out.rstrip().endswith("[invalid]"), out


def test_cli_on_a_directory_of_hostile_files():
    proc = run_cli("tests/data/hostile")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    checked = re.search(r"^(\d+) file\(s\) checked: (\d+) valid", proc.stdout, re.M)
    assert checked and int(checked.group(1)) == len(HOSTILE_FILES) + 1 and checked.group(2) == "1"


def test_cli_json_output_on_a_hostile_file():
    import json

    proc = run_cli("--format", "json", "tests/data/hostile/E013-python-object-apply.yaml")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    (entry,) = report["files"]
    assert entry["valid"] is False
    assert entry["diagnostics"][0]["code"] == "E013"
    assert (entry["diagnostics"][0]["line"], entry["diagnostics"][0]["column"]) == (3, 5)


def test_document_type_is_plain_data():
    doc, _ = load_text(BLOCK)
    assert isinstance(doc, Document)
    assert doc.data == {"specc": 1, "name": "demo",
                        "layers": [{"type": "Dense", "units": 8, "input_dim": 4}, "Flatten"]}


# -- layout hints (specc/yaml_hints.py): the same help from libyaml and PyYAML ----------------------------------
LAYOUT = {
    "deeper": ("specc: 1\nlayers:\n  - type: Dense\n    units: 4\n      activation: relu\n",
               (5, 17), "line 5 starts at column 7, deeper than `units` on line 4 (column 5), which already has its "
               "value: start it at column 5 like the keys beside it (or quote a value that holds ': ')"),
    "shallower": ("specc: 1\ncompile:\n    optimizer: adam\n  loss: mse\n",
                  (4, 3), "line 4 starts at column 3, in line with no key above it: start it at column 5 (like "
                  "`optimizer` on line 3) or 1 (like `compile` on line 2)"),
    "list item": ("specc: 1\nlayers:\n  - type: Dense\n    units: 4\n   input_dim: 3\n",
                  (5, 4), "line 5 starts at column 4, in line with no key above it: start it at column 5 (like "
                  "`units` on line 4), 3 (a new item, like the `-` on line 3) or 1 (like `layers` on line 2)"),
    "no space after a key's colon": ("specc: 1\nlayers:\n  - type: Dense\n    units:4\n    input_dim: 3\n",
                                     (5, 5), "put a space after the colon on line 4: `units: 4`, not `units:4`"),
    "no space, then a key": ("specc: 1\ncompile:\n  optimizer:adam\n  loss: mse\n",
                             (4, 7), "put a space after the colon on line 3: `optimizer: adam`, not `optimizer:adam`"),
    "tab after a dash": ("specc: 1\nlayers:\n  -\ttype: Dense\n", (3, 4),
                         "a tab where YAML expects a space: use spaces only, to indent and after `-`"),
    "a value with ': '": ("specc: 1\nname: a: b\n", (2, 8),
                          "quote a value that holds ': ', or fix the indentation of this line"),
}


@pytest.mark.parametrize("case", LAYOUT)
def test_layout_mistakes_get_a_help_line_that_names_the_cause(parser, case):
    text, (line, col), hint = LAYOUT[case]
    _, errors = load_text(text)
    assert [(d.code, d.span.line, d.span.col) for d in errors] == [("E010", line, col)]
    assert errors[0].help == hint


def test_a_layout_hint_needs_a_layout_mistake(parser):
    _, errors = load_text("specc: 1\nlayers:\n  - {type: Dense, units: 4\n  - Flatten\n")
    assert errors[0].help.startswith("close the bracket opened at line 3, column 5")
    _, errors = load_text("specc: 1\nurl: http://example.com/a\nlayers:\n  - type: Dense\n    units: 4\n"
                          "      activation: relu\n")
    assert "`url:" not in errors[0].help and errors[0].help.startswith("line 6 starts at column 7")
