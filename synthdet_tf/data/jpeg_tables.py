"""What a JPEG's header says about the encoder that wrote it: quantisation tables, coding, Huffman tables.

libjpeg (IJG) and nearly every library built on it (Pillow, OpenCV, ImageMagick,
browsers' canvas, most web back ends) scale the two tables of the JPEG standard's
Annex K by one quality number, so a table that is exactly an Annex K table scaled
at some q says "written by software with a quality slider". Cameras and some apps
(Photoshop, phone vendors) use tables of their own; for those the nearest IJG q is
only an equivalent, to compare compression strength.

Pure header reading: no pixel is decoded here.
"""

import numpy as np

# Annex K tables, natural (row-major) order: Pillow's `image.quantization` and `qtables=` use this order too.
IJG_LUMA = np.array((
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
), np.int64)
IJG_CHROMA = np.full(64, 99, np.int64)
IJG_CHROMA[[0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 24, 25]] = (17, 18, 24, 47, 18, 21, 26, 66, 24, 26, 56, 47, 66)

# Bit-length counts of the Annex K Huffman tables (DC luma, DC chroma / AC luma, AC chroma). An optimised table's
# counts come from the image's own statistics, so matching one of these means the encoder did not optimise.
_STANDARD_HUFFMAN = {
    0: {(0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0), (0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0)},
    1: {(0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D), (0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77)},
}
_SOF = {0xC0: "baseline", 0xC1: "extended", 0xC2: "progressive", 0xC3: "lossless",
        0xC9: "arithmetic", 0xCA: "arithmetic progressive"}


def ijg_table(base: np.ndarray, quality: int) -> np.ndarray:
    """libjpeg's jpeg_quality_scaling and jpeg_add_quant_table with force_baseline (entries 1..255)."""
    quality = min(100, max(1, int(quality)))
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return np.clip((base * scale + 50) // 100, 1, 255)


_LUMA_BY_Q = np.stack([ijg_table(IJG_LUMA, q) for q in range(1, 101)])
_CHROMA_BY_Q = np.stack([ijg_table(IJG_CHROMA, q) for q in range(1, 101)])


def ijg_match(tables: dict) -> dict | None:
    """The IJG quality whose tables are nearest this file's ({id: 64 values}, Pillow's `quantization`).

    Table 0 is compared with the scaled luminance table, any other with the chrominance one; the quality
    minimising the mean absolute difference over all of them wins. `match`: "exact", "within rounding"
    (no entry off by more than 1, a quarter of them at most: another encoder's rounding of the same
    scaling) or "none" (a table family of its own). None when the file has no tables.
    """
    if not tables:
        return None
    ids = sorted(tables)
    found = np.stack([np.asarray(tables[i], np.int64)[:64] for i in ids])
    refs = np.stack([_LUMA_BY_Q if i == ids[0] else _CHROMA_BY_Q for i in ids], axis=1)  # [100, n_tables, 64]
    diff = np.abs(refs - found[None])
    best = int(np.argmin(diff.mean(axis=(1, 2))))
    worst, share_off = int(diff[best].max()), float((diff[best] > 0).mean())
    match = "exact" if worst == 0 else "within rounding" if worst <= 1 and share_off <= 0.25 else "none"
    return {"quality": best + 1, "match": match, "standard": match != "none", "max_diff": worst,
            "mean_diff": round(float(diff[best].mean()), 3), "n_tables": len(ids)}


def _segments(contents: bytes):
    """(marker, payload) of each header segment, up to and including the first start of scan."""
    pos = 2 if contents[:2] == b"\xff\xd8" else len(contents)
    while pos + 4 <= len(contents):
        if contents[pos] != 0xFF:
            return  # not a marker where one must be: a damaged header, stop reading
        marker = contents[pos + 1]
        if marker == 0xFF:
            pos += 1  # fill byte
            continue
        length = int.from_bytes(contents[pos + 2 : pos + 4], "big")
        yield marker, contents[pos + 4 : pos + 2 + length]
        if marker == 0xDA:
            return
        pos += 2 + length


def _huffman_counts(payload: bytes):
    pos = 0
    while pos + 17 <= len(payload):
        table_class, counts = payload[pos] >> 4, tuple(payload[pos + 1 : pos + 17])
        yield table_class, counts
        pos += 17 + sum(counts)


def _sampling(components) -> str | None:
    if len(components) < 3:
        return "grayscale" if len(components) == 1 else None
    (h, v), rest = components[0], set(components[1:])
    if rest != {(1, 1)}:
        return "unusual (" + " ".join(f"{a}x{b}" for a, b in components) + ")"
    return {(1, 1): "4:4:4", (2, 1): "4:2:2", (2, 2): "4:2:0", (1, 2): "4:4:0", (4, 1): "4:1:1"}.get((h, v), f"{h}x{v}")


def read_markers(contents: bytes) -> dict:
    """Coding process, chroma subsampling, optimised Huffman tables, APP segments and comment, from the header."""
    coding, components, optimised, apps, comment = None, [], None, [], None
    for marker, payload in _segments(contents):
        if marker in _SOF and len(payload) >= 6:
            coding = _SOF[marker]
            n = payload[5]
            components = [(payload[7 + 3 * i] >> 4, payload[7 + 3 * i] & 15) for i in range(n) if 8 + 3 * i < len(payload)]
        elif marker == 0xC4:
            standard = all(counts in _STANDARD_HUFFMAN.get(cls, ()) for cls, counts in _huffman_counts(payload))
            optimised = bool(optimised) or not standard
        elif 0xE0 <= marker <= 0xEF:
            name = payload[:16].split(b"\x00", 1)[0].decode("latin-1", "replace").strip()
            apps.append(f"APP{marker - 0xE0}:{name[:14]}")
        elif marker == 0xFE and comment is None:
            comment = payload[:120].decode("latin-1", "replace").strip() or None
    return {"coding": coding, "progressive": coding in ("progressive", "arithmetic progressive") if coding else None,
            "subsampling": _sampling(components), "optimized_huffman": optimised,
            "app_segments": sorted(set(apps)), "comment": comment}
