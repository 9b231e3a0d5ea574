"""Everything a file says about itself beside its pixels, read once per file: what detect, scan, the app
and the serving client all show next to the score.

- provenance: what the file declares (C2PA, IPTC, generator chunks, software tags; `provenance`);
- history: how it was made and re-made (JPEG tables, double compression, camera data, an earlier JPEG
  or resize; `history`): it decides how far the pixel score can be trusted, never the label;
- marks: the open invisible watermarks of reference generator code (`marks`);
- caveat: why the pixel score should not be taken at its word (an image too small to carry evidence).
"""

import dataclasses

from synthdet_tf.detect.abstain import size_caveat
from synthdet_tf.detect.history import read_history
from synthdet_tf.detect.marks import check_marks
from synthdet_tf.detect.provenance import Provenance, read_provenance

# Reference generators write images at most about 2 MP, sides a multiple of 8 (the latent grid); a file outside
# that is not read for marks, so a 12 MP camera photo does not pay 0.1 s per megapixel for a mark it cannot hold.
MARK_MAX_SIDE = 2048


@dataclasses.dataclass
class FileFacts:
    provenance: Provenance | None = None
    history: dict | None = None
    marks: list = dataclasses.field(default_factory=list)
    marks_skipped: str | None = None
    caveat: str | None = None

    def to_dict(self) -> dict:
        return {"provenance": self.provenance.to_dict() if self.provenance else None, "history": self.history,
                "marks": self.marks if self.marks_skipped != "not read (facts level basic)" else None}


def worth_reading_marks(info) -> str | None:
    """None when a file could carry a reference generator's mark, else why it is not read."""
    if info is None:
        return "not an image"
    if max(info.width, info.height) > MARK_MAX_SIDE or info.width % 8 or info.height % 8:
        return f"{info.width}x{info.height} is not a generator's output size (sides a multiple of 8, at most {MARK_MAX_SIDE} px)"
    return None


LEVELS = ("basic", "full")


def read_facts(contents: bytes, info=None, level: str = "full") -> FileFacts:
    """The facts of one file's bytes; `info` its `pillow_io.probe` (None when the file did not probe).

    "basic": provenance and the history's header facts, a few milliseconds a file; "full" adds the
    history's pixel traces and the open watermarks, which on a 1-2 MP PNG cost several times the model
    (docs/history.md, docs/marks.md): detect and scan read "basic" unless asked, the app "full".
    """
    if level not in LEVELS:
        raise ValueError(f"facts level must be one of {LEVELS}, got {level!r}")
    full = level == "full"
    facts = FileFacts(provenance=read_provenance(contents), history=read_history(contents, pixels=full))
    if info is not None:
        facts.caveat = size_caveat(info.width, info.height)
    facts.marks_skipped = worth_reading_marks(info) if full else "not read (facts level basic)"
    if facts.marks_skipped is None:
        facts.marks, facts.marks_skipped = check_marks(contents)
    return facts
