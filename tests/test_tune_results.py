"""The sweep's tables and values, without training: leaderboard order, the plain and CSV tables, the
objective read from a run's history, trial counts, and choices stored in Optuna and read back."""

import csv
import io
import json
import math

from specc.check import check_text
from specc.runners.tune import Sweep, objective_value, optuna_choice, target_trials, values_of
from specc.runners.tune_results import best_row, leaderboard, results_csv, table_lines, trial_line

ROWS = [
    {"number": 0, "params": {"w": 8}, "value": 0.5, "state": "complete", "epochs": 3, "run_dir": "trials/0000",
     "message": None},
    {"number": 1, "params": {"w": 16}, "value": None, "state": "invalid", "epochs": None, "run_dir": "trials/0001",
     "message": "E502 layers[0]: too big\nmore"},
    {"number": 2, "params": {"w": 32}, "value": 0.9, "state": "complete", "epochs": 3, "run_dir": "trials/0002",
     "message": None},
    {"number": 3, "params": {"w": 4}, "value": 0.7, "state": "pruned", "epochs": 1, "run_dir": "trials/0003",
     "message": "pruned after epoch 1"},
    {"number": 4, "params": {"w": 2}, "value": None, "state": "failed", "epochs": 1, "run_dir": "trials/0004",
     "message": "the loss became NaN or infinite at epoch 1"},
]


def test_leaderboard_ranks_complete_trials_by_the_direction_then_the_other_states():
    assert [r["number"] for r in leaderboard(ROWS, "maximize")] == [2, 0, 3, 1, 4]
    assert [r["number"] for r in leaderboard(ROWS, "minimize")] == [0, 2, 3, 1, 4]
    assert best_row(ROWS, "maximize")["number"] == 2 and best_row(ROWS, "minimize")["number"] == 0
    assert best_row([r for r in ROWS if r["state"] != "complete"], "maximize") is None  # a pruned trial never wins


def test_tables_show_values_states_and_why_a_trial_failed():
    lines = table_lines(ROWS, ["w"], "val_accuracy")
    assert lines[0].split() == ["trial", "w", "val_accuracy", "epochs", "status"]
    assert lines[3].split()[:5] == ["2", "32", "0.9000", "3", "complete"]
    assert lines[2].endswith("invalid  (E502 layers[0]: too big)")
    assert trial_line(ROWS[4], "val_loss") == ("trial 4  w=2  1 epochs  failed  (the loss became NaN or infinite "
                                               "at epoch 1)")
    rows = list(csv.DictReader(io.StringIO(results_csv(ROWS, ["w"]))))
    assert [r["state"] for r in rows] == [r["state"] for r in ROWS] and rows[2]["value"] == "0.9"


def test_the_objective_is_the_best_epoch_and_a_diverged_loss_fails(tmp_path):
    (tmp_path / "history.json").write_text(json.dumps({"loss": [1.0, 0.5, 0.4], "val_loss": [0.9, 0.3, 0.6],
                                                       "val_accuracy": [0.5, 0.8, 0.7]}))
    assert objective_value(tmp_path, "val_loss", "minimize") == (0.3, 3, None)
    assert objective_value(tmp_path, "val_accuracy", "maximize") == (0.8, 3, None)
    value, _, problem = objective_value(tmp_path, "val_auc", "maximize")
    assert value is None and "training logged no 'val_auc'" in problem
    (tmp_path / "history.json").write_text('{"loss": [1.0, NaN], "val_loss": [0.9, NaN]}')
    value, epochs, problem = objective_value(tmp_path, "val_loss", "minimize")
    assert value is None and epochs == 2 and problem == "the loss became NaN or infinite at epoch 2"
    assert math.isnan(json.loads((tmp_path / "history.json").read_text())["loss"][1])


SPEC = """specc: 1
seed: 1
layers: [{type: Dense, units: 2, input_dim: 2}]
compile: {optimizer: adam, loss: mse}
search:
  sampler: SAMPLER
  space:
    compile.optimizer: [{type: SGD, learning_rate: 0.1}, {type: Adam, learning_rate: 0.001}]
    train.batch_size: {type: int, low: 8, high: 32, step: 8}
"""


def test_trial_counts_and_choices_round_trip_through_optuna():
    grid = check_text(SPEC.replace("SAMPLER", "grid"))
    assert grid.ok, [d.message for d in grid.errors]
    assert target_trials(grid.spec.search, None) == 8  # 2 x 4 points
    assert target_trials(grid.spec.search, 100) == 8 and target_trials(grid.spec.search, 3) == 3
    tpe = check_text(SPEC.replace("SAMPLER", "tpe"))
    assert target_trials(tpe.spec.search, None) == 20
    sweep = Sweep(dir=None, spec_file=None, text="", storage="", study="", trials=8, result=grid)
    stored = {"compile.optimizer": optuna_choice({"type": "Adam", "learning_rate": 0.001}), "train.batch_size": 24}
    assert stored["compile.optimizer"] == "{type: Adam, learning_rate: 0.001}"
    assert values_of(stored, sweep) == {"compile.optimizer": {"type": "Adam", "learning_rate": 0.001},
                                        "train.batch_size": 24}
