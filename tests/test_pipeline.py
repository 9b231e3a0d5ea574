import os

import numpy as np
import pytest
import tensorflow as tf

from synthdet_tf.data.discovery import discover
from synthdet_tf.data.pipeline import cache_stage, class_weights, make_dataset
from tests.conftest import encode, good_cases, random_rgb, write_folder


def collect(ds):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds])
    return np.concatenate(xs), np.concatenate(ys)


@pytest.mark.parametrize("policy", ["resize", "random_crop", "resize_shorter_then_crop"])
def test_training_batches_shape_dtype_labels(tiny_folder, data_config, policy):
    data_config.policy = policy
    records = discover(str(tiny_folder)).records
    ds = make_dataset(records, data_config, batch_size=5, training=True, seed=1)
    x, y = collect(ds)
    assert x.shape == (24, 32, 32, 3) and x.dtype == np.uint8 and x.std() > 10
    assert y.dtype == np.float32 and sorted(y.tolist()) == [0.0] * 12 + [1.0] * 12


def test_seeded_pipeline_is_reproducible_and_changes_per_epoch(tiny_folder, data_config):
    data_config.policy = "random_crop"
    data_config.augment.jpeg.p = 0.5
    records = discover(str(tiny_folder)).records
    ds_a = make_dataset(records, data_config, batch_size=4, training=True, seed=3)
    ds_b = make_dataset(records, data_config, batch_size=4, training=True, seed=3)
    epoch1_a, epoch1_b, epoch2_a = collect(ds_a), collect(ds_b), collect(ds_a)
    np.testing.assert_array_equal(epoch1_a[0], epoch1_b[0])
    np.testing.assert_array_equal(epoch1_a[1], epoch1_b[1])
    assert not np.array_equal(epoch1_a[0], epoch2_a[0])


def test_evaluation_is_deterministic_in_file_order(tiny_folder, data_config):
    records = discover(str(tiny_folder)).records
    x1, y1 = collect(make_dataset(records, data_config, batch_size=7, training=False))
    x2, _ = collect(make_dataset(records, data_config, batch_size=7, training=False))
    np.testing.assert_array_equal(x1, x2)
    assert y1.tolist() == [float(r.label) for r in records]


def test_resample_balances_classes(tmp_path, data_config):
    img = encode(random_rgb(16, 16), "PNG")
    write_folder(tmp_path, {f"real/{i}.png": img for i in range(90)} | {f"fake/{i}.png": img for i in range(10)})
    records = discover(str(tmp_path), verify=False).records
    data_config.balance = "resample"
    _, y = collect(make_dataset(records, data_config, batch_size=10, training=True, seed=0))
    assert len(y) == 100 and 0.35 < y.mean() < 0.65
    weights = class_weights(records)
    assert weights[1] == pytest.approx(5.0) and weights[0] == pytest.approx(100 / 180)


def test_odd_files_decode_the_same_in_the_pipeline(tmp_path, data_config):
    from PIL import Image

    cases = good_cases()
    write_folder(tmp_path, {f"real/{k}": v for k, v in cases.items()} | {"fake/x.png": encode(random_rgb(), "PNG")})
    records = [r for r in discover(str(tmp_path)).records if r.label == 0]
    data_config.policy = "center_crop"
    data_config.image_size = 32
    data_config.cache = "none"
    x, _ = collect(make_dataset(records, data_config, batch_size=32, training=False))
    for r, got in zip(records, x):
        image = Image.open(r.path)
        want = np.asarray(image.convert("RGB")) if not image.mode.startswith("I") else None
        if want is None:
            continue
        want = want[4:36, 9:41]
        np.testing.assert_array_equal(got, want, err_msg=r.relpath)


def test_cache_stage_follows_policy_and_budget(tiny_folder, data_config):
    records = discover(str(tiny_folder)).records
    assert cache_stage(records, data_config, training=True) == "policy"
    data_config.policy = "random_crop"
    assert cache_stage(records, data_config, training=True) == "decoded"
    assert cache_stage(records, data_config, training=False) == "policy"
    data_config.cache_max_bytes = 10
    assert cache_stage(records, data_config, training=True) is None
    data_config.cache = "none"
    assert cache_stage(records, data_config, training=False) is None


def test_file_vanishing_after_discovery_is_skipped_in_training_and_named_in_evaluation(tiny_folder, data_config):
    records = discover(str(tiny_folder)).records
    os.remove(records[0].path)
    data_config.cache = "none"
    ds = make_dataset(records, data_config, batch_size=8, training=True, seed=0)
    assert ds.cardinality().numpy() == 3  # Keras still knows the epoch length
    _, y = collect(ds)
    assert len(y) == 24  # the epoch is filled up from the next pass
    with pytest.raises(tf.errors.NotFoundError, match=os.path.basename(records[0].path)):
        collect(make_dataset(records, data_config, batch_size=8, training=False))


def test_empty_and_bad_settings_fail_loudly(tiny_folder, data_config):
    records = discover(str(tiny_folder)).records
    with pytest.raises(ValueError, match="No records"):
        make_dataset([], data_config, batch_size=2, training=True)
    data_config.balance = "oversample"
    with pytest.raises(ValueError, match="oversample"):
        make_dataset(records, data_config, batch_size=2, training=True)


def test_cache_is_complete_after_one_epoch_even_with_a_small_shuffle_buffer(tiny_folder, data_config):
    records = discover(str(tiny_folder)).records
    data_config.shuffle_buffer = 4
    ds = make_dataset(records, data_config, batch_size=8, training=True, seed=0)
    first = collect(ds)
    for r in records:
        os.remove(r.path)
    second = collect(ds)  # served from memory: no file is read again
    assert len(second[1]) == len(first[1]) == 24
    assert sorted(second[1].tolist()) == sorted(first[1].tolist())
