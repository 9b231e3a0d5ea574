"""`synthdet-data reconstruct`: aligned pairs, the PSNR filter, pair-aware splits, resuming without overwriting."""

import csv

import numpy as np
import pytest

from synthdet_tf.corpus import reconstruct
from synthdet_tf.data.discovery import discover, split_of
from tests.conftest import encode, random_rgb, smooth_rgb, write_folder


def blur(batch: np.ndarray) -> np.ndarray:
    """A stand-in autoencoder: 2x2 box down and nearest up (faithful on smooth crops, not on noise)."""
    x = batch.astype(np.float32)
    n, h, w, c = x.shape
    down = x.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))
    return np.round(down.repeat(2, axis=1).repeat(2, axis=2)).astype(np.uint8)


@pytest.fixture
def photos(tmp_path):
    return write_folder(tmp_path / "photos", {
        **{f"real/cam__smooth{i}.png": encode(smooth_rgb(64, 80, seed=i), "PNG") for i in range(6)},
        "real/cam__noise.png": encode(random_rgb(64, 64, seed=9), "PNG"),
        "real/cam__tiny.png": encode(smooth_rgb(24, 24, seed=10), "PNG"),
        "fake/gen__a.png": encode(smooth_rgb(64, 64, seed=11), "PNG"),
    })


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_pairs_are_written_with_their_psnr_and_unfaithful_ones_are_counted(photos, tmp_path):
    out = tmp_path / "aligned"
    summary = reconstruct.reconstruct(str(photos), str(out), autoencoder=blur, name="blur", size=32, min_psnr=20)
    rows = read_rows(out / "MANIFEST.csv")
    fakes = [r for r in rows if r["label"] == "fake"]
    assert summary["written"] == len(fakes) == 6 and summary["below_min_psnr"] == 1 and summary["reals_too_small"] == 1
    assert {r["aligned_with"] for r in fakes} == {f"real/cam__smooth{i}.png" for i in range(6)}
    for fake in fakes:
        real = next(r for r in rows if r["label"] == "real" and r["aligned_with"] == fake["aligned_with"])
        top, left, size = map(int, fake["box"].split())
        from PIL import Image

        original = np.asarray(Image.open(photos / fake["aligned_with"]))[top : top + size, left : left + size]
        np.testing.assert_array_equal(np.asarray(Image.open(out / real["relpath"])), original)  # the real crop, losslessly
        assert float(fake["psnr"]) == pytest.approx(reconstruct.psnr(original, blur(original[None])[0]), abs=0.01)
    assert "psnr" in read_rows(out / "SKIPPED.csv")[0]["reason"]


def test_a_pair_never_straddles_two_splits(photos, tmp_path):
    out = tmp_path / "aligned"
    reconstruct.reconstruct(str(photos), str(out), autoencoder=blur, name="blur", size=32, min_psnr=0, per_image=3)
    together = discover(f"{photos},{out}")
    split = {r.relpath: r.split for r in together.records}
    for row in read_rows(out / "MANIFEST.csv"):
        assert split[f"aligned/{row['relpath']}"] == split[f"photos/{row['aligned_with']}"] == split_of(row["aligned_with"])
    assert len({s for rel, s in split.items() if rel.startswith("aligned/")}) > 1  # pairs spread over splits, as photos do


def test_a_second_run_resumes_and_never_overwrites(photos, tmp_path):
    out = tmp_path / "aligned"
    reconstruct.reconstruct(str(photos), str(out), autoencoder=blur, name="blur", size=32, min_psnr=20, limit=3)
    first = read_rows(out / "MANIFEST.csv")
    calls = []
    reconstruct.reconstruct(str(photos), str(out), autoencoder=lambda b: calls.append(len(b)) or blur(b), name="blur", size=32)
    assert read_rows(out / "MANIFEST.csv")[: len(first)] == first and sum(calls) == 7 - 3
    reconstruct.reconstruct(str(photos), str(out), autoencoder=lambda b: pytest.fail("nothing left to do"), name="blur", size=32)
    write_folder(photos, {"real/cam__late.png": encode(smooth_rgb(64, 64, seed=20), "PNG")})
    (out / "fake" / "blur__photos__cam__late__0.png").write_bytes(b"mine")
    with pytest.raises(FileExistsError, match="not overwriting"):
        reconstruct.reconstruct(str(photos), str(out), autoencoder=blur, name="blur", size=32, min_psnr=0)
    assert not (out / "real" / "blur__photos__cam__late__0.png").exists()  # neither half of the pair
    assert (out / "fake" / "blur__photos__cam__late__0.png").read_bytes() == b"mine"


def test_crop_boxes_start_at_the_centre_and_stay_inside():
    boxes = reconstruct.crop_boxes("real/x.jpg", 100, 300, 64, 4)
    assert boxes[0] == (18, 118, 64) and len(boxes) == 4
    assert all(0 <= t <= 36 and 0 <= l <= 236 for t, l, _ in boxes)
    assert boxes == reconstruct.crop_boxes("real/x.jpg", 100, 300, 64, 4)  # deterministic
    assert reconstruct.crop_boxes("real/x.jpg", 60, 300, 64, 4) == []
    with pytest.raises(ValueError, match="multiple of 8"):
        reconstruct.reconstruct("unused", "unused", autoencoder=blur, size=30)


def test_pinned_weights_are_checked(tmp_path):
    (tmp_path / "taef2_encoder.pth").write_bytes(b"not the pinned file")
    (tmp_path / "taef2_decoder.pth").write_bytes(b"not the pinned file")
    with pytest.raises(ValueError, match="is not the pinned"):
        reconstruct.weight_files("taef2", weights_dir=str(tmp_path), cache_dir=str(tmp_path))
    with pytest.raises(ValueError, match="give --weights_dir"):
        reconstruct.weight_files("taef2", cache_dir=str(tmp_path))
    with pytest.raises(ValueError, match="unknown autoencoder"):
        reconstruct.weight_files("vqgan", weights_dir=str(tmp_path), cache_dir=str(tmp_path))
