"""When the pixel score is not to be taken at its word: the verdict says UNSURE and why.

The pixel label itself is always reported unchanged; only the verdict
abstains. A file that declares AI generation keeps its FAKE verdict, since
that rests on what the file says, not on its pixels.
"""

from synthdet_tf.detect import reliability
from synthdet_tf.detect.provenance import verdict

# The smallest images any shipped model saw in training are 32 x 32 (CIFAKE's, in the dev set); below that a
# model scores an upscaled blur it has never seen, and its confident-looking number means nothing.
MIN_SIDE = 32


def size_caveat(width: int, height: int) -> str | None:
    """The reason to abstain on an image this small, or None."""
    if min(width, height) < MIN_SIDE:
        return f"image too small ({width}x{height} px, under {MIN_SIDE} px a side): pixel score not meaningful"
    return None


def mark_reason(marks) -> str | None:
    """Why a deciding open watermark makes the file FAKE, or None. Anyone can plant such a mark on a photo, as
    anyone can write metadata, so the reason says what the file carries, not where it came from."""
    deciding = [m for m in marks or () if m.get("decides")]
    if not deciding:
        return None
    m = deciding[0]
    return f"carries the {m['mark']} ({m['bits']} bits agree, chance {m['chance']:.0e})"


def decide(pixel_label, provenance, unsure: bool = False, caveat: str | None = None, marks=()) -> tuple[str | None, str]:
    """(verdict, reason): a declaration first, then a deciding mark, then a caveat (UNSURE with its reason),
    then the band and the pixels."""
    decided, why = verdict(pixel_label, provenance, unsure)
    if why.startswith("declared"):
        return decided, why
    carried = mark_reason(marks)
    if carried:
        return "FAKE", carried
    if caveat and pixel_label:
        return "UNSURE", caveat
    return decided, why


def judged(label, probability, provenance, history, caveat=None, marks=(), *, band=None, rule=None,
           streams=None) -> tuple[str | None, str]:
    """(verdict, reason) for one scored or failed file, the one way detect, scan, the app and the serving client
    decide. With an abstention rule (`detect.reliability`, stored with the model) its per-history trust and bands
    replace the model's plain band; without one, the plain band (if any) applies alone. `streams`: a fused
    model's pooled stream logits, for a rule that does not trust its streams' disagreement."""
    if probability is None:
        return decide(label, provenance, False, None, marks)
    if rule is not None:
        unsure, doubt = False, reliability.judge(rule, history, probability, streams)
    else:
        unsure, doubt = band is not None and band[0] < probability < band[1], None
    return decide(label, provenance, unsure, caveat or doubt, marks)
