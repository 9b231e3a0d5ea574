import csv

import pytest

from synthdet_tf.training.grid import apply_overrides, parse_grid, run_grid


def test_parse_grid_gives_every_combination():
    combos = parse_grid("train.lr=1e-3,3e-4;data.policy=resize,center_crop")
    assert len(combos) == 4 and {"train.lr": 1e-3, "data.policy": "center_crop"} in combos
    with pytest.raises(ValueError, match="key=value"):
        parse_grid("train.lr")


def test_overrides_keep_types_and_refuse_unknown_keys(data_config):
    from synthdet_configs.tiny import get_config

    c = apply_overrides(get_config(), {"train.epochs": 3, "data.policy": "center_crop", "train.lr": 1})
    assert c.train.epochs == 3 and c.data.policy == "center_crop" and isinstance(c.train.lr, float)
    with pytest.raises(KeyError, match="train.lrr"):
        apply_overrides(get_config(), {"train.lrr": 1})


def test_grid_trains_each_combination_and_writes_one_table(tiny_folder, tmp_path):
    from synthdet_configs.tiny import get_config

    c = get_config()
    c.data.data_dir = str(tiny_folder)
    c.data.fractions = (0.7, 0.3, 0.0)
    c.train.max_train_images = c.train.max_val_images = 0
    c.train.verbose = 0
    rows = run_grid(c, str(tmp_path), "data.policy=resize,center_crop")
    table = list(csv.DictReader(open(tmp_path / "grid_results.csv")))
    assert [r["data.policy"] for r in table] == ["resize", "center_crop"] and len(rows) == 2
    assert all(0.0 <= float(r["val_auc"]) <= 1.0 for r in table)
