import numpy as np
import pytest
from PIL import Image

from synthdet_tf.data.pillow_io import BadImageError, decode_rgb, probe
from tests.conftest import bad_cases, good_cases, smooth_rgb, write_folder


@pytest.mark.parametrize("name", sorted(bad_cases()))
def test_probe_rejects_bad_files_with_a_reason(tmp_path, name):
    data, reason = bad_cases()[name]
    write_folder(tmp_path, {name: data})
    with pytest.raises(BadImageError, match=reason):
        probe(str(tmp_path / name), max_pixels=64_000_000)


def test_pixel_limit_is_checked_before_decoding(tmp_path):
    data, _ = bad_cases()["bomb.png"]
    write_folder(tmp_path, {"bomb.png": data})
    assert probe(str(tmp_path / "bomb.png"), max_pixels=100_000_000, verify=False).width == 8100
    with pytest.raises(BadImageError, match="8100x8100"):
        probe(str(tmp_path / "bomb.png"), max_pixels=1_000_000, verify=False)


@pytest.mark.parametrize("name", sorted(good_cases()))
def test_probe_accepts_every_supported_case(tmp_path, name):
    write_folder(tmp_path, {name: good_cases()[name]})
    info = probe(str(tmp_path / name))
    assert (info.width, info.height) == (50, 40)
    # Only the BMP variants TF decodes wrongly, and animated GIFs, go to Pillow.
    assert info.needs_pillow == (name in ("palette.bmp", "bilevel.bmp", "animated.gif"))


def test_format_comes_from_content_not_extension(tmp_path):
    write_folder(tmp_path, {k: good_cases()[k] for k in ("jpeg_named.png", "webp_named.jpg")})
    assert probe(str(tmp_path / "jpeg_named.png")).format == "JPEG"
    assert probe(str(tmp_path / "webp_named.jpg")).format == "WEBP"


def test_pillow_fallback_decodes_palette_bmp(tmp_path):
    from PIL import Image

    write_folder(tmp_path, {"palette.bmp": good_cases()["palette.bmp"]})
    want = np.asarray(Image.open(tmp_path / "palette.bmp").convert("RGB"))
    got = decode_rgb(str(tmp_path / "palette.bmp").encode())
    np.testing.assert_array_equal(got, want)
    assert got.std() > 10  # a real picture, not one flat index plane


def test_camera_mpo_is_a_jpeg_to_probe_and_to_the_decoder(tmp_path):
    import io

    import tensorflow as tf

    from synthdet_tf import preprocess

    first, second = Image.fromarray(smooth_rgb(seed=1)), Image.fromarray(smooth_rgb(seed=2))
    buf = io.BytesIO()
    first.save(buf, "MPO", save_all=True, append_images=[second], quality=95)
    path = tmp_path / "DSC0001.JPG"
    path.write_bytes(buf.getvalue())
    info = probe(str(path))
    assert (info.format, info.n_frames, info.jpeg_quality, info.needs_pillow) == ("JPEG", 1, 95, False)
    decoded = preprocess.decode_image(tf.io.read_file(str(path)), None).numpy()
    assert np.abs(decoded.astype(int) - np.asarray(first, int)).mean() < 3  # the first picture, not the second
