"""The `synthdet-scan` Beam pipeline: match, read, check, RunInference, write.

Every matched file ends as exactly one result row (scored, or with `error`
set); unreadable files also go to the dead-letter output with the reason, so
a summary reconciles matched = scored + failed. Output names are fixed by the
shard count, so a re-run replaces its own files.
"""

import dataclasses
import json

import apache_beam as beam
import numpy as np
from apache_beam.io import fileio
from apache_beam.io.filesystem import FileMetadata
from apache_beam.ml.inference.base import KeyedModelHandler, RunInference

from synthdet_tf.scan.handler import SynthdetModelHandler

HISTOGRAM_BINS = 10
# Every result row, JSONL and Parquet alike, has exactly these columns in this order.
COLUMNS = ("path", "fake_probability", "logit", "label", "threshold", "model", "version", "crops", "error",
           "verdict", "verdict_reason", "provenance", "history", "marks")


@dataclasses.dataclass(frozen=True)
class ScanSettings:
    model_path: str
    spec: dict  # PreprocessSpec.to_dict() of the model
    threshold: float
    unsure_band: tuple | None
    abstention: dict | None  # the model's per-history abstention rule (detect.reliability), when it has one
    model: str  # model name and version, as they go into every row
    version: str
    crops: int = 0  # 0: the model's own tiling (spec.crops)
    scores_files: bool = False  # a fused model: the handler gets the file's bytes, not views
    max_pixels: int = 64_000_000
    facts: str = "basic"  # detect.facts level: "full" adds pixel traces and open watermarks
    batch_size: int = 32
    num_shards: int = 4


class PrepareViews(beam.DoFn):
    """(path, bytes) -> (path, views), or a dead letter {"path", "error"} on the `failed` output."""

    def __init__(self, settings: ScanSettings):
        self.settings = settings

    def setup(self):
        from synthdet_tf.preprocess import PreprocessSpec

        self.spec = PreprocessSpec.from_dict(self.settings.spec)

    def process(self, element):
        from synthdet_tf.data.pillow_io import probe
        from synthdet_tf.detect.facts import read_facts
        from synthdet_tf.detect.views import model_views

        path, contents = element
        info = None
        try:
            info = probe(contents, max_pixels=self.settings.max_pixels)  # bad files go to the dead letters
            facts = _facts_json(read_facts(contents, info, self.settings.facts))
            # The key carries the facts past RunInference, which sees only the views.
            key = (path, facts)
            if self.settings.scores_files:
                yield key, [contents]
            else:
                yield key, model_views(contents, self.spec, self.settings.crops, self.settings.max_pixels, info=info)
        except Exception as e:  # one bad file must not stop the others
            facts = _facts_json(read_facts(contents, info, self.settings.facts))
            yield beam.pvalue.TaggedOutput("failed", {"path": path, "facts": facts,
                                                      "error": f"{type(e).__name__}: {e}".splitlines()[0][:300]})


def _facts_json(facts) -> str:
    """FileFacts as one JSON string (Beam keys must be hashable): the row's columns and the verdict's inputs."""
    return json.dumps({**facts.to_dict(), "caveat": facts.caveat})


class CheckKind(beam.DoFn):
    """Matched file metadata -> on to reading, or a dead letter for a local path that is not a regular file.

    Beam's match lists a FIFO named *.jpg like any file, and reading it would block the scan forever.
    """

    def process(self, metadata):
        from synthdet_tf.detect.files import kind_problem

        problem = None if "://" in metadata.path else kind_problem(metadata.path)
        if problem:
            yield beam.pvalue.TaggedOutput("failed", {"path": metadata.path, "facts": None, "error": problem})
        else:
            yield metadata


def read_file(readable) -> tuple[str, bytes]:
    return readable.metadata.path, readable.read()


def _decided(label, facts_json, prob=None, band=None, rule=None, streams=None) -> tuple:
    """(verdict, reason, provenance, history, marks) from a row's facts, as Detector decides them."""
    from synthdet_tf.detect.abstain import judged
    from synthdet_tf.detect.provenance import Provenance

    f = json.loads(facts_json) if facts_json else {}
    provenance = Provenance(**f["provenance"]) if f.get("provenance") else None
    decided, why = judged(label, prob, provenance, f.get("history"), f.get("caveat"), f.get("marks") or (), band=band,
                          rule=rule, streams=streams)
    as_json = lambda v: json.dumps(v) if v is not None else None  # noqa: E731
    return decided, why, as_json(f.get("provenance")), as_json(f.get("history")), as_json(f.get("marks"))


def scored_row(item, settings: ScanSettings) -> dict:
    (path, facts), prediction = item
    p = prediction.inference
    label = "FAKE" if p["fake_probability"] >= settings.threshold else "REAL"
    decided, why, provenance, history, marks = _decided(label, facts, p["fake_probability"], settings.unsure_band,
                                                        settings.abstention, p.get("streams"))
    return {"path": path, "fake_probability": p["fake_probability"], "logit": p["logit"], "label": label,
            "threshold": settings.threshold, "model": settings.model, "version": settings.version, "crops": p["crops"],
            "error": None, "verdict": decided, "verdict_reason": why, "provenance": provenance, "history": history,
            "marks": marks}


def failed_row(dead: dict, settings: ScanSettings) -> dict:
    decided, why, provenance, history, marks = _decided(None, dead["facts"])
    return {"path": dead["path"], "fake_probability": None, "logit": None, "label": None, "threshold": settings.threshold,
            "model": settings.model, "version": settings.version, "crops": 0, "error": dead["error"],
            "verdict": decided, "verdict_reason": why, "provenance": provenance, "history": history, "marks": marks}


class SummaryFn(beam.CombineFn):
    """Counts, label counts, failure reasons and a histogram of fake probabilities."""

    def create_accumulator(self):
        return {"results": 0, "scored": 0, "failed": 0, "declared_ai": 0, "labels": {}, "verdicts": {}, "reasons": {},
                "histogram": [0] * HISTOGRAM_BINS}

    def add_input(self, acc, row):
        acc["results"] += 1
        acc["declared_ai"] += int(row["verdict_reason"].startswith("declared"))
        acc["verdicts"][str(row["verdict"])] = acc["verdicts"].get(str(row["verdict"]), 0) + 1
        if row["error"]:
            acc["failed"] += 1
            reason = row["error"].split(":", 1)[0] + ": " + row["error"].split(":", 1)[-1].strip().split(" (")[0][:60]
            acc["reasons"][reason] = acc["reasons"].get(reason, 0) + 1
        else:
            acc["scored"] += 1
            acc["labels"][row["label"]] = acc["labels"].get(row["label"], 0) + 1
            acc["histogram"][min(int(row["fake_probability"] * HISTOGRAM_BINS), HISTOGRAM_BINS - 1)] += 1
        return acc

    def merge_accumulators(self, accs):
        out = self.create_accumulator()
        for a in accs:
            for k in ("results", "scored", "failed", "declared_ai"):
                out[k] += a[k]
            for k in ("labels", "verdicts", "reasons"):
                for key, n in a[k].items():
                    out[k][key] = out[k].get(key, 0) + n
            out["histogram"] = list(np.add(out["histogram"], a["histogram"]).astype(int).tolist())
        return out

    def extract_output(self, acc):
        return acc


def parquet_schema():
    import pyarrow as pa

    return pa.schema([("path", pa.string()), ("fake_probability", pa.float64()), ("logit", pa.float64()),
                      ("label", pa.string()), ("threshold", pa.float64()), ("model", pa.string()),
                      ("version", pa.string()), ("crops", pa.int64()), ("error", pa.string()),
                      ("verdict", pa.string()), ("verdict_reason", pa.string()), ("provenance", pa.string()),
                      ("history", pa.string()), ("marks", pa.string())])


def build(p, patterns: list[str], output: str, settings: ScanSettings, skipped=()):
    """Adds the scan to pipeline `p`; writes results-*.jsonl / .parquet, failed-*.jsonl, counts.json under `output`.

    `skipped`: [(path, why)] the caller found that Beam's match leaves out (links that loop or point nowhere).
    """
    matches = p | "Patterns" >> beam.Create(patterns) | "Match" >> fileio.MatchAll()
    # Beam infers a union with TaggedOutput from `process` and ReadMatches refuses it; the main output is metadata.
    kinds = matches | "Kind" >> beam.ParDo(CheckKind()).with_output_types(FileMetadata).with_outputs("failed", main="ok")
    files = kinds.ok | "Read" >> fileio.ReadMatches() | "Bytes" >> beam.Map(read_file)
    prepared = files | "Views" >> beam.ParDo(PrepareViews(settings)).with_outputs("failed", main="ok")
    handler = KeyedModelHandler(SynthdetModelHandler(settings.model_path, max_batch_size=settings.batch_size))
    scored = prepared.ok | "Infer" >> RunInference(handler) | "Scored" >> beam.Map(scored_row, settings)
    links = p | "Links" >> beam.Create([{"path": path, "facts": None, "error": why} for path, why in skipped])
    dead = (prepared.failed, kinds.failed, links) | "Dead" >> beam.Flatten()
    failed = dead | "Failed" >> beam.Map(failed_row, settings)
    rows = (scored, failed) | "All" >> beam.Flatten()
    shards = dict(num_shards=settings.num_shards, shard_name_template="-SSSSS-of-NNNNN")
    _ = rows | "Json" >> beam.Map(json.dumps) | "WriteJsonl" >> beam.io.WriteToText(f"{output}/results", file_name_suffix=".jsonl", **shards)
    _ = rows | "WriteParquet" >> beam.io.WriteToParquet(f"{output}/results", parquet_schema(), file_name_suffix=".parquet", **shards)
    _ = (dead | "DeadJson" >> beam.Map(lambda d: json.dumps({"path": d["path"], "error": d["error"]}))
         | "WriteDead" >> beam.io.WriteToText(f"{output}/failed", file_name_suffix=".jsonl", **shards))
    matched = ((matches | "CountMatched" >> beam.combiners.Count.Globally())
               | "WithLinks" >> beam.Map(lambda n: n + len(skipped)))
    _ = (rows | "Summary" >> beam.CombineGlobally(SummaryFn())
         | "WithMatched" >> beam.Map(lambda s, m: {"matched": m, **s}, beam.pvalue.AsSingleton(matched))
         | "SummaryJson" >> beam.Map(json.dumps)
         | "WriteCounts" >> beam.io.WriteToText(f"{output}/counts", file_name_suffix=".json", num_shards=1, shard_name_template=""))
    return rows
