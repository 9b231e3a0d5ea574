"""Phone and new web formats (HEIC, AVIF, TIFF incl. 16-bit, JPEG XL) decode everywhere to Pillow's pixels."""

import io

import numpy as np
import pytest
from PIL import Image

from synthdet_tf.data import pillow_io
from synthdet_tf.data.discovery import discover
from synthdet_tf.data.pipeline import make_dataset
from synthdet_tf.detect.views import model_views
from synthdet_tf.preprocess import PreprocessSpec
from tests.conftest import random_rgb, write_folder

RGB = random_rgb(40, 50, seed=5)
GRAY16 = (np.arange(40 * 50, dtype=np.uint32).reshape(40, 50) * 29 % 65536).astype(np.uint16)


def encoded(fmt: str, array=RGB) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, fmt, **({"quality": -1} if fmt == "HEIF" else {}))
    return buf.getvalue()


def reference(contents: bytes) -> np.ndarray:
    """Pillow's pixels: RGB, first page; 16-bit values keep their high byte."""
    with Image.open(io.BytesIO(contents)) as image:
        if image.mode.startswith("I"):
            return np.repeat((np.asarray(image).astype(np.uint32) >> 8).astype(np.uint8)[..., None], 3, axis=-1)
        return np.asarray(image.convert("RGB"))


FILES = {"photo.heic": "HEIF", "photo.avif": "AVIF", "photo.tiff": "TIFF", "photo.jxl": "JXL"}


@pytest.mark.parametrize("name,fmt", sorted(FILES.items()))
def test_each_format_is_checked_and_decoded_like_pillow(name, fmt):
    assert fmt in pillow_io.SUPPORTED_FORMATS, f"{fmt} plugin missing (pillow-heif / pillow-jxl-plugin)"
    contents = encoded(fmt)
    info = pillow_io.probe(contents)
    assert info.format == fmt and info.needs_pillow and (info.width, info.height) == (50, 40)
    np.testing.assert_array_equal(pillow_io.decode_rgb("", contents), reference(contents))
    view = model_views(contents, PreprocessSpec("center_crop", 32, "tiny"))
    np.testing.assert_array_equal(view[0], reference(contents)[4:36, 9:41])


def test_16_bit_tiff_keeps_the_high_byte():
    contents = encoded("TIFF", GRAY16)
    decoded = pillow_io.decode_rgb("", contents)
    np.testing.assert_array_equal(decoded[..., 0], (GRAY16 >> 8).astype(np.uint8))
    np.testing.assert_array_equal(decoded, reference(contents))


def test_training_pipeline_reads_every_format(tmp_path, data_config):
    files = {f"real/cam__{name}": encoded(fmt) for name, fmt in FILES.items()}
    files.update({f"fake/gen__{i}.tiff": encoded("TIFF", GRAY16) for i in range(2)})
    found = discover(str(write_folder(tmp_path / "d", files)), fractions=(1.0, 0.0, 0.0))
    assert len(found.records) == 6 and not found.skipped
    data_config.policy, data_config.image_size = "center_crop", 32
    images = np.concatenate([x.numpy() for x, _ in make_dataset(found.records, data_config, batch_size=8, training=False)])
    for record, image in zip(found.records, images):
        with open(record.path, "rb") as f:
            np.testing.assert_array_equal(image, reference(f.read())[4:36, 9:41])


def test_the_serving_client_converts_what_the_served_graph_cannot_decode():
    import tensorflow as tf

    from synthdet_tf.detect.detector import Detector
    from synthdet_tf.detect.serving_client import servable_bytes

    heic = encoded("HEIF")
    png = servable_bytes(heic)
    assert pillow_io.probe(png).format == "PNG" and servable_bytes(encoded("JPEG")) == encoded("JPEG")
    np.testing.assert_array_equal(pillow_io.decode_rgb("", png), reference(heic))
    served = tf.saved_model.load("exported/synthdet/1").signatures["serving_default"]
    prob = float(served(image_bytes=tf.constant([png]))["fake_probability"].numpy()[0])
    detector = Detector.load("exported/synthdet/1")
    direct = detector.backend.logits(model_views(heic, detector.spec))
    assert prob == pytest.approx(float(1 / (1 + np.exp(-direct[0]))), abs=1e-5)


@pytest.mark.parametrize("fmt, size", [("PNG", (80, 100)), ("JPEG", (80, 100)), ("PNG", (20, 60)), ("HEIF", (80, 100)),
                                       ("WEBP", (80, 100)), ("GIF", (80, 100))])
def test_a_fused_detectors_shared_decode_gives_each_stream_its_own_views(fmt, size):
    """shared_views decodes a file once for both streams, and each still gets exactly what model_views gives it."""
    from synthdet_tf.detect.views import shared_views

    contents = encoded(fmt, random_rgb(*size, seed=11))
    specs = (PreprocessSpec("resize", 24, "tiny"), PreprocessSpec("random_crop", 32, "tiny", crops=4))
    shared = shared_views(contents, specs)
    for spec, views in zip(specs, shared):
        np.testing.assert_array_equal(views, model_views(contents, spec))
    assert [len(v) for v in shared] == [1, 4 if min(size) >= 32 else 1]
