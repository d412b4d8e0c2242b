"""The `search:` section, checked statically: schema errors, keys, values, and every point of the space."""

import pytest
from conftest import ROOT, probe_cli, run_cli

from specc.check import check_text

BASE = """specc: 1
name: cnn
seed: 1
vars: {k: 3, width: 32}
layers:
  - {type: Conv2D, filters: 4, kernel_size: "${k}", activation: relu, input_shape: [20, 20, 1], name: conv1}
  - {type: MaxPooling2D, pool_size: 2}
  - {type: Conv2D, filters: 4, kernel_size: "${k}", activation: relu, name: conv2}
  - {type: MaxPooling2D, pool_size: 2}
  - {type: Conv2D, filters: 4, kernel_size: "${k}", activation: relu, name: conv3}
  - Flatten
  - {type: Dense, units: "${width}", name: hidden}
  - {type: Dropout, rate: 0.2, name: drop}
  - {type: Dense, units: 10, activation: softmax}
compile:
  optimizer: adam
  loss: categorical_crossentropy
  metrics: [accuracy]
"""


def check(search: str, base: str = BASE):
    return check_text(base + "search:\n" + search)


def errors(result):
    return [(d.code, d.span.line if d.span else None, d.message, d.help) for d in result.errors]


def test_a_valid_space_passes_with_its_short_forms():
    result = check("""  objective: {metric: val_accuracy}
  sampler: grid
  pruner: median
  space:
    vars.k: [1, 3]
    vars.width: {type: int, low: 16, high: 64, step: 16}
    compile.optimizer.learning_rate: [0.001, 0.01]
    compile.optimizer.type: [Adam, SGD]
    layers.drop.rate: {type: float, low: 0.1, high: 0.5, step: 0.2}
    train.batch_size: {type: categorical, choices: [16, 32]}
""")
    assert result.ok, errors(result)
    search = result.spec.search
    assert search.objective.resolved_direction == "maximize"
    assert search.grid_space()["vars.width"] == [16, 32, 48, 64]
    assert search.grid_space()["layers.drop.rate"] == [0.1, 0.3, 0.5]


def test_schema_errors_are_located_with_did_you_mean():
    result = check("""  sampler: {type: tpe, sed: 3}
  pruner: medain
  space:
    layers.drop.rate: {type: float, low: 0.5, high: 0.1}
    train.batch_size: {type: int, low: 0, high: 64, log: true}
    vars.k: {type: float, low: 1, high: 3}
""")
    found = errors(result)
    assert ("E100", 20, "unknown key 'sed' in sampler", "did you mean 'seed'?") in found
    assert any(e[:2] == ("E102", 21) and "did you mean 'median'?" == e[3] for e in found)
    assert any(e[:2] == ("E102", 23) and "low must be less than high" in e[2] for e in found)
    assert any(e[:2] == ("E102", 24) and "a log range needs low > 0" in e[2] for e in found)
    assert len(found) == 4


def test_grid_needs_values_it_can_list():
    result = check("""  sampler: grid
  space:
    compile.optimizer.learning_rate: {type: float, low: 0.001, high: 0.1, log: true}
""")
    assert [e[0] for e in errors(result)] == ["E102"]
    assert "give 'compile.optimizer.learning_rate' a step or choices" in result.errors[0].message


@pytest.mark.parametrize("space, points", [
    ("vars.width: {type: int, low: 1, high: 100000000000}", "100,000,000,000"),
    ("compile.optimizer.learning_rate: {type: float, low: 0.0, high: 1, step: 1.0e-300}", "about 1e+300"),
])
def test_a_grid_is_counted_before_it_is_listed(space, points):
    """A huge range is refused by its size at once, without building the list (which ran out of memory or hung)."""
    result = check(f"""  sampler: grid
  space:
    {space}
""")
    assert [e[0] for e in errors(result)] == ["E102"]
    assert f"the grid has {points} points (at most 100,000)" in result.errors[0].message


def test_keys_that_name_nothing_are_reported_with_did_you_mean():
    result = check("""  objective: {metric: val_acuracy}
  space:
    vars.widht: [16, 32]
    layers.hiden.units: [8, 16]
    compile.optimizer.learning_rat: {type: float, low: 1.0e-4, high: 0.1, log: true}
    vars.k: [1, 3]
""")
    found = errors(result)
    assert ("E503", 20, "the objective 'val_acuracy' is not a quantity that training logs",
            "did you mean 'val_accuracy'?") in found
    assert ("E500", 22, "the spec has no variable 'widht'", "did you mean 'vars.width'?") in found
    assert any(e[:2] == ("E500", 23) and "no layer named 'hiden'" in e[2] for e in found)
    assert any(e[:2] == ("E500", 24) and "unknown key 'learning_rat'" in e[2] and e[3] ==
               "did you mean 'learning_rate'?" for e in found)
    assert len(found) == 4


def test_a_value_of_the_wrong_type_is_reported_at_its_own_line():
    result = check("""  space:
    layers.hidden.units:
      - 8
      - "x"
    compile.optimizer.type: [Adam, Adamm]
""")
    found = errors(result)
    assert any(e[:2] == ("E501", 23) and "'layers.hidden.units' cannot be 'x'" in e[2]
               and "units must be an integer" in e[2] for e in found), found
    assert any(e[:2] == ("E501", 24) and "'Adamm'" in e[2] and e[3] == "did you mean 'Adam'?" for e in found)
    assert len(found) == 2
    assert result.errors[1].span.col == 36  # at the choice, not at the key


def test_failing_points_are_reported_once_with_their_values_layer_and_count():
    result = check("""  sampler: grid
  space:
    vars.k: [1, 3, 5]
    vars.width: [16, 32]
    compile.optimizer.learning_rate: [0.001, 0.01]
""")
    found = errors(result)
    assert len(found) == 1, found
    code, line, message, _ = found[0]
    assert (code, line) == ("E502", 22)  # at the key whose value causes it
    assert message.startswith("vars.k=5: layer 'conv3'")
    assert message.endswith(": 4 of 12 checked points fail")


def test_range_ends_are_checked_when_the_sampler_is_not_a_grid():
    result = check("""  sampler: tpe
  space:
    vars.k: {type: int, low: 1, high: 5}
""")
    assert [e[0] for e in errors(result)] == ["E502"]
    assert "vars.k=5" in result.errors[0].message and "1 of 2 checked points fail" in result.errors[0].message


def test_the_budget_applies_to_the_largest_model_of_the_space():
    result = check("""  space:
    vars.width: [16, 4096]
""", base=BASE + "budget: {max_params: 20000}\n")
    assert [e[0] for e in errors(result)] == ["E502"]
    assert "vars.width=4096" in result.errors[0].message and "E410" not in result.errors[0].message
    assert "parameters" in result.errors[0].message


def test_set_expands_an_optimizer_short_form_to_its_mapping():
    """`--set compile.optimizer.learning_rate=...` on `optimizer: adam` (the search writes points the same way)."""
    out = run_cli("summary", ROOT / "specs" / "digits_mlp.yaml", "--set", "compile.optimizer=adam",
                  "--set", "compile.optimizer.learning_rate=0.01", "--json")
    assert out.returncode == 0, out.stderr


def test_the_example_sweep_validates_without_tensorflow():
    code, heavy, out = probe_cli("validate", ROOT / "specs" / "digits_optimizers.yaml")
    assert code == 0, out.stdout + out.stderr
    assert heavy == []


@pytest.mark.parametrize("bad", ["trials: 0", "space: {}", "objective: {metric: val loss}"])
def test_other_schema_errors(bad):
    result = check(f"  {bad}\n" + ("  space: {vars.k: [1, 3]}\n" if "space" not in bad else ""))
    assert [d.code for d in result.errors] == ["E102"], errors(result)


def test_a_step_that_does_not_divide_its_range_is_refused_with_the_end_it_reaches():
    """Optuna lowers `high` to the last step: the check tried (and the dry run listed) a value no trial gets."""
    result = check("""  sampler: random
  space:
    vars.width: {type: int, low: 8, high: 16, step: 3}
    layers.drop.rate: {type: float, low: 0.0, high: 1.0, step: 0.3}
    compile.optimizer.learning_rate: {type: float, low: 0.001, high: 0.01, step: 0.001}
""")
    assert [(code, line, message) for code, line, message, _ in errors(result)] == [
        ("E102", 22, "step 3 does not divide the range 8..16: its last value is 14, not 16 (set high: 14, or a step "
                     "that divides the range)"),
        ("E102", 23, "step 0.3 does not divide the range 0.0..1.0: its last value is 0.9, not 1.0 (set high: 0.9, or "
                     "a step that divides the range)"),
    ]


def test_a_float_range_over_a_whole_number_suggests_an_int_range():
    """The hint was the spec file's: "write 8; YAML reads a number with a decimal point ... as a float"."""
    result = check("  sampler: random\n  space:\n    vars.width: {type: float, low: 8, high: 16}\n")
    assert [(code, message, hint) for code, _, message, hint in errors(result)][:1] == [
        ("E501", "'vars.width' cannot be 8.0: units must be an integer. Received: 8.0 (at vars.width)",
         "search this key with `type: int`: a float range gives numbers such as 8.0")]
