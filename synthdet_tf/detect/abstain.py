"""When the pixel score is not to be taken at its word: the verdict says UNSURE and why.

The pixel label itself is always reported unchanged; only the verdict
abstains. A file that declares AI generation keeps its FAKE verdict, since
that rests on what the file says, not on its pixels.
"""

from synthdet_tf.detect.provenance import verdict

# The smallest images any shipped model saw in training are 32 x 32 (CIFAKE's, in the dev set); below that a
# model scores an upscaled blur it has never seen, and its confident-looking number means nothing.
MIN_SIDE = 32


def size_caveat(width: int, height: int) -> str | None:
    """The reason to abstain on an image this small, or None."""
    if min(width, height) < MIN_SIDE:
        return f"image too small ({width}x{height} px, under {MIN_SIDE} px a side): pixel score not meaningful"
    return None


def decide(pixel_label, provenance, unsure: bool = False, caveat: str | None = None) -> tuple[str | None, str]:
    """(verdict, reason): a declaration first, then a caveat (UNSURE with its reason), then the band and the pixels."""
    decided, why = verdict(pixel_label, provenance, unsure)
    if caveat and pixel_label and not why.startswith("declared"):
        return "UNSURE", caveat
    return decided, why
