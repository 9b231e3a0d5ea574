"""A folder corpus as TFRecord shards of the original bytes, written by Apache Beam.

    synthdet-data shard --data_dir=../shared/data/dev,runs/wide --out=runs/shards [--num_shards=16] [beam options]

Discovery runs once, here (every file checked, bad files skipped with their
reason, the folder path's splits kept); the checked records go to
`index.jsonl` and each file's untouched bytes, label, source, family and split
into `<split>-SSSSS-of-NNNNN.tfrecord`. Training and evaluation then read the
shards (local or remote paths, interleaved) instead of millions of small
files: `discover(<shard folder>)` returns the same records as the folder path,
and `make_dataset` reads their bytes from the shards.
"""

import dataclasses
import json
import os

import tensorflow as tf

from synthdet_tf.data.records import Discovery, Record
from synthdet_tf.data.pillow_io import ImageInfo

SHARDS_FILE = "SHARDS.json"
INDEX_FILE = "index.jsonl"
FEATURES = {
    "image": tf.io.FixedLenFeature([], tf.string),
    "label": tf.io.FixedLenFeature([], tf.int64),
    "relpath": tf.io.FixedLenFeature([], tf.string),
    "needs_pillow": tf.io.FixedLenFeature([], tf.int64),
}


def is_shard_folder(path: str) -> bool:
    return tf.io.gfile.exists(os.path.join(path, SHARDS_FILE))


def record_to_json(r: Record) -> dict:
    return {"relpath": r.relpath, "label": r.label, "source": r.source, "split": r.split, "family": r.family,
            "content": r.content, "info": dataclasses.asdict(r.info)}


def example(row: dict, contents: bytes) -> bytes:
    """One tf.train.Example: the file's bytes as stored, with its label and where it came from."""
    def b(v):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[v.encode() if isinstance(v, str) else v]))

    def i(v):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v)]))

    feats = {"image": b(contents), "label": i(row["label"]), "relpath": b(row["relpath"]), "source": b(row["source"]),
             "family": b(row["family"]), "split": b(row["split"]), "needs_pillow": i(row["info"]["needs_pillow"])}
    return tf.train.Example(features=tf.train.Features(feature=feats)).SerializeToString()


SPLIT_SETTINGS = ("fractions", "salt", "source_from")


def load(folder: str, **kwargs) -> Discovery:
    """The records of a shard folder, as discovery found them when it was written.

    Split settings in `kwargs` (as `discover` takes them) must be the ones the
    shards were written with: the split is fixed in them.
    """
    with tf.io.gfile.GFile(os.path.join(folder, SHARDS_FILE)) as f:
        meta = json.load(f)
    for key in SPLIT_SETTINGS:
        if key in kwargs and kwargs[key] is not None and _norm(kwargs[key]) != _norm(meta[key]):
            raise ValueError(f"{folder} was sharded with {key}={meta[key]!r}, not {kwargs[key]!r}; shard again to change the split")
    records = []
    with tf.io.gfile.GFile(os.path.join(folder, INDEX_FILE)) as f:
        for line in f:
            row = json.loads(line)
            records.append(Record(relpath=row["relpath"], path=shard_path(folder, row["relpath"]), label=row["label"],
                                  source=row["source"], split=row["split"], info=ImageInfo(**row["info"]),
                                  family=row["family"], content=row["content"]))
    return Discovery(root=folder, records=records, skipped=[], manifest=None)


def _norm(value):
    return [float(v) for v in value] if isinstance(value, (list, tuple)) else value


def shard_path(folder: str, relpath: str) -> str:
    """A record's `path` in a shard folder: not a file, a key into the shards (see `is_shard_record`)."""
    return f"{folder}#{relpath}"


def is_shard_record(record) -> bool:
    return "#" in record.path and is_shard_folder(record.path.split("#", 1)[0])


def shard_files(folder: str, splits) -> list[str]:
    return sorted(f for s in sorted(set(splits)) for f in tf.io.gfile.glob(os.path.join(folder, f"{s}-*.tfrecord")))


def parsed(folder: str, splits, *, cycle_length: int = 4):
    """(bytes, label, relpath, needs_pillow) of every example in `splits`' shards, read interleaved."""
    files = shard_files(folder, splits)
    if not files:
        raise FileNotFoundError(f"No shards for splits {sorted(set(splits))} in {folder}")
    ds = tf.data.Dataset.from_tensor_slices(files).interleave(
        lambda f: tf.data.TFRecordDataset(f, buffer_size=8 << 20), cycle_length=min(cycle_length, len(files)),
        num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    # Parsing a batch at a time costs a fraction of parsing each example alone.
    return ds.batch(64).map(lambda s: tf.io.parse_example(s, FEATURES), num_parallel_calls=tf.data.AUTOTUNE).unbatch()
