"""File history: JPEG tables, EXIF and its thumbnail, double compression, an earlier JPEG or resize, bad files."""

import io
import json

import numpy as np
import pytest
from PIL import ExifTags, Image
from scipy import ndimage

from synthdet_tf.data.jpeg_tables import IJG_CHROMA, IJG_LUMA, ijg_match, ijg_table
from synthdet_tf.detect.history import KINDS, read_history, summary_line
from synthdet_tf.detect.pixel_traces import DOUBLE_THRESHOLD, RESAMPLE_THRESHOLD
from tests.conftest import SHARED_DEV


def photo_like(h=384, w=512, seed=0) -> np.ndarray:
    """Texture at several scales (a 1/f-ish spectrum, like a photograph), so DCT histograms have real tails."""
    rng = np.random.default_rng(seed)
    image = sum(a * (s**0.5 + 1) * ndimage.gaussian_filter(rng.normal(size=(h, w, 3)), (s, s, 0))
                for s, a in ((32, 60), (8, 30), (2, 15), (0.7, 8)))
    return np.clip((image - image.mean()) / image.std() * 45 + 120, 0, 255).astype(np.uint8)


def save(image, fmt, **kwargs) -> bytes:
    buf = io.BytesIO()
    (image if isinstance(image, Image.Image) else Image.fromarray(image)).save(buf, fmt, **kwargs)
    return buf.getvalue()


def decoded(contents: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(contents)).convert("RGB"))


def exif_with_thumbnail(thumbnail: bytes, make="Canon", model="Canon EOS R5") -> bytes:
    """EXIF with Make, Model, DateTimeOriginal and an IFD1 JPEG thumbnail (Pillow writes no IFD1 itself)."""
    exif = Image.Exif()
    exif[271], exif[272] = make, model
    exif.get_ifd(ExifTags.IFD.Exif)[36867] = "2024:05:01 10:00:00"
    tiff = bytearray(exif.tobytes()[6:])
    order = "little" if tiff[:2] == b"II" else "big"

    def num(value, size):
        return value.to_bytes(size, order)

    next_ifd = 10 + 12 * int.from_bytes(tiff[8:10], order)  # IFD0's "next IFD" offset, 0 as written
    ifd1 = len(tiff) + (len(tiff) & 1)
    tiff += b"\x00" * (ifd1 - len(tiff))
    tiff[next_ifd : next_ifd + 4] = num(ifd1, 4)
    # Compression = JPEG (a SHORT: left-justified in its 4-byte field), thumbnail offset, thumbnail length.
    entries = ((259, 3, num(6, 2) + b"\x00\x00"), (513, 4, num(ifd1 + 2 + 3 * 12 + 4, 4)), (514, 4, num(len(thumbnail), 4)))
    tiff += num(3, 2) + b"".join(num(tag, 2) + num(kind, 2) + num(1, 4) + value for tag, kind, value in entries)
    tiff += b"\x00" * 4 + thumbnail
    return b"Exif\x00\x00" + bytes(tiff)


# A maker's own family: steps growing with frequency, no IJG scaling of Annex K.
MAKER_LUMA = [2 + u + v for u in range(8) for v in range(8)]
MAKER_CHROMA = [3 + 2 * max(u, v) for u in range(8) for v in range(8)]


def thumbnail_of(array) -> bytes:
    return save(Image.fromarray(array).resize((160, 120), Image.Resampling.BILINEAR), "JPEG", quality=85)


@pytest.fixture(scope="module")
def photo():
    return photo_like()


def test_ijg_match_finds_every_quality_exactly_and_tells_other_families_apart():
    for q in (10, 50, 75, 85, 95, 100):
        match = ijg_match({0: list(ijg_table(IJG_LUMA, q)), 1: list(ijg_table(IJG_CHROMA, q))})
        assert (match["quality"], match["match"]) == (q, "exact")
    off_by_one = ijg_table(IJG_LUMA, 80).copy()
    off_by_one[[5, 17, 40]] += 1  # another encoder's rounding of the same scaling
    assert ijg_match({0: list(off_by_one)})["match"] == "within rounding"
    assert ijg_match({0: MAKER_LUMA, 1: MAKER_CHROMA})["standard"] is False


def test_camera_jpeg_with_maker_tables_and_its_own_thumbnail(photo):
    contents = save(photo, "JPEG", qtables=[MAKER_LUMA, MAKER_CHROMA], exif=exif_with_thumbnail(thumbnail_of(photo)))
    h = read_history(contents)
    assert h["kind"] == "camera_jpeg" and h["problem"] is None
    assert h["jpeg"]["table_family"] == "non-standard" and 1 <= h["jpeg"]["tables"]["quality"] <= 100
    assert h["exif"]["make"] == "Canon" and h["exif"]["datetime_original"]
    assert h["exif"]["thumbnail"]["consistent"] and h["exif"]["thumbnail"]["mad"] < 8
    assert h["summary"].startswith("camera JPEG (Canon EOS R5, maker tables ~q") and "EXIF thumbnail consistent" in h["summary"]
    json.dumps(h)


def test_a_thumbnail_of_another_picture_is_reported_inconsistent(photo):
    other = photo_like(seed=7)
    h = read_history(save(photo, "JPEG", quality=90, exif=exif_with_thumbnail(thumbnail_of(other))))
    assert h["exif"]["thumbnail"]["consistent"] is False and h["exif"]["thumbnail"]["mad"] > 16
    assert h["kind"] == "other" and "EXIF thumbnail does not match the image" in h["summary"]


def test_reencoded_jpeg_reads_its_quality_and_coding(photo):
    h = read_history(save(photo, "JPEG", quality=85))
    assert h["kind"] == "software_jpeg"
    assert h["summary"] == "re-encoded JPEG q85 (standard tables), no camera data"
    j = h["jpeg"]
    assert (j["tables"]["quality"], j["tables"]["match"], j["subsampling"], j["progressive"]) == (85, "exact", "4:2:0", False)
    assert j["optimized_huffman"] is False
    p = read_history(save(photo, "JPEG", quality=70, progressive=True, subsampling=0))["jpeg"]
    assert (p["progressive"], p["optimized_huffman"], p["subsampling"], p["tables"]["quality"]) == (True, True, "4:4:4", 70)


def test_double_compression_separates_q95_of_q70_from_a_single_q95(photo):
    single = read_history(save(photo, "JPEG", quality=95))["jpeg"]["double_compression"]
    double_h = read_history(save(decoded(save(photo, "JPEG", quality=70)), "JPEG", quality=95))
    double = double_h["jpeg"]["double_compression"]
    assert single["score"] < 0.1 < DOUBLE_THRESHOLD < 0.5 < double["score"]
    assert not single["detected"] and double["detected"]
    assert double_h["kind"] == "recompressed_jpeg" and "compressed twice" in double_h["summary"]


def test_png_saved_from_a_jpeg_shows_the_grid_and_a_plain_png_does_not(photo):
    was_jpeg = read_history(save(decoded(save(photo, "JPEG", quality=75)), "PNG"))
    assert was_jpeg["jpeg_grid_seen"] and was_jpeg["kind"] == "png_from_jpeg"
    assert was_jpeg["summary"].startswith("PNG that was a JPEG before (8x8 grid")
    plain = read_history(save(photo, "PNG"))
    assert plain["jpeg_grid_seen"] is False and abs(plain["jpeg_grid"] - 1) < 0.05 and plain["jpeg_lattice"] < 0.1
    assert (plain["kind"], plain["summary"]) == ("lossless", "lossless PNG, no earlier JPEG seen")


def test_upscaled_image_shows_interpolation_and_the_original_does_not(photo):
    original = read_history(save(photo, "PNG"))["resampling"]
    upscaled = read_history(save(Image.fromarray(photo).resize((768, 576), Image.Resampling.BICUBIC), "PNG"))
    assert original["score"] < RESAMPLE_THRESHOLD / 2 and not original["seen"]
    r = upscaled["resampling"]
    assert r["seen"] and r["score"] > 2 * RESAMPLE_THRESHOLD and abs(r["period"] - 3.0) < 0.1
    assert upscaled["kind"] == "resized" and "interpolation period 3.0 px" in upscaled["summary"]


def test_other_formats_report_depth_and_lossless(photo):
    lossy, lossless = read_history(save(photo, "WEBP", quality=80)), read_history(save(photo, "WEBP", lossless=True))
    assert (lossy["lossless"], lossy["kind"], lossy["jpeg_grid"]) == (False, "other", None)
    assert (lossless["lossless"], lossless["kind"]) == (True, "lossless")
    deep = read_history(save(Image.fromarray(photo[..., 0].astype(np.uint16) * 257), "PNG"))
    assert deep["bit_depth"] == 16 and "16-bit" in deep["summary"]


@pytest.mark.parametrize("name", ["truncated_jpeg", "truncated_png", "garbage", "empty", "header_only"])
def test_broken_files_never_raise(photo, name):
    jpeg, png = save(photo, "JPEG", quality=85), save(photo, "PNG")
    contents = {"truncated_jpeg": jpeg[: len(jpeg) // 3], "truncated_png": png[: len(png) // 2], "garbage": b"not an image" * 10,
                "empty": b"", "header_only": jpeg[:200]}[name]
    h = read_history(contents)
    assert h["problem"] and h["kind"] in KINDS and summary_line(h) == h["summary"]
    json.dumps(h)
    if name == "truncated_jpeg":
        assert h["jpeg"]["tables"]["quality"] == 85  # what the header said is kept


def dev_sample(n=40):
    files = sorted(p for p in SHARED_DEV.glob("*/*") if p.is_file())
    return files[:: max(1, len(files) // n)][:n]


@pytest.mark.skipif(not SHARED_DEV.is_dir(), reason="needs ../shared/data/dev")
def test_dev_files_all_get_a_history_and_a_summary():
    for path in dev_sample():
        h = read_history(path.read_bytes())
        assert h["kind"] in KINDS and h["summary"] and h["format"], path
        json.dumps(h)


def test_census_counts_kinds_per_source_and_class(tmp_path, photo):
    from synthdet_tf.lab import history_census

    files = {"real/cam__a.jpg": save(photo, "JPEG", quality=85), "real/cam__b.png": save(photo, "PNG"),
             "fake/gen__c.png": save(decoded(save(photo, "JPEG", quality=75)), "PNG"), "fake/gen__d.jpg": b"broken"}
    for rel, contents in files.items():
        (tmp_path / rel).parent.mkdir(exist_ok=True)
        (tmp_path / rel).write_bytes(contents)
    rows = history_census.census(str(tmp_path))
    assert sorted((r["source"], r["label"], r["kind"]) for r in rows) == [
        ("cam", "REAL", "lossless"), ("cam", "REAL", "software_jpeg"), ("gen", "FAKE", "other"), ("gen", "FAKE", "png_from_jpeg")]
    text = history_census.format_markdown(rows, "the command")
    assert "| cam | REAL | 2 | " in text and "`the command`" in text and "For the verdict only" in text
