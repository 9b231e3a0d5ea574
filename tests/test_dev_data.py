"""Real files from ../shared/data/dev (skipped, with the reason, where it is absent)."""

import collections
import csv

import numpy as np
import pytest
from PIL import Image

from synthdet_tf.data.discovery import discover
from synthdet_tf.data.pipeline import make_dataset


@pytest.fixture(scope="module")
def dev_discovery(request):
    from tests.conftest import SHARED_DEV

    if not (SHARED_DEV / "MANIFEST.csv").exists():
        pytest.skip(f"shared dev data not found at {SHARED_DEV}")
    return discover(str(SHARED_DEV))


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_counts_equal_manifest(dev_discovery, shared_dev):
    manifest = read_csv(shared_dev / "MANIFEST.csv")
    assert not dev_discovery.skipped
    assert dev_discovery.manifest.matched == len(manifest) == len(dev_discovery.records)
    want = collections.Counter((row["source_repo"], 0 if row["label"] == "REAL" else 1) for row in manifest)
    got = collections.Counter((r.source, r.label) for r in dev_discovery.records)
    assert got == want


def test_formats_and_sizes_by_content_match_image_stats(dev_discovery, shared_dev):
    stats = {row["relpath"]: row for row in read_csv(shared_dev / "IMAGE_STATS.csv")}
    for r in dev_discovery.records:
        row = stats[r.relpath]
        assert (r.info.format, r.info.width, r.info.height, r.info.num_bytes) == (
            row["format"], int(row["width"]), int(row["height"]), int(row["bytes"])
        ), r.relpath
    mislabelled = [r for r in dev_discovery.records if r.relpath.rsplit(".", 1)[-1].upper().replace("JPG", "JPEG") != r.info.format]
    # The data README itemises 3 + 7 + 2 + 4 + 4 = 20 such files (its total says 18).
    kinds = collections.Counter((r.label, r.relpath.rsplit(".", 1)[-1], r.info.format) for r in mislabelled)
    assert kinds == {(0, "png", "JPEG"): 3, (1, "png", "JPEG"): 11, (1, "webp", "JPEG"): 2, (1, "png", "WEBP"): 4}


def test_split_is_about_80_10_10_in_each_class(dev_discovery):
    for label in (0, 1):
        rs = [r for r in dev_discovery.records if r.label == label]
        share = collections.Counter(r.split for r in rs)
        assert abs(share["train"] / len(rs) - 0.8) < 0.03
        assert abs(share["val"] / len(rs) - 0.1) < 0.02


def test_wrong_extension_and_odd_mode_files_decode_exactly(dev_discovery, data_config):
    odd = [
        r
        for r in dev_discovery.records
        if r.relpath.rsplit(".", 1)[-1].upper().replace("JPG", "JPEG") != r.info.format or r.info.mode != "RGB"
    ]
    assert len(odd) >= 18
    data_config.policy, data_config.image_size, data_config.cache = "center_crop", 64, "none"
    x, _ = zip(*[(a.numpy(), b.numpy()) for a, b in make_dataset(odd, data_config, batch_size=16, training=False)])
    for r, got in zip(odd, np.concatenate(x)):
        want = np.asarray(Image.open(r.path).convert("RGB"))
        h, w = want.shape[:2]
        if h < 64 or w < 64:
            continue  # reflect-padded; checked on generated images
        top, left = (h - 64) // 2, (w - 64) // 2
        np.testing.assert_array_equal(got, want[top : top + 64, left : left + 64], err_msg=r.relpath)


def test_training_pipeline_on_every_source(dev_discovery, data_config):
    by_source = collections.defaultdict(list)
    for r in dev_discovery.split("train"):
        by_source[(r.source, r.label)].append(r)
    subset = [r for rs in by_source.values() for r in rs[:6]]
    data_config.image_size, data_config.balance = 224, "resample"
    ds = make_dataset(subset, data_config, batch_size=32, training=True, seed=0)
    n, labels = 0, []
    for x, y in ds:
        assert x.shape[1:] == (224, 224, 3) and x.dtype == np.uint8
        n += x.shape[0]
        labels.extend(y.numpy().tolist())
    assert n == len(subset) and 0.3 < np.mean(labels) < 0.7
