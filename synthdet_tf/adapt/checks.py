"""What a small adaptation set must pass before anything is fitted to it.

A few dozen images are easy to get wrong in ways that a model learns happily:
a class with three images, the same picture in both classes, thumbnails too
small to carry evidence, or a split that the files' format or size already
explains ("all fakes PNG, all reals JPEG"). Each gets a clear answer: a
refusal naming the files, or a warning naming the shortcut.
"""

import collections
import hashlib

from synthdet_tf.data.summary import jpeg_quality_band, shortcuts
from synthdet_tf.detect.abstain import MIN_SIDE

MIN_PER_CLASS = 4  # refused below this; cross-validation needs a few of each class in every fold
WARN_PER_CLASS = 8


class AdaptInputError(ValueError):
    """The adaptation set cannot be used as it is; the message says why and what to do."""


def _digest(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def usable(records) -> tuple[list, list[tuple[str, str]]]:
    """(records big enough to carry evidence, [(path, why)] for the rest)."""
    kept, skipped = [], []
    for r in records:
        if min(r.info.width, r.info.height) < MIN_SIDE:
            skipped.append((r.path, f"too small ({r.info.width}x{r.info.height} px, under {MIN_SIDE} px a side)"))
        else:
            kept.append(r)
    return kept, skipped


def check_counts(records) -> list[str]:
    counts = collections.Counter(r.label for r in records)
    short = [f"{name}: {counts[c]}" for c, name in ((0, "REAL"), (1, "FAKE")) if counts[c] < MIN_PER_CLASS]
    if short:
        raise AdaptInputError(f"each class needs at least {MIN_PER_CLASS} usable images ({', '.join(short)}); "
                              f"{WARN_PER_CLASS} or more per class is the smallest set the method was measured on")
    return [f"only {counts[c]} {name} images: the cross-validated figures will be wide (aim for {WARN_PER_CLASS}+)"
            for c, name in ((0, "REAL"), (1, "FAKE")) if counts[c] < WARN_PER_CLASS]


def check_duplicates(records) -> None:
    """The same file content in both classes: no label can be right for it."""
    by_digest = collections.defaultdict(list)
    for r in records:
        by_digest[_digest(r.path)].append(r)
    both = [rs for rs in by_digest.values() if len({r.label for r in rs}) == 2]
    if both:
        names = "; ".join(" = ".join(r.relpath for r in rs) for rs in both[:5])
        raise AdaptInputError(f"{len(both)} images are in both real/ and fake/ (identical bytes): {names}")


def _values(values: set) -> str:
    shown = sorted(values)[:3]
    return "/".join(shown) + (f" (and {len(values) - 3} more)" if len(values) > 3 else "")


def total_shortcuts(records) -> list[str]:
    """Format, size or JPEG quality that splits the classes completely, one class holding at most two values.

    Photos of many sizes against fakes of many others share no size either, but nothing short names the
    split; "every FAKE is 1024x1024" does.
    """
    found = []
    for kind, key in (("format", lambda r: r.info.format), ("size", lambda r: f"{r.info.width}x{r.info.height}"),
                      ("JPEG quality", lambda r: jpeg_quality_band(r.info) or "not JPEG")):
        real = {key(r) for r in records if r.label == 0}
        fake = {key(r) for r in records if r.label == 1}
        if not real & fake and min(len(real), len(fake)) <= 2:
            found.append(f"every REAL is {kind} {_values(real)} and every FAKE is {kind} {_values(fake)}")
    return found


def check_shortcuts(records, allow_shortcut: bool) -> list[str]:
    """Warnings for partial shortcuts; a total one is refused unless `allow_shortcut`."""
    total = total_shortcuts(records)
    if total and not allow_shortcut:
        raise AdaptInputError(f"the classes are told apart by the files alone ({'; '.join(total)}): a head fitted "
                              "here can learn that instead of the pixels. Make the classes alike in format and size "
                              "(re-encode both the same way), or pass --allow_shortcut to go on anyway")
    return [f"shortcut: {s}" for s in total] + [f"possible shortcut: {s}" for s in shortcuts(records)]
