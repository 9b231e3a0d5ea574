"""Census of file histories over a labelled folder: `kind` per source and class, and the time per file.

    .venv/bin/python -m synthdet_tf.lab.history_census --data_dir=../shared/data/dev --output=docs/history.md

Reads MANIFEST.csv (relpath,label,...) when the folder has one, else every file
under real/ and fake/; the source is the file-name prefix before "__" (the
dev set's tag), used here to group, never as an input to anything.
"""

import argparse
import collections
import csv
import os
import re
import sys
import time

import numpy as np

from synthdet_tf.detect.history import KINDS, read_history

SHARE_GAP = 0.25  # a kind whose share differs this much between a source's two classes is called out


def labelled_files(data_dir: str) -> list[tuple[str, str, str]]:
    """(relpath, label, source) for every file, in a stable order."""
    manifest = os.path.join(data_dir, "MANIFEST.csv")
    if os.path.exists(manifest):
        with open(manifest, newline="") as f:
            rows = [(r["relpath"], r["label"].upper()) for r in csv.DictReader(f)]
    else:
        rows = [(f"{label}/{name}", label.upper()) for label in ("real", "fake") if os.path.isdir(os.path.join(data_dir, label))
                for name in sorted(os.listdir(os.path.join(data_dir, label)))]
    return [(rel, label, os.path.basename(rel).split("__", 1)[0] if "__" in rel else "-") for rel, label in sorted(rows)]


def _what(h: dict) -> str:
    """The summary's first phrase with its numbers masked ("JPEG (own tables ~qN)"): what a kind holds."""
    lead = re.sub(r"\d+", "N", re.split(r",\s(?![^()]*\))", h["summary"])[0])
    return lead + (" + camera data" if "camera data " in h["summary"] else "")


def census(data_dir: str, limit: int = 0) -> list[dict]:
    """One row per file: source, label, format, pixels, kind, a few facts, and the seconds read_history took."""
    files = labelled_files(data_dir)
    if limit:
        files = files[:: max(1, len(files) // limit)][:limit]
    rows = []
    for relpath, label, source in files:
        with open(os.path.join(data_dir, relpath), "rb") as f:
            contents = f.read()
        wall, cpu = time.perf_counter(), time.process_time()
        h = read_history(contents)
        rows.append({"source": source, "label": label, "format": h["format"], "kind": h["kind"],
                     "pixels": (h["width"] or 0) * (h["height"] or 0), "problem": h["problem"], "what": _what(h),
                     "seconds": time.perf_counter() - wall, "cpu_seconds": time.process_time() - cpu})
    return rows


def _kind_table(rows: list[dict]) -> list[str]:
    groups = collections.defaultdict(collections.Counter)
    for r in rows:
        groups[(r["source"], r["label"])][r["kind"]] += 1
        groups[("**all**", r["label"])][r["kind"]] += 1
    lines = ["| source | class | n | " + " | ".join(KINDS) + " |", "|---|---|---:|" + "---:|" * len(KINDS)]
    for (source, label), counts in sorted(groups.items(), key=lambda kv: (kv[0][0] == "**all**", kv[0])):
        lines.append(f"| {source} | {label} | {sum(counts.values())} | " + " | ".join(str(counts[k] or "") for k in KINDS) + " |")
    return lines


def _contrasts(rows: list[dict]) -> list[str]:
    """Kinds whose share differs by SHARE_GAP or more between a source's REAL and FAKE files."""
    share = collections.defaultdict(collections.Counter)
    for r in rows:
        share[(r["source"], r["label"])][r["kind"]] += 1
    out = []
    for source in sorted({s for s, _ in share}):
        real, fake = share.get((source, "REAL")), share.get((source, "FAKE"))
        if not real or not fake:
            continue
        for kind in KINDS:
            a, b = real[kind] / sum(real.values()), fake[kind] / sum(fake.values())
            if abs(a - b) >= SHARE_GAP:
                out.append(f"- {source}: `{kind}` is {a:.0%} of REAL and {b:.0%} of FAKE.")
    return out or ["- none"]


def _other_table(rows: list[dict]) -> list[str]:
    counts = collections.Counter((r["what"], r["label"]) for r in rows if r["kind"] == "other")
    lines = ["| `other` holds | REAL | FAKE |", "|---|---:|---:|"]
    for what in sorted({w for w, _ in counts}, key=lambda w: -(counts[(w, "REAL")] + counts[(w, "FAKE")])):
        lines.append(f"| {what} | {counts[(what, 'REAL')] or ''} | {counts[(what, 'FAKE')] or ''} |")
    return lines


def _time_table(rows: list[dict]) -> list[str]:
    buckets = (("all files", lambda r: True), ("JPEG", lambda r: r["format"] == "JPEG"),
               ("other formats", lambda r: r["format"] not in ("JPEG", None)),
               ("< 0.01 MP (CIFAKE's 32x32)", lambda r: r["pixels"] < 10_000),
               ("0.01 to 0.5 MP", lambda r: 10_000 <= r["pixels"] < 500_000),
               ("0.5 to 2 MP", lambda r: 500_000 <= r["pixels"] < 2_000_000), ("2 MP and more", lambda r: r["pixels"] >= 2_000_000),
               ("JPEG, 0.01 to 0.5 MP", lambda r: r["format"] == "JPEG" and 10_000 <= r["pixels"] < 500_000),
               ("JPEG, 0.5 to 2 MP", lambda r: r["format"] == "JPEG" and 500_000 <= r["pixels"] < 2_000_000))
    lines = ["| files | n | median ms | mean ms | p90 ms | max ms | median CPU ms |", "|---|---:|---:|---:|---:|---:|---:|"]
    for name, keep in buckets:
        picked = [r for r in rows if keep(r)]
        if picked:
            ms = np.array([r["seconds"] for r in picked]) * 1000
            cpu = np.median([r["cpu_seconds"] for r in picked]) * 1000
            lines.append(f"| {name} | {len(picked)} | {np.median(ms):.1f} | {ms.mean():.1f} | {np.percentile(ms, 90):.1f} | "
                         f"{ms.max():.0f} | {cpu:.1f} |")
    return lines


def format_markdown(rows: list[dict], command: str) -> str:
    problems = collections.Counter(r["problem"] for r in rows if r["problem"])
    lines = ["# File history over the dev set", "",
             "`synthdet_tf.detect.history.read_history` reads each file's history from its bytes: JPEG tables and "
             "coding, EXIF camera data and thumbnail, a second compression, an earlier JPEG under a lossless file, "
             "an interpolating resize. Its `kind` groups files for the abstention rule. How each fact is measured, "
             "its thresholds and where it is blind: the docstrings of `synthdet_tf/detect/pixel_traces.py`, "
             "`synthdet_tf/detect/history.py` and `synthdet_tf/data/jpeg_tables.py`.", "",
             "**For the verdict only.** These facts say how far the pixel score can be trusted; they are never a "
             "FAKE signal, never a model input, never a training feature. Where a kind's share differs between a "
             "source's classes (below), a model that could see it would learn the source's file handling instead "
             "of generation: the same shortcut as the format-only classifier of ../shared/data/README.md.", "",
             f"Produced by `{command}` on {len(rows)} files; "
             + (", ".join(f"{p} x{n}" for p, n in problems.most_common(3)) or "no file had a problem") + ".", "",
             "## `kind` per source and class", "", *_kind_table(rows), "",
             "## What `other` holds", "", *_other_table(rows), "",
             f"## Kinds whose share differs by {SHARE_GAP:.0%} or more between a source's classes", "", *_contrasts(rows), "",
             "## Time per file", "",
             "Wall time of `read_history(contents)` on bytes already in memory (decode included), one process; "
             "CPU time beside it, as other jobs shared the two cores. A JPEG is decoded at full size (the DCT "
             "statistics need every pixel), the model's own decode is not shared. For scale, docs/benchmarks.md "
             "(2026-11-30) has synthdet-detect at 12-16 ms per 300 x 300 JPEG and v2 at about 71 ms per 0.6-6 MP file.",
             "", *_time_table(rows), ""]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data_dir", required=True)
    parser.add_argument("--output", help="markdown file to write (printed when not given)")
    parser.add_argument("--limit", type=int, default=0, help="an evenly spaced sample of this many files (0 = all)")
    args = parser.parse_args(argv)
    rows = census(args.data_dir, args.limit)
    command = ".venv/bin/python -m synthdet_tf.lab.history_census " + " ".join(sys.argv[1:] if argv is None else argv)
    text = format_markdown(rows, command.strip())
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
    print(text)


if __name__ == "__main__":
    main()
