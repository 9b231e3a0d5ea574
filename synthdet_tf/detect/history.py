"""A file's history, measured from its bytes: what a forensic analyst reads before trusting a pixel score.

JPEG quantisation tables (standard IJG scaled at a quality, or a camera's or
app's own family), chroma subsampling, progressive coding, optimised Huffman
tables, a comb in the DCT histograms left by a second compression; EXIF camera
data and whether the EXIF thumbnail still shows the image; for other formats
the bit depth, lossless or not, an earlier JPEG's 8x8 grid, and an earlier
interpolating resize. `kind` groups files for the abstention rule and
`summary` says it in one line.

These facts decide how far the pixel score can be trusted, never the label:
none of them is evidence of generation (a generator's output saved by any
library looks like any other re-encoded file), and none may become a model
input or a training feature, or the detector would learn the dev set's
formats instead of its pixels (a format-only classifier already reaches 0.84
balanced accuracy on it; see ../shared/data/README.md).

Never raises for a bad file: it returns what it found and says what failed in
`problem`.
"""

import io
import warnings

import numpy as np
from PIL import ExifTags, Image

from synthdet_tf.data.block_grid import block_grid_ratio
from synthdet_tf.data.jpeg_tables import ijg_match, read_markers
from synthdet_tf.data.pillow_io import DEFAULT_MAX_PIXELS, decode_rgb
from synthdet_tf.detect import pixel_traces

KINDS = ("camera_jpeg", "software_jpeg", "recompressed_jpeg", "png_from_jpeg", "resized", "lossless", "other")
GRID_THRESHOLD = 1.10  # block_grid_ratio of the dev set's never-compressed PNGs: 0.85 to 1.07
THUMBNAIL_MAX_MAD = 16.0  # grey levels: a camera's own thumbnail of the same picture reads 2 to 8
THUMBNAIL_ASPECT_TOLERANCE = 0.05
# EXIF Software values of editors and viewers that re-save: a camera's data then survives an edit, and the tables
# and thumbnail are the editor's. Camera firmware writes its version ("Ver.1.00") or its own name there.
EDITORS = ("photoshop", "lightroom", "gimp", "picasa", "acd systems", "imageready", "paint shop", "paintshop", "affinity",
           "capture one", "darktable", "rawtherapee", "snapseed", "pixelmator", "irfanview", "xnview", "faststone",
           "quicktime", "viewer", "windows photo", "photoscape", "luminar", "canva")
_BIT_DEPTH = {"1": 1, "I;16": 16, "I;16B": 16, "I;16L": 16, "I;16N": 16, "I": 32, "F": 32}
_EXIF_MAKE, _EXIF_MODEL, _EXIF_SOFTWARE, _EXIF_DATETIME_ORIGINAL = 271, 272, 305, 36867
_THUMB_OFFSET, _THUMB_LENGTH = 513, 514


def _text(value) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("latin-1", "replace")
    text = str(value).replace("\x00", " ").strip() if value is not None else ""
    return text[:80] or None


def _exif(image) -> tuple[dict, bytes | None]:
    """(EXIF facts, the JPEG thumbnail's bytes or None)."""
    exif = image.getexif()
    facts = {"present": bool(exif) or "exif" in image.info, "make": _text(exif.get(_EXIF_MAKE)),
             "model": _text(exif.get(_EXIF_MODEL)), "software": _text(exif.get(_EXIF_SOFTWARE))}
    facts["datetime_original"] = bool(exif.get_ifd(ExifTags.IFD.Exif).get(_EXIF_DATETIME_ORIGINAL)) if exif else False
    raw, thumb = image.info.get("exif") or b"", None
    ifd1 = exif.get_ifd(ExifTags.IFD.IFD1) if exif else {}
    if raw.startswith(b"Exif\x00\x00") and _THUMB_OFFSET in ifd1 and _THUMB_LENGTH in ifd1:
        start = 6 + int(ifd1[_THUMB_OFFSET])  # offsets count from the TIFF header, after "Exif\0\0"
        thumb = raw[start : start + int(ifd1[_THUMB_LENGTH])] or None
    facts["thumbnail"] = {"present": thumb is not None} if ifd1 or thumb else None
    return facts, thumb


def camera_name(history: dict) -> str | None:
    exif = history.get("exif") or {}
    make, model = exif.get("make"), exif.get("model")
    if make and model and model.lower().startswith(make.split()[0].lower()):
        return model  # "Canon" + "Canon EOS R5": the model already says it
    return " ".join(p for p in (make, model) if p) or None


def edited(history: dict) -> bool:
    software = ((history.get("exif") or {}).get("software") or "").lower()
    return any(name in software for name in EDITORS)


def _trim_bars(grey: np.ndarray) -> np.ndarray:
    """The picture without the black bars cameras put around a thumbnail of another aspect ratio."""
    rows, cols = grey.mean(axis=1) > 12, grey.mean(axis=0) > 12
    if not rows.any() or not cols.any():
        return grey
    r, c = np.flatnonzero(rows), np.flatnonzero(cols)
    return grey[r[0] : r[-1] + 1, c[0] : c[-1] + 1]


def _thumbnail_check(thumb: bytes, luma: np.ndarray) -> dict:
    """Aspect ratio and mean absolute grey difference between the thumbnail and the image shrunk to its size."""
    with Image.open(io.BytesIO(thumb)) as t:
        full = np.asarray(t.convert("L"), np.float32)
    main_aspect = luma.shape[1] / luma.shape[0]
    # Bars are trimmed only when that brings the aspect ratio closer: a dark picture edge is no bar.
    grey = min((full, _trim_bars(full)), key=lambda g: abs(g.shape[1] / g.shape[0] / main_aspect - 1))
    aspect = grey.shape[1] / grey.shape[0]
    out = {"present": True, "size": [int(full.shape[1]), int(full.shape[0])], "aspect_ratio": round(aspect, 3),
           "image_aspect_ratio": round(main_aspect, 3), "mad": None}
    if abs(aspect / main_aspect - 1) > THUMBNAIL_ASPECT_TOLERANCE:
        return {**out, "consistent": False}
    small = Image.fromarray(np.clip(luma, 0, 255).astype(np.uint8)).resize(grey.shape[::-1], Image.Resampling.BOX)
    mad = float(np.abs(np.asarray(small, np.float32) - grey).mean())
    return {**out, "mad": round(mad, 2), "consistent": mad <= THUMBNAIL_MAX_MAD}


def _jpeg_luma(image) -> tuple[np.ndarray, bool]:
    """(decoded luminance plane, whether it is the file's own Y channel, so its DCT is the encoder's)."""
    if image.mode == "RGB":
        image.draft("YCbCr", image.size)  # libjpeg's Y before colour conversion: no rounding through RGB
    image.load()
    if image.mode == "YCbCr":
        return np.asarray(image)[..., 0].astype(np.float32), True
    if image.mode == "L":
        return np.asarray(image, np.float32), True
    return np.asarray(image.convert("L"), np.float32), False  # CMYK: no luminance plane in the file


def _safe_exif(image, problems: list) -> tuple[dict | None, bytes | None]:
    try:
        return _exif(image)
    except Exception as e:  # a damaged EXIF block must not cost the pixel facts
        problems.append(f"EXIF unreadable ({type(e).__name__})")
        return None, None


def _jpeg_header(image, contents: bytes, h: dict, problems: list) -> bytes | None:
    """Tables, markers and EXIF into `h`; returns the EXIF thumbnail's bytes."""
    tables = ijg_match(dict(getattr(image, "quantization", None) or {}))
    h["jpeg"] = {**read_markers(contents), "tables": tables,
                 "table_family": None if tables is None else "ijg" if tables["standard"] else "non-standard"}
    h["exif"], thumb = _safe_exif(image, problems)
    return thumb


def _jpeg_pixels(image, thumb: bytes | None, h: dict, problems: list) -> None:
    luma, own_y = _jpeg_luma(image)
    if own_y and h["jpeg"]["tables"] is not None:
        h["jpeg"]["double_compression"] = pixel_traces.double_compression(luma, image.quantization[min(image.quantization)])
    h["resampling"] = pixel_traces.resampling(luma, skip_grid=True)
    if thumb is not None:
        try:
            h["exif"]["thumbnail"] = _thumbnail_check(thumb, luma)
        except Exception as e:
            h["exif"]["thumbnail"] = {"present": True, "consistent": None}
            problems.append(f"EXIF thumbnail unreadable ({type(e).__name__})")


def _webp_lossless(contents: bytes) -> bool | None:
    """From the RIFF chunks: VP8L is lossless, VP8 lossy (an animation's frames carry them one level down)."""
    pos, found = 12, set()
    while pos + 8 <= len(contents):
        fourcc, size = contents[pos : pos + 4], int.from_bytes(contents[pos + 4 : pos + 8], "little")
        found.add(contents[pos + 24 : pos + 28] if fourcc == b"ANMF" else fourcc)
        pos += 8 + size + (size & 1)
    return False if b"VP8 " in found else True if b"VP8L" in found else None


def _format_facts(image, contents: bytes, fmt: str) -> dict:
    depth = _BIT_DEPTH.get(image.mode, 8)
    lossless = {"PNG": True, "BMP": True, "GIF": True, "HEIF": False, "AVIF": None}.get(fmt)
    if fmt == "PNG" and len(contents) > 25:
        depth = contents[24]  # IHDR: Pillow reads 16-bit colour PNGs as 8-bit RGB
    elif fmt == "WEBP":
        lossless = _webp_lossless(contents)
    elif fmt == "TIFF":
        compression = str(image.info.get("compression", "raw"))
        lossless = not any(lossy in compression for lossy in ("jpeg", "webp"))
        bits = getattr(image, "tag_v2", {}).get(258)
        depth = int(bits[0] if isinstance(bits, tuple) else bits or depth)
    return {"bit_depth": depth, "lossless": lossless}


def _other_format(contents: bytes, h: dict) -> None:
    luma = decode_rgb("", contents).astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    if h.get("lossless"):  # a lossy codec's own blocks (WebP's 4x4 and 16x16) would read as a grid
        grid, lattice = block_grid_ratio(luma), pixel_traces.jpeg_lattice(luma)
        h["jpeg_grid"] = None if np.isnan(grid) else round(grid, 3)
        h["jpeg_lattice"] = None if lattice is None else round(lattice, 3)
        if h["jpeg_grid"] is not None or lattice is not None:
            h["jpeg_grid_seen"] = bool((h["jpeg_grid"] or 0) >= GRID_THRESHOLD
                                       or (lattice or 0) >= pixel_traces.LATTICE_THRESHOLD)
    h["resampling"] = pixel_traces.resampling(luma, skip_grid=bool(h["jpeg_grid_seen"]) or not h.get("lossless"))


def _empty(num_bytes: int) -> dict:
    return {"format": None, "mode": None, "width": None, "height": None, "num_bytes": num_bytes, "bit_depth": None,
            "lossless": None, "jpeg": None, "exif": None, "jpeg_grid": None, "jpeg_lattice": None, "jpeg_grid_seen": None,
            "resampling": None, "problem": None}


def _read(contents: bytes, h: dict, problems: list, pixels: bool = True) -> None:
    with Image.open(io.BytesIO(contents)) as image:
        fmt = "JPEG" if image.format == "MPO" else image.format  # MPO: a camera JPEG with a second picture appended
        h.update(format=fmt, mode=image.mode, width=image.size[0], height=image.size[1])
        if fmt == "JPEG":
            h.update(bit_depth=8, lossless=False)
            thumb = _jpeg_header(image, contents, h, problems)
        else:
            h.update(_format_facts(image, contents, fmt))
            if fmt != "PNG" or b"eXIf" in contents:  # Pillow decodes a whole PNG to look for a late eXIf chunk
                h["exif"] = _safe_exif(image, [])[0]  # context only here: a broken block is no problem
        if not pixels:
            return
        if image.size[0] * image.size[1] > DEFAULT_MAX_PIXELS:
            problems.append(f"too many pixels ({image.size[0]}x{image.size[1]}): pixel traces not measured")
            return
        if fmt == "JPEG":
            _jpeg_pixels(image, thumb, h, problems)
    if fmt != "JPEG":
        _other_format(contents, h)


def _failure(error: Exception, unopened: bool) -> str:
    if isinstance(error, Image.UnidentifiedImageError):
        return "not an image Pillow can identify"
    return f"{'unreadable' if unopened else 'damaged'} file ({type(error).__name__}: {str(error)[:100]})"


def read_history(contents: bytes, pixels: bool = True) -> dict:
    """The history facts of one file's bytes (JSON-serialisable), with `kind` and `summary`; never raises.

    `pixels` False reads the headers only (tables, quality, coding, EXIF, format): no double compression,
    earlier JPEG or resize, which need the decoded pixels and cost about as much as the model on a large PNG.
    """
    h, problems = _empty(len(contents)), []
    h["pixel_traces"] = bool(pixels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # decompression-bomb and EXIF warnings: limits are checked here
        try:
            _read(contents, h, problems, pixels)
        except Exception as e:  # Pillow raises many types for damaged files; keep whatever was read first
            problems.append(_failure(e, h["format"] is None))
    h["problem"] = "; ".join(problems) or None
    h["kind"] = classify(h)
    h["summary"] = summary_line(h)
    return h


def _seen(h: dict, key: str, flag: str) -> bool:
    return bool((h.get(key) or {}).get(flag))


def classify(h: dict) -> str:
    """One of KINDS: the first that applies, most telling first."""
    if h.get("format") == "JPEG":
        j = h.get("jpeg") or {}
        if _seen(j, "double_compression", "detected"):
            return "recompressed_jpeg"
        family, thumb = j.get("table_family"), ((h.get("exif") or {}).get("thumbnail") or {})
        if camera_name(h) and not edited(h) and (family == "non-standard" or thumb.get("consistent")):
            return "camera_jpeg"
        if _seen(h, "resampling", "seen"):
            return "resized"
        return "software_jpeg" if family == "ijg" and not camera_name(h) else "other"
    if h.get("jpeg_grid_seen"):
        return "png_from_jpeg"
    if _seen(h, "resampling", "seen"):
        return "resized"
    # Palette images (GIF, palette PNG) are stored losslessly, but only after their colours were quantised.
    return "lossless" if h.get("lossless") and h.get("mode") not in ("P", "PA", "1") else "other"


def _jpeg_lead(h: dict, kind: str) -> str:
    j = h.get("jpeg") or {}
    t = j.get("tables") or {}
    q, cam = t.get("quality"), camera_name(h)
    family = "maker" if cam and not edited(h) else "own"
    tables = "no tables read" if not t else f"standard tables q{q}" if t["standard"] else f"{family} tables ~q{q}"
    if kind == "recompressed_jpeg":
        return f"JPEG compressed twice (now {tables}; comb score {j['double_compression']['score']:.2f})"
    if kind == "camera_jpeg":
        return f"camera JPEG ({cam}, {tables})"
    if kind == "software_jpeg":
        return f"re-encoded JPEG q{q} (standard tables)"
    return f"{'resized ' if kind == 'resized' else 'edited ' if edited(h) else ''}JPEG ({tables})"


def _jpeg_tail(h: dict, kind: str) -> list:
    exif, parts = h.get("exif") or {}, []
    if kind != "camera_jpeg":
        parts.append(f"camera data {camera_name(h)}" if camera_name(h) else "no camera data")
    thumb = exif.get("thumbnail") or {}
    if thumb.get("consistent") is not None:
        mad = f" (MAD {thumb['mad']:.0f})" if thumb.get("mad") is not None else " (aspect ratio differs)"
        parts.append("EXIF thumbnail consistent" if thumb["consistent"] else f"EXIF thumbnail does not match the image{mad}")
    if exif.get("software"):
        parts.append(f"software {exif['software']}")
    return parts


def _other_lead(h: dict, kind: str) -> str:
    fmt, depth = h.get("format"), h.get("bit_depth")
    bits = f" {depth}-bit" if depth and depth != 8 else ""
    if kind == "png_from_jpeg":
        return f"{fmt}{bits} that was a JPEG before (8x8 grid {h['jpeg_grid']:.2f}, DCT lattice {h['jpeg_lattice'] or 0:.2f})"
    palette = h.get("mode") in ("P", "PA")
    coding = "palette " if palette else {True: "lossless ", False: "lossy "}.get(h.get("lossless"), "")
    lead = f"{'resized ' if kind == 'resized' else ''}{coding}{fmt}{bits if not palette else ''}"
    if h.get("lossless") and kind != "resized":
        lead += ", no earlier JPEG seen" if h.get("jpeg_grid_seen") is False else ", earlier JPEG not looked for"
    return lead


def summary_line(history: dict) -> str:
    """One line a person can read, e.g. "re-encoded JPEG q85 (standard tables), no camera data"."""
    h, kind = history, history.get("kind") or classify(history)
    if h.get("format") is None:
        return f"no image history: {h.get('problem') or 'no image found'}"
    if h.get("format") == "JPEG":
        parts = [_jpeg_lead(h, kind), *_jpeg_tail(h, kind)]
    else:
        parts = [_other_lead(h, kind)]
    resampling = h.get("resampling") or {}
    if resampling.get("seen"):
        parts.append(f"interpolation period {resampling['period']:.1f} px (score {resampling['score']:.0f})")
    if h.get("problem"):
        parts.append(f"problem: {h['problem']}")
    return ", ".join(parts)
