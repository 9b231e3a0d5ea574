"""The tables of docs/marks.md: where the open watermarks survive, and what they read on unmarked files.

    .venv/bin/python -m synthdet_tf.lab.marks_robustness --data_dir=../shared/data/dev [--out=marks.json]
    /tmp/iwvenv/bin/python -m synthdet_tf.lab.marks_robustness --library_check   # see docs/marks.md

False positives: every file under <data_dir>/real and <data_dir>/fake is read as `read_marks` reads it;
the most agreeing bits per mark are reported (reals must stay far under the listing threshold), and
which fakes carry a mark, by source tag. Robustness: real photos (both sides >= 512 px; the centre
square resized to the generator's native size) get each mark planted as its reference code does, then
go through one common edit each; a cell is the share of photos where the mark still decides, then the
share imwatermark's own vote alone would reach, then the mean share of bits agreeing.
"""

import argparse
import collections
import io
import json
import os
import time

import numpy as np
from PIL import Image

from synthdet_tf.detect import marks

# (row, mark key, way, side): the embedder's way and its reference output size.
PLANTED = (("SD 1.x (CompVis txt2img, 512 px)", "sd1", "bgr8", 512),
           ("SD 2.x (Stability txt2img, 768 px)", "sd2", "bgr8", 768),
           ("SDXL (generative-models, 1024 px)", "sdxl", "bgrf", 1024),
           ("SDXL (diffusers, 1024 px)", "sdxl", "rgbf", 1024),
           ("FLUX.1 (flux reference, 1024 px)", "flux", "bgrf", 1024))


def _encoded(rgb: np.ndarray, fmt: str, **kwargs) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, fmt, **kwargs)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def _resized(rgb: np.ndarray, factor: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    return np.asarray(Image.fromarray(rgb).resize((round(w * factor), round(h * factor)), Image.Resampling.BICUBIC))


def _centre(rgb: np.ndarray, h: int, w: int) -> np.ndarray:
    top, left = (rgb.shape[0] - h) // 2, (rgb.shape[1] - w) // 2
    return rgb[top : top + h, left : left + w]


# Pillow's defaults otherwise (JPEG: 4:2:0 chroma subsampling, which halves the very channel the mark is in).
EDITS = {"PNG": lambda a: _encoded(a, "PNG"), "JPEG q95": lambda a: _encoded(a, "JPEG", quality=95),
         "JPEG q90": lambda a: _encoded(a, "JPEG", quality=90), "JPEG q75": lambda a: _encoded(a, "JPEG", quality=75),
         "WebP q90": lambda a: _encoded(a, "WEBP", quality=90), "resize 0.75x": lambda a: _resized(a, 0.75),
         "resize 0.5x": lambda a: _resized(a, 0.5),
         "crop 90%": lambda a: _centre(a, round(a.shape[0] * 0.9), round(a.shape[1] * 0.9))}


def _photos(data_dir: str, count: int) -> list[str]:
    real = os.path.join(data_dir, "real")
    paths = []
    for name in sorted(os.listdir(real)):
        with Image.open(os.path.join(real, name)) as image:
            if min(image.size) >= 512:
                paths.append(os.path.join(real, name))
    picked = np.random.default_rng(0).choice(len(paths), min(count, len(paths)), replace=False)
    return [paths[i] for i in sorted(picked)]


def _square(path: str, side: int) -> np.ndarray:
    with Image.open(path) as image:
        rgb = np.asarray(image.convert("RGB"))
    s = min(rgb.shape[:2])
    return np.asarray(Image.fromarray(_centre(rgb, s, s)).resize((side, side), Image.Resampling.LANCZOS))


def robustness(data_dir: str, count: int) -> dict:
    photos = _photos(data_dir, count)
    table = {}
    for row, key, way, side in PLANTED:
        mark = marks.BY_KEY[key]
        need, want = mark.threshold(marks.DECIDE_P), np.array(mark.bits, bool)
        decides, library, agree = collections.Counter(), collections.Counter(), collections.defaultdict(list)
        for path in photos:
            planted = marks.plant(_square(path, side), key, way)
            for edit, apply in EDITS.items():
                edited = apply(planted)
                bits = marks.agreements(edited)[key]  # what read_marks weighs, without the file round trip
                decides[edit] += bits >= need
                # imwatermark's own vote alone, in the way this mark was planted: what its decoder would get
                library[edit] += int(np.sum(marks._vote(marks._block_bits(edited, way), len(want)) == want)) >= need
                agree[edit].append(bits / len(want))
        table[row] = {e: {"decides": decides[e] / len(photos), "library_vote_decides": library[e] / len(photos),
                          "mean_bits_agree": round(float(np.mean(agree[e])), 3)} for e in EDITS}
    return {"photos": [os.path.basename(p) for p in photos], "table": table}


def _scan(folder: str) -> dict:
    """Every file in `folder` through load_rgb + agreements: maxima, files listed, skips and time per megapixel."""
    best = {m.key: (0, None) for m in marks.MARKS}
    seen = collections.defaultdict(list)
    by_source = collections.defaultdict(lambda: {"read": 0, "listed": [], "skipped": 0})
    skipped, per_mp = collections.Counter(), []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as f:
            contents = f.read()
        source = by_source[name.split("__")[0]]
        start = time.perf_counter()
        rgb, why = marks.load_rgb(contents)
        if rgb is None:
            skipped[why.split(" (")[0].removeprefix("not read for watermarks: ")] += 1
            source["skipped"] += 1
            continue
        agree = marks.agreements(rgb)
        per_mp.append((time.perf_counter() - start) / (rgb.shape[0] * rgb.shape[1] / 1e6))
        source["read"] += 1
        for key, bits in agree.items():
            best[key] = max(best[key], (bits, name), key=lambda b: b[0])
            seen[key].append(bits)
        found = marks.listed(agree)
        if found:
            source["listed"].append({"file": name, "marks": found})
    maxima = {k: {"bits": f"{b}/{len(marks.BY_KEY[k].bits)}", "chance": marks.BY_KEY[k].chance(b), "file": n,
                  "list_at": marks.BY_KEY[k].threshold(marks.LIST_P), "decide_at": marks.BY_KEY[k].threshold(marks.DECIDE_P)}
              for k, (b, n) in best.items()}
    for key, bits in seen.items():  # is the chance model right? about 1% of reads should have chance <= 0.01
        n = len(marks.BY_KEY[key].bits)
        maxima[key].update(mean=round(float(np.mean(bits)), 2), sd=round(float(np.std(bits)), 2), fair_sd=round(n**0.5 / 2, 2),
                           share_chance_le_1pct=round(float(np.mean([marks.BY_KEY[key].chance(b) <= 0.01 for b in bits])), 4))
    return {"maxima": maxima, "sources": dict(by_source), "skipped": dict(skipped),
            "seconds_per_megapixel_median": float(np.median(per_mp)) if per_mp else None}


def one_megapixel_time(data_dir: str, repeats: int = 10) -> float:
    """Seconds for read_marks on a 1000x1000 PNG of a real photo (file decode included)."""
    rgb = _square(_photos(data_dir, 1)[0], 1000)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    marks.read_marks(buf.getvalue())  # the chance tables are built once per process
    start = time.perf_counter()
    for _ in range(repeats):
        marks.read_marks(buf.getvalue())
    return (time.perf_counter() - start) / repeats


def _markdown(report: dict) -> str:
    lines = []
    if "robustness" in report:
        edits = list(EDITS)
        lines += ["| mark | " + " | ".join(edits) + " |", "|---|" + "---|" * len(edits)]
        for row, cells in report["robustness"]["table"].items():
            lines.append(f"| {row} | " + " | ".join(
                f"{cells[e]['decides']:.0%} / {cells[e]['library_vote_decides']:.0%} ({cells[e]['mean_bits_agree']:.2f})"
                for e in edits) + " |")
    for label in ("real", "fake"):
        if label in report:
            lines += ["", f"{label}: skipped {report[label]['skipped']}; median "
                      f"{report[label]['seconds_per_megapixel_median']} s per megapixel (decode + read)",
                      "| mark | max bits | its chance | file | listed at | decides at | mean (sd; fair-coin sd) | reads with chance <= 1% |",
                      "|---|---|---|---|---|---|---|---|"]
            for key, m in report[label]["maxima"].items():
                lines.append(f"| {key} | {m['bits']} | {m['chance']:.2g} | {m['file']} | {m['list_at']} | {m['decide_at']} "
                             f"| {m.get('mean')} ({m.get('sd')}; {m.get('fair_sd')}) | {m.get('share_chance_le_1pct', 0):.2%} |")
            for source, s in report[label]["sources"].items():
                lines.append(f"- {source}: read {s['read']}, skipped {s['skipped']}, carrying a mark {len(s['listed'])}")
    return "\n".join(lines)


def blocky_rgb(side=256, seed=0):
    """Flat 16-px patches plus noise, from integer numpy only (so its digest is stable): tests/test_marks.py's image."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(40, 216, (side // 16, side // 16, 3))
    image = np.repeat(np.repeat(coarse, 16, 0), 16, 1) + rng.integers(-30, 31, (side, side, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def _library():
    """imwatermark's maxDct module, loaded by file: the package's __init__ imports torch, this file does not."""
    import importlib.util
    import sysconfig

    path = os.path.join(sysconfig.get_paths()["purelib"], "imwatermark", "maxDct.py")
    spec = importlib.util.spec_from_file_location("imwatermark_maxDct", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def library_check(data_dir: str, count: int = 40) -> dict:
    """Our colour conversions, embedder and vote against OpenCV and imwatermark, in a venv that has them."""
    import cv2
    import hashlib

    lib, out = _library(), {"opencv": cv2.__version__}
    every = np.stack(np.meshgrid(*[np.arange(256, dtype=np.uint8)] * 3, indexing="ij"), -1).reshape(4096, 4096, 3)
    out["yuv8_exact_all_colours"] = bool(np.array_equal(cv2.cvtColor(every, cv2.COLOR_BGR2YUV), marks._yuv8(every)))
    out["bgr8_exact_all_triples"] = bool(np.array_equal(cv2.cvtColor(every, cv2.COLOR_YUV2BGR), marks._bgr8(every)))
    quarter = every[::2, ::2].astype(np.float32)
    out["yuvf_exact_quarter"] = bool(np.array_equal(cv2.cvtColor(quarter, cv2.COLOR_BGR2YUV), marks._yuvf(quarter)))
    out["bgrf_exact_quarter"] = bool(np.array_equal(cv2.cvtColor(quarter, cv2.COLOR_YUV2BGR), marks._bgrf(quarter)))
    same, votes = collections.Counter(), collections.Counter()
    for path in _photos(data_dir, count):
        bgr = _square(path, 512)[..., ::-1].copy()
        for mark in marks.MARKS:
            for image in (bgr, bgr.astype(np.float32)):
                ref = lib.EmbedMaxDct(list(mark.bits), wmLen=len(mark.bits)).encode(image.copy())
                same[str(image.dtype)] += bool(np.array_equal(ref, marks.embed(image.copy(), mark.bits)))
            ref = np.clip(ref, 0, 255).astype(np.uint8)
            for image in (ref, bgr):
                bits = np.asarray(lib.EmbedMaxDct([], wmLen=len(mark.bits)).decode(image))
                votes["same"] += bool(np.array_equal(bits, marks._vote(marks._block_bits(image[..., ::-1], "bgr8"), len(bits))))
    out["embed_identical"] = {k: f"{v}/{count * len(marks.MARKS)}" for k, v in same.items()}
    out["vote_identical"] = f"{votes['same']}/{2 * count * len(marks.MARKS)}"
    for key, image in (("sd1", blocky_rgb()), ("sdxl", blocky_rgb().astype(np.float32))):
        ref = lib.EmbedMaxDct(list(marks.BY_KEY[key].bits), wmLen=len(marks.BY_KEY[key].bits)).encode(image)
        out[f"test_digest_{key}"] = hashlib.sha256(ref.tobytes()).hexdigest()[:16]
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data_dir", default="../shared/data/dev")
    parser.add_argument("--photos", type=int, default=20, help="real photos to plant each mark in")
    parser.add_argument("--only", choices=("robustness", "false_positives"), help="run one half")
    parser.add_argument("--out", help="also write the report here as JSON")
    parser.add_argument("--library_check", action="store_true",
                        help="only compare with OpenCV and invisible-watermark (run with a Python that has them)")
    args = parser.parse_args(argv)
    if args.library_check:
        print(json.dumps(library_check(args.data_dir), indent=1))
        return
    report = {}
    if args.only != "robustness":
        for label in ("real", "fake"):
            report[label] = _scan(os.path.join(args.data_dir, label))
    if args.only != "false_positives":
        report["robustness"] = robustness(args.data_dir, args.photos)
        report["read_marks_seconds_1mp_png"] = one_megapixel_time(args.data_dir)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)
    print(_markdown(report))
    if "read_marks_seconds_1mp_png" in report:
        print(f"\nread_marks on a 1000x1000 PNG: {report['read_marks_seconds_1mp_png']:.3f} s")


if __name__ == "__main__":
    main()
