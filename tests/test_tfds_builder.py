import socket

import numpy as np
import pytest
import tensorflow_datasets as tfds

from synthdet_tf.data.discovery import discover
from synthdet_tf.data.pillow_io import decode_rgb
from synthdet_tf.data.tfds_builder import SynthdetFolder, to_supervised
from tests.conftest import bad_cases, good_cases, write_folder


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_builder_prepares_offline_with_project_labels(tmp_path, tiny_folder, no_network):
    write_folder(tiny_folder, {"fake/palette.bmp": good_cases()["palette.bmp"], "real/empty.jpg": bad_cases()["empty.jpg"][0]})
    discovery = discover(str(tiny_folder))
    builder = SynthdetFolder(image_dir=str(tiny_folder), data_dir=str(tmp_path / "tfds"))
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(try_download_gcs=False))

    assert builder.info.features["label"].names == ["REAL", "FAKE"]
    for split in ("train", "val", "test"):
        expected = discovery.split(split)
        if not expected:
            continue
        examples = list(tfds.as_numpy(builder.as_dataset(split=split)))
        assert sorted(e["relpath"].decode() for e in examples) == sorted(r.relpath for r in expected)
        by_rel = {r.relpath: r for r in expected}
        for e in examples:
            assert e["label"] == by_rel[e["relpath"].decode()].label  # real -> 0, fake -> 1

    everything = builder.as_dataset(split="+".join(s for s in builder.info.splits))
    pixels = {}
    for ex, (image, label) in zip(tfds.as_numpy(everything), tfds.as_numpy(to_supervised(everything))):
        pixels[ex["relpath"].decode()] = image
        assert label == ex["label"]
    assert "real/empty.jpg" not in pixels
    # The BMP TF cannot decode arrives as Pillow decoded it; the rest byte-identical to the files.
    np.testing.assert_array_equal(pixels["fake/palette.bmp"], decode_rgb(str(tiny_folder / "fake/palette.bmp")))
    assert len(pixels) == len(discovery.records)


def test_two_folders_get_separate_configs(tmp_path, tiny_folder):
    other = write_folder(tmp_path / "other", {"real/a.png": good_cases()["rgb.png"], "fake/b.png": good_cases()["rgb.png"]})
    a = SynthdetFolder(image_dir=str(tiny_folder), data_dir=str(tmp_path / "tfds"))
    b = SynthdetFolder(image_dir=str(other), data_dir=str(tmp_path / "tfds"))
    assert a.builder_config.name != b.builder_config.name and a.data_dir != b.data_dir
