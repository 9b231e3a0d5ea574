"""Open invisible watermarks (synthdet_tf.detect.marks): planted here, read back, and never read on real photos."""

import hashlib
import math
import random

import numpy as np
import pytest

from synthdet_tf.detect import marks
from synthdet_tf.lab.marks_robustness import blocky_rgb
from tests.conftest import encode, smooth_rgb

KEYS = ("sd1", "sd2", "sdxl", "flux")


def test_embed_matches_the_library_bit_for_bit():
    # sha256 prefixes of imwatermark 0.2.0's EmbedMaxDct.encode on this image (OpenCV 4.14 and 5.1 agree);
    # `marks_robustness --library_check` prints them (docs/marks.md). The image goes in as the library's "BGR".
    image = blocky_rgb()
    sd1 = marks.embed(image.copy(), marks.BY_KEY["sd1"].bits)
    sdxl = marks.embed(image.astype(np.float32), marks.BY_KEY["sdxl"].bits)
    assert hashlib.sha256(sd1.tobytes()).hexdigest()[:16] == "849ef7cfc4d3ff9f"
    assert sdxl.dtype == np.float32 and hashlib.sha256(sdxl.tobytes()).hexdigest()[:16] == "55c1a7bb641af004"


def test_messages_are_the_references():
    assert bytes(np.packbits(marks.BY_KEY["sd1"].bits)) == b"StableDiffusionV1"
    assert bytes(np.packbits(marks.BY_KEY["sd2"].bits)) == b"SDV2"
    assert int("".join(map(str, marks.BY_KEY["sdxl"].bits)), 2) == 0xB3EC907BB19E
    assert len(marks.BY_KEY["flux"].bits) == 46  # bin() drops the literal's two leading zeros


@pytest.mark.parametrize("key, way", [(k, None) for k in KEYS] + [("sdxl", "rgbf")])
def test_planted_mark_is_found_by_name_on_a_lossless_file(key, way):
    # Smooth chroma: in flat or very noisy 4x4 blocks the quantised coefficient often stops being the
    # block's largest, so those blocks vote at random (docs/marks.md); a small image has few votes per bit.
    planted = marks.plant(smooth_rgb(320, 320, seed=1), key, way)
    found = marks.read_marks(encode(planted, "PNG"))
    assert [f["family"] for f in found] == [marks.BY_KEY[key].family]
    assert found[0]["mark"] == marks.BY_KEY[key].name and found[0]["decides"] and found[0]["bits_agree"] >= 0.95


@pytest.mark.parametrize("image", [smooth_rgb(320, 320, seed=2), blocky_rgb(320, seed=2)], ids=["smooth", "blocky"])
def test_unmarked_image_yields_none(image):
    assert marks.check_marks(encode(image, "PNG")) == ([], None)
    assert all(bits < marks.BY_KEY[k].threshold(marks.LIST_P) for k, bits in marks.agreements(image).items())


def test_grey_image_decodes_zeros_and_stays_unlisted():
    # Flat chroma makes every block vote 0: the agreement is then the message's share of zeros.
    grey = np.full((256, 256, 3), 128, np.uint8)
    assert marks.agreements(grey) == {m.key: m.bits.count(0) for m in marks.MARKS}
    assert marks.read_marks(encode(grey, "PNG")) == []


def test_jpeg_of_a_marked_image_is_read_without_error():
    found = marks.read_marks(encode(marks.plant(smooth_rgb(320, 320, seed=3), "sd1"), "JPEG", quality=75))
    assert all(set(f) == {"mark", "family", "bits_agree", "bits", "chance", "decides"} for f in found)


@pytest.mark.parametrize("shape, reason", [((200, 300), "smaller than 256x256"), ((20, 4100), "larger than 4096")])
def test_sizes_outside_the_bounds_are_skipped_with_the_reason(shape, reason):
    found, why = marks.check_marks(encode(np.zeros(shape + (3,), np.uint8), "PNG"))
    assert found == [] and reason in why


def test_non_image_bytes_are_skipped():
    assert marks.check_marks(b"not an image")[0] == []


def test_thresholds_follow_the_chance_model():
    sdxl = marks.BY_KEY["sdxl"]
    fair = lambda n, k: sum(math.comb(n, i) for i in range(k, n + 1)) / 2**n
    assert sdxl.chance(44) >= 4 * fair(48, 44)  # two ways, two votes, and a bias never makes the null less likely
    assert sdxl.chance(sdxl.threshold(marks.DECIDE_P)) <= 1e-9 < sdxl.chance(sdxl.threshold(marks.DECIDE_P) - 1)
    for mark in marks.MARKS:
        assert mark.threshold(marks.LIST_P) <= mark.threshold(marks.DECIDE_P) <= len(mark.bits)


def test_no_mark_on_dev_reals(shared_dev):
    real = sorted(p for p in (shared_dev / "real").iterdir() if not p.name.startswith(("cifake__", "ciplabreal__")))
    picked = random.Random(0).sample(real, 30)  # sources whose files are large enough to be read at all
    read = 0
    for path in picked:
        found, why = marks.check_marks(path.read_bytes())
        assert found == [], path.name
        read += why is None
    assert read >= 25
