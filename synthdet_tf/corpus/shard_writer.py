"""`synthdet-data shard`: discovery once, then a Beam pipeline writes the TFRecord shards.

Needs the `[beam]` extra. Local here (FnApiRunner, see beam_options); the same pipeline
runs on Dataflow, Flink or Spark with their pipeline options, reading and
writing any Beam filesystem.
"""

import json
import os

import apache_beam as beam
import tensorflow as tf
from apache_beam.io.filesystems import FileSystems

from synthdet_tf.beam_options import pipeline_options
from synthdet_tf.data import shards
from synthdet_tf.data.discovery import SPLITS, discover


def _example(row: dict) -> bytes:
    with FileSystems.open(row["path"]) as f:
        return shards.example(row, f.read())


def write(data_dir, out: str, *, num_shards: int = 16, beam_args=(), overwrite: bool = False,
          fractions=(0.8, 0.1, 0.1), salt: str = "", source_from: str = "auto", progress: bool = False) -> dict:
    """Shards every usable image below data_dir (one folder or several) into `out`; returns the counts."""
    if tf.io.gfile.exists(os.path.join(out, shards.SHARDS_FILE)) and not overwrite:
        raise FileExistsError(f"{out} already holds shards; pass --overwrite to replace them")
    found = discover(data_dir, fractions=fractions, salt=salt, source_from=source_from, progress=progress)
    if not found.records:
        raise ValueError(f"No usable images in {data_dir}")
    tf.io.gfile.makedirs(out)
    for name in (shards.SHARDS_FILE, shards.INDEX_FILE):  # an interrupted re-run must not look complete
        if tf.io.gfile.exists(os.path.join(out, name)):
            tf.io.gfile.remove(os.path.join(out, name))
    for old in tf.io.gfile.glob(os.path.join(out, "*.tfrecord")):
        tf.io.gfile.remove(old)
    rows = [{**shards.record_to_json(r), "path": r.path} for r in found.records]
    with beam.Pipeline(options=pipeline_options(beam_args)) as p:
        examples = p | "Records" >> beam.Create(rows) | "Spread" >> beam.Reshuffle()
        for split in SPLITS:
            n = sum(1 for r in rows if r["split"] == split)
            if not n:
                continue
            _ = (examples | f"Only{split}" >> beam.Filter(lambda r, s=split: r["split"] == s)
                 | f"Example{split}" >> beam.Map(_example)
                 | f"Write{split}" >> beam.io.WriteToTFRecord(os.path.join(out, split), file_name_suffix=".tfrecord",
                                                              num_shards=max(1, min(num_shards, n))))
    with tf.io.gfile.GFile(os.path.join(out, shards.INDEX_FILE), "w") as f:
        for r in found.records:
            f.write(json.dumps(shards.record_to_json(r)) + "\n")
    counts = {s: sum(1 for r in found.records if r.split == s) for s in SPLITS}
    meta = {"data_dir": found.root, "fractions": list(fractions), "salt": salt, "source_from": source_from,
            "records": len(found.records), "splits": counts, "skipped": [vars(s) for s in found.skipped]}
    # Written last: its presence says the shards are complete.
    with tf.io.gfile.GFile(os.path.join(out, shards.SHARDS_FILE), "w") as f:
        json.dump(meta, f, indent=2)
    return meta
