"""The corpus shortcut score (metadata-only classifier AUC) and the JPEG block-grid estimate."""

import io

import numpy as np
import pytest
from PIL import Image

from synthdet_tf.data.block_grid import block_grid_ratio
from synthdet_tf.data.discovery import split_of
from synthdet_tf.data.pillow_io import ImageInfo
from synthdet_tf.data.records import FAKE, REAL, Record
from synthdet_tf.data.shortcut_score import describe, shortcut_score
from tests.conftest import smooth_rgb


def record(i, label, fmt, w, h, nbytes, quality=None):
    rel = f"{'fake' if label else 'real'}/f{i}.x"
    info = ImageInfo(fmt, "RGB", w, h, 1, nbytes, False, quality)
    return Record(rel, rel, label, "s", split_of(rel), info)


def test_metadata_that_gives_the_label_away_scores_near_one():
    rng = np.random.default_rng(0)
    reals = [record(i, REAL, "JPEG", 4032, 3024, int(rng.integers(2e6, 4e6)), int(rng.integers(85, 96))) for i in range(300)]
    fakes = [record(i, FAKE, "PNG", 1024, 1024, int(rng.integers(1e6, 2e6))) for i in range(300)]
    score = shortcut_score(reals + fakes)
    assert score["auc"] > 0.95
    assert "Shortcut score" in describe(score) and score["top_features"]


def test_metadata_drawn_alike_for_both_classes_scores_near_chance():
    rng = np.random.default_rng(1)

    def draw(i, label):
        w, h = (int(v) for v in rng.choice([512, 768, 1024, 1536], size=2))
        fmt = str(rng.choice(["JPEG", "PNG", "WEBP"]))
        return record(i, label, fmt, w, h, int(w * h * rng.uniform(0.5, 3)), int(rng.integers(70, 99)) if fmt == "JPEG" else None)

    score = shortcut_score([draw(i, REAL) for i in range(400)] + [draw(i, FAKE) for i in range(400)])
    assert 0.38 < score["auc"] < 0.62


def test_too_few_images_give_no_score():
    score = shortcut_score([record(i, i % 2, "PNG", 64, 64, 1000) for i in range(12)])
    assert score["auc"] is None and "not computed" in describe(score)


def jpeg(array, quality):
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("RGB"))


@pytest.mark.parametrize("seed", [0, 1])
def test_block_grid_shows_jpeg_history_until_the_grid_is_moved(seed):
    rng = np.random.default_rng(seed)
    photo = np.clip(smooth_rgb(256, 256, seed=seed).astype(np.int16) + rng.integers(-6, 7, (256, 256, 3)), 0, 255).astype(np.uint8)
    assert abs(block_grid_ratio(photo) - 1.0) < 0.05
    compressed = jpeg(photo, 40)
    assert block_grid_ratio(compressed) > 1.15
    assert abs(block_grid_ratio(compressed[3:, 5:]) - 1.0) < 0.08  # cropped off the grid: the trace no longer reads
    assert np.isnan(block_grid_ratio(photo[:8, :8]))
