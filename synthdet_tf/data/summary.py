"""What is in a discovered folder, as tables a person reads before training.

The per-class and per-source format and size tables are how a user sees a
shortcut such as "PNG means fake" or "1024 x 1024 means fake" before a model
learns it; `shortcuts()` names the worst ones in plain words.
"""

import collections
import statistics

from synthdet_tf.data.discovery import LABEL_NAMES, SPLITS
from synthdet_tf.data.shortcut_score import describe, shortcut_score

_MIN_GROUP = 10  # images of one format/size before it can be called a shortcut
_PURITY = 0.75  # share of a class-balanced group in one class (3:1) that counts as a shortcut


def _size_stats(records):
    sizes = collections.Counter((r.info.width, r.info.height) for r in records)
    sides = [min(r.info.width, r.info.height) for r in records]
    return {
        "n": len(records),
        "median_width": statistics.median(r.info.width for r in records),
        "median_height": statistics.median(r.info.height for r in records),
        "min_side": min(sides),
        "max_side": max(max(r.info.width, r.info.height) for r in records),
        "median_kb": round(statistics.median(r.info.num_bytes for r in records) / 1024, 1),
        "top_sizes": [[f"{w}x{h}", n] for (w, h), n in sizes.most_common(3)],
    }


def _by(records, key):
    groups = collections.defaultdict(list)
    for r in records:
        groups[key(r)].append(r)
    return dict(sorted(groups.items()))


def jpeg_quality_band(info) -> str:
    """A JPEG's estimated quality as a coarse band ("" for other formats)."""
    q = info.jpeg_quality
    if q is None:
        return ""
    return "q>=98" if q >= 98 else "q90-97" if q >= 90 else "q75-89" if q >= 75 else "q<75"


def _class_counts(records, key) -> dict:
    """group -> {REAL: n, FAKE: n}."""
    counts = collections.Counter((key(r), r.label) for r in records)
    return {g: {LABEL_NAMES[c]: counts[(g, c)] for c in (0, 1)} for g in sorted({g for g, _ in counts})}


def shortcuts(records) -> list[str]:
    """Formats, exact sizes and JPEG quality bands that (class-balanced) almost only one class has."""
    by_class = _by(records, lambda r: r.label)
    if len(by_class) < 2:
        return []
    totals = {label: len(rs) for label, rs in by_class.items()}
    found = []
    kinds = (("format", lambda r: r.info.format), ("size", lambda r: f"{r.info.width}x{r.info.height}"),
             ("JPEG quality", lambda r: jpeg_quality_band(r.info)))
    for kind, key in kinds:
        counts = collections.Counter((key(r), r.label) for r in records)
        for value in sorted({k for k, _ in counts if k}):
            n_real, n_fake = counts[(value, 0)], counts[(value, 1)]
            if n_real + n_fake < _MIN_GROUP:
                continue
            share_real, share_fake = n_real / totals[0], n_fake / totals[1]
            purity = share_fake / (share_fake + share_real)
            if purity >= _PURITY or purity <= 1 - _PURITY:
                cls = "FAKE" if purity >= _PURITY else "REAL"
                found.append(
                    f"{kind} {value}: {n_fake} FAKE ({100 * share_fake:.1f}% of FAKE) vs {n_real} REAL "
                    f"({100 * share_real:.1f}% of REAL) -> a model can learn '{value} means {cls}'"
                )
    return found


def summarize(discovery, shortcut: bool = False) -> dict:
    """A JSON-ready summary of a Discovery; `shortcut` adds the shortcut score (a classifier fit: inspect only)."""
    records = discovery.records
    counts = collections.Counter((r.source, r.label, r.split) for r in records)
    sources = sorted({r.source for r in records})
    return {
        "data_dir": discovery.root,
        "usable": len(records),
        "skipped": len(discovery.skipped),
        "per_class": {LABEL_NAMES[c]: sum(1 for r in records if r.label == c) for c in (0, 1)},
        "per_split": {
            s: {LABEL_NAMES[c]: sum(counts[(src, c, s)] for src in sources) for c in (0, 1)} for s in SPLITS
        },
        "per_source": {
            src: {LABEL_NAMES[c]: {s: counts[(src, c, s)] for s in SPLITS} for c in (0, 1)} for src in sources
        },
        "per_family": _class_counts(records, lambda r: r.family),
        "per_content": _class_counts(records, lambda r: r.content or "(untagged)"),
        "jpeg_quality_per_class": {
            LABEL_NAMES[c]: dict(sorted(collections.Counter(jpeg_quality_band(r.info) for r in rs if r.info.format == "JPEG").items()))
            for c, rs in _by(records, lambda r: r.label).items()
        },
        "formats_per_class": {
            LABEL_NAMES[c]: dict(collections.Counter(r.info.format for r in rs).most_common())
            for c, rs in _by(records, lambda r: r.label).items()
        },
        "formats_per_source": {
            f"{src} / {LABEL_NAMES[c]}": dict(collections.Counter(r.info.format for r in rs).most_common())
            for (src, c), rs in _by(records, lambda r: (r.source, r.label)).items()
        },
        "modes_per_class": {
            LABEL_NAMES[c]: dict(collections.Counter(r.info.mode for r in rs).most_common())
            for c, rs in _by(records, lambda r: r.label).items()
        },
        "sizes_per_class": {LABEL_NAMES[c]: _size_stats(rs) for c, rs in _by(records, lambda r: r.label).items()},
        "sizes_per_source": {
            f"{src} / {LABEL_NAMES[c]}": _size_stats(rs)
            for (src, c), rs in _by(records, lambda r: (r.source, r.label)).items()
        },
        "needs_pillow_decoder": sum(r.info.needs_pillow for r in records),
        "animated": sum(r.info.n_frames > 1 for r in records),
        "shortcuts": shortcuts(records),
        **({"shortcut_score": shortcut_score(records)} if shortcut else {}),
        "skip_reasons": dict(discovery.skip_reasons().most_common()),
        "skipped_files": [{"relpath": s.relpath, "reason": s.reason} for s in discovery.skipped],
        "manifest": None
        if discovery.manifest is None
        else {
            "rows": discovery.manifest.rows,
            "matched": discovery.manifest.matched,
            "missing_on_disk": len(discovery.manifest.missing_on_disk),
            "not_in_manifest": discovery.manifest.not_in_manifest,
        },
    }


def _table(headers, rows) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _formats(counts: dict) -> str:
    total = sum(counts.values())
    return ", ".join(f"{fmt} {n} ({100 * n / total:.1f}%)" for fmt, n in counts.items())


def _size_row(name, s):
    top = ", ".join(f"{size}: {n}" for size, n in s["top_sizes"])
    return [name, s["n"], f"{s['median_width']:g}x{s['median_height']:g}", s["min_side"], s["max_side"], s["median_kb"], top]


def format_summary(summary: dict, max_skipped: int = 20) -> str:
    """The summary as plain-text tables."""
    out = [f"Data: {summary['data_dir']}", f"Usable images: {summary['usable']}   skipped: {summary['skipped']}"]
    m = summary["manifest"]
    if m:
        out.append(
            f"MANIFEST.csv: {m['rows']} rows; {m['matched']} match files on disk; "
            f"{m['missing_on_disk']} listed but missing; {m['not_in_manifest']} files not listed"
        )
    out += ["", "Counts per class and split"]
    out.append(
        _table(
            ["class", "total", *SPLITS],
            [[c, summary["per_class"][c], *(summary["per_split"][s][c] for s in SPLITS)] for c in LABEL_NAMES],
        )
    )
    out += ["", "Counts per source (train / val / test)"]
    rows = []
    for src, by_class in summary["per_source"].items():
        cells = []
        for c in LABEL_NAMES:
            n = sum(by_class[c].values())
            cells.append(f"{n} ({' / '.join(str(by_class[c][s]) for s in SPLITS)})" if n else "-")
        rows.append([src, *cells])
    out.append(_table(["source", *LABEL_NAMES], rows))
    for title, key in (("Counts per generator family", "per_family"), ("Counts per content tag", "per_content")):
        out += ["", title]
        out.append(_table(["group", *LABEL_NAMES], [[g, *(c[n] or "-" for n in LABEL_NAMES)] for g, c in summary[key].items()]))
    out += ["", "Formats per class (by content, not extension)"]
    out.append(_table(["class", "formats"], [[c, _formats(f)] for c, f in summary["formats_per_class"].items()]))
    out += ["", "Formats per source"]
    out.append(_table(["source / class", "formats"], [[k, _formats(f)] for k, f in summary["formats_per_source"].items()]))
    out += ["", "JPEG quality per class (estimated from the quantisation tables)"]
    out.append(_table(["class", "JPEG files by quality"], [[c, ", ".join(f"{k} {v}" for k, v in q.items()) or "-"]
                                                          for c, q in summary["jpeg_quality_per_class"].items()]))
    out += ["", "Colour modes per class"]
    out.append(_table(["class", "modes"], [[c, ", ".join(f"{k} {v}" for k, v in f.items())] for c, f in summary["modes_per_class"].items()]))
    size_headers = ["group", "n", "median WxH", "min side", "max side", "median KB", "most common sizes"]
    out += ["", "Sizes per class"]
    out.append(_table(size_headers, [_size_row(c, s) for c, s in summary["sizes_per_class"].items()]))
    out += ["", "Sizes per source"]
    out.append(_table(size_headers, [_size_row(k, s) for k, s in summary["sizes_per_source"].items()]))
    out += ["", f"Decoded with Pillow (palette BMP, animated GIF): {summary['needs_pillow_decoder']}; "
            f"animated (first frame used): {summary['animated']}"]
    out += ["", "Possible shortcuts (a format, size or JPEG quality almost only one class has):"]
    out += [f"  - {s}" for s in summary["shortcuts"]] or ["  none found"]
    if "shortcut_score" in summary:
        out += ["", describe(summary["shortcut_score"])]
    if summary["skipped"]:
        out += ["", "Skipped files by reason"]
        out.append(_table(["reason", "files"], list(summary["skip_reasons"].items())))
        out += [f"  {s['relpath']}: {s['reason']}" for s in summary["skipped_files"][:max_skipped]]
        if summary["skipped"] > max_skipped:
            out.append(f"  ... and {summary['skipped'] - max_skipped} more (all in the JSON output)")
    return "\n".join(out)
