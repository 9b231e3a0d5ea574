"""Whether a pixel score can be taken at its word on this kind of file: the abstention rule, at detection time.

The rule is a small JSON document stored with the model (the `abstention` key of
its calibration document), fitted on the validation split with its files also
re-made by the training chain (`synthdet_tf.evaluate.abstention`). Per file
history kind (`detect.history`), at the facts level the file was read with, it
says whether the pixel score was shown to separate real from fake on such
files, and the band around the threshold inside which it is too close to call.
A kind the rule has not seen, or saw with one class only, is not trusted:
nothing shows the score tells the classes apart there.
"""

import math

# How each history kind reads in a reason, after "pixel evidence unreliable on".
KIND_PHRASES = {
    "camera_jpeg": "camera JPEGs",
    "software_jpeg": "JPEGs saved by software (no camera data)",
    "recompressed_jpeg": "JPEGs compressed twice",
    "png_from_jpeg": "lossless files that were JPEGs before",
    "resized": "resized files",
    "lossless": "lossless files (PNG, lossless WebP, ...)",
    "other": "files of this kind (palette, lossy WebP, other formats)",
}


def level_of(history: dict | None) -> str:
    return "full" if (history or {}).get("pixel_traces") else "basic"


def _counts(entry: dict) -> str:
    real, fake = entry["real"], entry["fake"]
    return f"{real['right']} of {real['n']} real and {fake['right']} of {fake['n']} fake right"


def _shown(entry: dict) -> str:
    return f"on validation files re-made as training re-makes them, {_counts(entry)}"


def untrusted_reason(kind: str, entry: dict | None) -> str:
    phrase = KIND_PHRASES.get(kind, f"files of kind {kind}")
    if entry is None or min(entry["real"]["n"], entry["fake"]["n"]) == 0:
        missing = "no such files" if entry is None else "no " + ("real" if entry["real"]["n"] == 0 else "fake") + " ones"
        return f"pixel score not shown to work on {phrase}: validation has {missing}"
    return f"pixel evidence unreliable on {phrase} ({_shown(entry)})"


def streams_disagree(rule: dict, streams: dict | None) -> str | None:
    """"FAKE vs REAL" when a fused model's two streams call the file differently at their own thresholds, else None."""
    cuts = (rule.get("streams") or {}).get("cuts")
    if not cuts or not streams or streams.get("local_logit") is None:
        return None
    calls = ["FAKE" if streams[f"{m}_logit"] >= cuts[m] else "REAL" for m in ("whole", "local")]
    return None if calls[0] == calls[1] else f"whole image {calls[0]}, local crops {calls[1]}"


def judge(rule: dict | None, history: dict | None, probability: float | None, streams: dict | None = None) -> str | None:
    """The reason to answer UNSURE on this file, or None to give the pixel verdict. No rule: never abstains here
    (the model's plain band, if any, still applies in the caller)."""
    if not rule or probability is None or history is None or math.isnan(probability):
        return None
    kind = history.get("kind") or "other"
    entry = rule["levels"].get(level_of(history), {}).get(kind)
    if entry is None or not entry["trusted"]:
        return untrusted_reason(kind, entry)
    apart = streams_disagree(rule, streams)
    if apart and not rule["streams"]["disagree"]["trusted"]:
        return (f"the two streams disagree ({apart}): on validation, where they disagree "
                f"{_counts(rule['streams']['disagree'])}")
    low, high = entry["band"]
    if low < probability < high:
        return (f"pixel score {probability:.2f} too close to call on {KIND_PHRASES.get(kind, kind)} "
                f"(band {low:.2f}-{high:.2f}, chosen on validation)")
    return None


def trust_line(rule: dict | None, history: dict | None) -> str:
    """One line on how far the pixel score is trusted on this file's kind, for the app's "why" panel."""
    if not rule:
        return "the model carries no abstention rule: its plain band around the threshold applies to every file"
    kind = (history or {}).get("kind") or "other"
    entry = rule["levels"].get(level_of(history), {}).get(kind)
    if entry is None or not entry["trusted"]:
        return "not trusted: " + untrusted_reason(kind, entry)
    low, high = entry["band"]
    return f"trusted on {KIND_PHRASES.get(kind, kind)} ({_shown(entry)}); UNSURE between {low:.2f} and {high:.2f}"


def check(rule: dict) -> dict:
    """`rule` if it has the shape `judge` reads, else ValueError: a damaged file must not silently trust all."""
    try:
        for level, table in rule["levels"].items():
            for kind, entry in table.items():
                bool(entry["trusted"]), float(entry["band"][0]), float(entry["band"][1])
                int(entry["real"]["n"]), int(entry["fake"]["n"])
        if rule.get("streams"):
            float(rule["streams"]["cuts"]["whole"]), float(rule["streams"]["cuts"]["local"])
            bool(rule["streams"]["disagree"]["trusted"]), int(rule["streams"]["disagree"]["real"]["n"])
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise ValueError(f"abstention rule is damaged ({type(e).__name__}: {e}); refit it with synthdet-abstain") from e
    return rule
