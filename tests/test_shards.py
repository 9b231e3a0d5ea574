"""TFRecord shards written by Beam: the same records, splits, pixels and labels as the folder path."""

import collections
import hashlib
import json

import numpy as np
import pytest

from synthdet_tf.corpus import shard_writer
from synthdet_tf.data.discovery import discover
from synthdet_tf.data.pipeline import make_dataset
from tests.conftest import bad_cases, write_folder


def no_augment(data_config):
    data_config.augment.hflip = 0.0
    for name in ("rescale", "blur", "jpeg", "webp"):
        data_config.augment[name].p = 0.0
    data_config.cache = "none"
    return data_config


@pytest.fixture
def sharded(tiny_folder, tmp_path):
    write_folder(tiny_folder, {"fake/gen0__" + name: data for name, (data, _) in bad_cases().items()})
    meta = shard_writer.write(str(tiny_folder), str(tmp_path / "shards"), num_shards=2, fractions=(0.5, 0.25, 0.25))
    return tiny_folder, tmp_path / "shards", meta


def test_shards_hold_the_folder_records_and_its_skips(sharded):
    folder, out, meta = sharded
    found = discover(str(folder), fractions=(0.5, 0.25, 0.25))
    loaded = discover(str(out), fractions=(0.5, 0.25, 0.25))
    key = lambda r: (r.relpath, r.label, r.source, r.split, r.family, r.info)  # noqa: E731
    assert sorted(map(key, loaded.records)) == sorted(map(key, found.records)) and len(found.records) == 24
    assert meta["records"] == 24 and len(meta["skipped"]) == len(bad_cases())
    assert sum(meta["splits"].values()) == 24 and sorted(p.name for p in out.glob("train-*.tfrecord")) == [
        "train-00000-of-00002.tfrecord", "train-00001-of-00002.tfrecord"]
    with pytest.raises(ValueError, match="sharded with fractions"):
        discover(str(out), fractions=(0.8, 0.1, 0.1))  # not the split the shards were written with
    with pytest.raises(FileExistsError, match="--overwrite"):
        shard_writer.write(str(folder), str(out), fractions=(0.5, 0.25, 0.25))


def test_evaluation_from_shards_gives_the_folder_pixels_in_record_order(sharded, data_config):
    folder, out, _ = sharded
    by_relpath = {r.relpath: r for r in discover(str(out), fractions=(0.5, 0.25, 0.25)).records}
    for split in ("train", "val", "test"):
        records = discover(str(folder), fractions=(0.5, 0.25, 0.25)).split(split)
        a = [(x.numpy(), y.numpy()) for x, y in make_dataset(records, data_config, batch_size=4, training=False)]
        b = [(x.numpy(), y.numpy()) for x, y in make_dataset([by_relpath[r.relpath] for r in records], data_config, batch_size=4, training=False)]
        np.testing.assert_array_equal(np.concatenate([x for x, _ in a]), np.concatenate([x for x, _ in b]))
        np.testing.assert_array_equal(np.concatenate([y for _, y in a]), np.concatenate([y for _, y in b]))


def test_training_from_shards_streams_each_record_as_often_as_listed(sharded, data_config):
    folder, out, _ = sharded
    cfg = no_augment(data_config)

    def epoch(records):
        ds = make_dataset(records, cfg, batch_size=5, training=True, seed=3)
        pairs = [(hashlib.sha1(x.tobytes()).hexdigest(), float(y)) for xb, yb in ds for x, y in zip(xb.numpy(), yb.numpy())]
        return collections.Counter(pairs)

    train = discover(str(folder), fractions=(0.5, 0.25, 0.25)).split("train")
    sharded_train = {r.relpath: r for r in discover(str(out), fractions=(0.5, 0.25, 0.25)).records}
    twice = train + train[:3]  # group sampling draws with replacement
    assert epoch([sharded_train[r.relpath] for r in twice]) == epoch(twice)


def test_a_tiny_model_trains_from_shards(sharded, tmp_path):
    from synthdet_configs.tiny import get_config
    from synthdet_tf.training.train import train_and_evaluate

    _, out, _ = sharded
    c = get_config()
    c.data.data_dir = str(out)
    c.data.fractions = (0.5, 0.25, 0.25)
    c.train.epochs = 1
    c.train.verbose = 0
    results = train_and_evaluate(c, str(tmp_path / "run"))
    assert np.isfinite(results["loss"])
    summary = json.loads((tmp_path / "run" / "data_summary.json").read_text())
    assert summary["usable"] == 24 and summary["data_dir"] == str(out)
    assert len(open(tmp_path / "run" / "log.csv").read().splitlines()) == 2  # header + the one epoch
