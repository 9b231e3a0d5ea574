"""The abstention rule: fitted on validation rows only, then read as risk-coverage on anything else.

Fitting (`fit_rule`), per facts level and per history kind, on the validation
split's files as they are and re-made by the training chain
(`evaluate/histories.py`, rows from `evaluate/abstention_rows.py`):

- a kind is trusted when validation holds at least MIN_PER_CLASS real and
  MIN_PER_CLASS fake files of it and each class is called right at the model's
  threshold with a Wilson 95 % lower bound of at least FLOOR; a kind seen in one
  class only is not trusted, since nothing shows the score separates the classes on it;
- inside a trusted kind, the band around the threshold is `calibration.unsure_band`
  on that kind's files (the narrowest band outside which validation verdicts are
  right 95 % of the time, never holding more than 30 % of them).

- a fused model (rows with both streams' logits): each stream's cut is the one that maximises its own
  balanced accuracy on the same rows, and where the two streams then disagree the model's label must meet
  the kinds' criterion, or disagreement answers UNSURE.

Files whose verdict is settled without the pixels (a declaration, a deciding mark)
or that are too small to score do not enter the fit. Reading (`operating_point`,
`risk_coverage`) compares the rule with the model's plain band on any rows, per source.
"""

import collections
import math

import numpy as np

from synthdet_tf.detect import reliability
from synthdet_tf.evaluate.calibration import choose_threshold, sigmoid, unsure_band

FLOOR = 0.80
MIN_PER_CLASS = 25
LEVELS = ("basic", "full")


def wilson_low(right: int, n: int, z: float = 1.96) -> float:
    if n == 0:
        return 0.0
    p = right / n
    centre, spread = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n)


def _pixel_rows(rows):
    return [r for r in rows if r["probability"] is not None and not r["settled"] and not r["caveat"]]


def _entry(labels, probs, threshold, floor, min_per_class) -> dict:
    calls = probs >= threshold
    classes = {}
    for name, value in (("real", 0), ("fake", 1)):
        mine = labels == value
        right = int((calls[mine] == bool(value)).sum())
        classes[name] = {"n": int(mine.sum()), "right": right, "low": round(wilson_low(right, int(mine.sum())), 4)}
    trusted = all(c["n"] >= min_per_class and c["low"] >= floor for c in classes.values())
    band = unsure_band(labels, probs, threshold) if trusted else [threshold, threshold]
    return {"trusted": bool(trusted), "band": [float(band[0]), float(band[1])], **classes}


def fit_stream_cuts(rows) -> dict | None:
    """Each stream's own cut (a logit) maximising its balanced accuracy alone on validation rows with both
    streams; None when the rows hold no second stream (a one-stream model)."""
    rows = [r for r in _pixel_rows(rows) if r.get("local_logit") is not None]
    if not rows or len({r["label"] for r in rows}) < 2:
        return None
    labels = np.array([r["label"] for r in rows])
    cuts = {}
    for m in ("whole", "local"):
        p = choose_threshold(labels, sigmoid(np.array([r[f"{m}_logit"] for r in rows])))
        cuts[m] = float(np.log(max(p, 1e-12) / max(1 - p, 1e-12)))
    return cuts


def _stream_entries(rows, threshold, cuts, floor, min_per_class) -> dict:
    """For a fused model: whether its label is to be trusted where its two streams disagree (and, for the
    record, where they agree), by the kinds' criterion."""
    rule = {"streams": {"cuts": cuts}}
    split = {"disagree": [], "agree": []}
    for r in rows:
        pair = {"whole_logit": r.get("whole_logit"), "local_logit": r.get("local_logit")}
        if pair["local_logit"] is not None:
            split["disagree" if reliability.streams_disagree(rule, pair) else "agree"].append(r)
    out = {"cuts": cuts}
    for name, group in split.items():
        labels, probs = np.array([r["label"] for r in group]), np.array([r["probability"] for r in group])
        entry = _entry(labels, probs, threshold, floor, min_per_class)
        out[name] = {k: entry[k] for k in ("trusted", "real", "fake")}
    return out


def fit_rule(rows, threshold: float, *, floor: float = FLOOR, min_per_class: int = MIN_PER_CLASS, fitted_on: str = "") -> dict:
    """The rule document (`detect.reliability` reads it) from validation rows; rows of a fused model (both
    streams' logits) add its stream-disagreement entry, with each stream's cut chosen on the same rows."""
    chains = sorted({r["chain"] for r in rows})
    rows = _pixel_rows(rows)
    rule = {"threshold": float(threshold), "floor": floor, "min_per_class": min_per_class, "fitted_on": fitted_on,
            "n": len(rows), "chains": chains, "levels": {}}
    for level in LEVELS:
        groups = collections.defaultdict(list)
        for r in rows:
            groups[r[f"kind_{level}"] or "other"].append(r)
        rule["levels"][level] = {
            kind: _entry(np.array([r["label"] for r in g]), np.array([r["probability"] for r in g]), threshold, floor,
                         min_per_class)
            for kind, g in sorted(groups.items())}
    stream_cuts = fit_stream_cuts(rows)
    if stream_cuts:
        rule["streams"] = _stream_entries(rows, threshold, stream_cuts, floor, min_per_class)
    return reliability.check(rule)


def _pair(row: dict) -> dict:
    return {"whole_logit": row.get("whole_logit"), "local_logit": row.get("local_logit")}


def verdicts(rows, threshold: float, *, rule: dict | None = None, band=None, level: str = "basic") -> list[str | None]:
    """Each row's verdict (FAKE / REAL / UNSURE / None) under the rule, or under the plain band when rule is None."""
    out = []
    for r in rows:
        if r["settled"]:
            out.append("FAKE")
            continue
        p = r["probability"]
        if p is None or r["caveat"]:
            out.append(None if p is None else "UNSURE")
            continue
        if rule is not None:
            unsure = reliability.judge(rule, {"kind": r[f"kind_{level}"], "pixel_traces": level == "full"}, p,
                                       _pair(r)) is not None
        else:
            unsure = band is not None and band[0] < p < band[1]
        out.append("UNSURE" if unsure else "FAKE" if p >= threshold else "REAL")
    return out


def operating_point(rows, said) -> dict:
    """n, share answered, accuracy among answered, and confidently wrong (a wrong FAKE/REAL) as a share of all."""
    n = len(rows)
    answered = [(r, v) for r, v in zip(rows, said) if v in ("FAKE", "REAL")]
    right = sum((v == "FAKE") == (r["label"] == 1) for r, v in answered)
    return {"n": n, "answered": len(answered) / n if n else float("nan"),
            "accuracy": right / len(answered) if answered else float("nan"),
            "wrong": (len(answered) - right) / n if n else float("nan")}


def risk_coverage(rows, threshold: float, *, rule: dict | None = None, level: str = "basic"):
    """(coverage, accuracy among answered) as the margin |p - threshold| needed to answer rises: settled rows
    first, then pixel verdicts from the most confident; with a rule, its untrusted kinds are never answered."""
    keyed = []
    for r in rows:
        if r["settled"]:
            keyed.append((math.inf, True))
            continue
        p = r["probability"]
        if p is None or r["caveat"]:
            continue
        if rule is not None:
            entry = rule["levels"][level].get(r[f"kind_{level}"] or "other")
            if entry is None or not entry["trusted"]:
                continue
            if reliability.streams_disagree(rule, _pair(r)) and not rule["streams"]["disagree"]["trusted"]:
                continue
        keyed.append((abs(p - threshold), (p >= threshold) == (r["label"] == 1)))
    keyed.sort(key=lambda k: -k[0])
    right = np.cumsum([k[1] for k in keyed]) if keyed else np.zeros(0)
    answered = np.arange(1, len(keyed) + 1)
    return answered / max(len(rows), 1), right / np.maximum(answered, 1)
