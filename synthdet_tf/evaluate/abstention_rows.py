"""Score labelled files, as they are and re-made by the training chain, and keep what the abstention rule weighs.

One row per (file, chain): where it came from, its label, the history kind read at
both facts levels, the pixel probability, and whether a declaration, a deciding
mark or a size caveat settles its verdict without the pixels. Each (split, chain)
is cached as a CSV in the workdir, so an interrupted run resumes where it stopped.
"""

import concurrent.futures
import csv
import os

from synthdet_tf.detect.abstain import decide
from synthdet_tf.detect.history import read_history
from synthdet_tf.evaluate.histories import CHAINS, Ranges, remake

FIELDS = ("split", "chain", "source", "generator", "label", "relpath", "kind_basic", "kind_full", "probability",
          "logit", "settled", "caveat", "error", "whole_logit", "local_logit")


def _write(item, chain, folder, ranges, seed):
    """(path scored, its bytes): the file itself for as_is, else its re-made copy under `folder`."""
    index, relpath, path = item
    with open(path, "rb") as f:
        contents = f.read()
    if chain == "as_is":
        return path, contents
    if chain == "matched":  # the external check's processing-matched reading, as it defines it
        from synthdet_tf.evaluate.external import matched_bytes

        made, ext = matched_bytes(contents), ".jpg"
    else:
        made, ext, _ = remake(contents, chain, relpath, ranges, seed)
    target = os.path.join(folder, f"{index:06d}{ext}")
    with open(target, "wb") as f:
        f.write(made)
    return target, made


def _settled(result) -> str:
    """What decides this file's verdict without the pixels ('declared', 'mark') or ''."""
    _, why = decide(result.label, _Prov(result.provenance), False, None, result.marks)
    return "declared" if why.startswith("declared") else "mark" if why.startswith("carries") else ""


class _Prov:
    """The two fields `provenance.verdict` reads, from a Result's provenance dict."""

    def __init__(self, d):
        d = d or {}
        self.declares_ai, self.reasons = bool(d.get("declares_ai")), list(d.get("reasons") or [])


def score_chain(detector, items, chain: str, folder: str, ranges: Ranges, seed: int = 0) -> list[dict]:
    """Rows for items [(relpath, path, label, source, generator)] through one chain (files written to `folder`)."""
    os.makedirs(folder, exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(max(2, os.cpu_count() or 2)) as pool:
        made = list(pool.map(lambda it: _write(it, chain, folder, ranges, seed),
                             [(i, it[0], it[1]) for i, it in enumerate(items)]))
        basic = list(pool.map(lambda m: read_history(m[1], pixels=False)["kind"], made))
    rows = []
    results = list(detector.detect([m[0] for m in made], facts="full", walked=([m[0] for m in made], [])))
    for (relpath, _, label, source, generator), kind, r in zip(items, basic, results):
        rows.append({"chain": chain, "source": source, "generator": generator, "label": int(label), "relpath": relpath,
                     "kind_basic": kind, "kind_full": (r.history or {}).get("kind", ""),
                     "probability": "" if r.fake_probability is None else r.fake_probability,
                     "logit": "" if r.logit is None else r.logit, "settled": _settled(r), "caveat": _caveat(r),
                     "error": r.error or "", **_streams(r.streams)})
    return rows


def _streams(streams: dict | None) -> dict:
    streams = streams or {}
    return {k: "" if streams.get(k) is None else streams[k] for k in ("whole_logit", "local_logit")}


def _caveat(result) -> str:
    return result.verdict_reason if result.verdict == "UNSURE" and "too small" in result.verdict_reason else ""


def cached_rows(detector, items, split: str, chains, workdir: str, ranges: Ranges, seed: int = 0, log=print) -> list[dict]:
    """Every chain's rows for one split, scoring only the (split, chain) pairs not yet cached in `workdir`."""
    rows = []
    for chain in chains:
        if chain not in CHAINS and chain != "matched":
            raise ValueError(f"unknown chain {chain!r}; choose from {sorted(CHAINS)} or 'matched'")
        cache = os.path.join(workdir, "rows", f"{split}_{chain}.csv")
        if not os.path.exists(cache):
            log(f"scoring {len(items)} {split} files, chain {chain}")
            fresh = score_chain(detector, items, chain, os.path.join(workdir, "files", split, chain), ranges, seed)
            os.makedirs(os.path.dirname(cache), exist_ok=True)
            with open(cache + ".tmp", "w", newline="") as f:
                w = csv.DictWriter(f, FIELDS)
                w.writeheader()
                w.writerows({**r, "split": split} for r in fresh)
            os.replace(cache + ".tmp", cache)
        with open(cache, newline="") as f:
            rows += list(csv.DictReader(f))
    return [_typed(r) for r in rows]


def _typed(row: dict) -> dict:
    row = dict(row)
    row["label"] = int(row["label"])
    for key in ("probability", "logit", "whole_logit", "local_logit"):
        row[key] = float(row[key]) if row.get(key) not in ("", None) else None
    return row
