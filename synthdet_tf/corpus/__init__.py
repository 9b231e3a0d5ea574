"""Building corpora: folders (and TFRecord shards) that training later reads.

`sources` (the pinned list, `sources.toml`), `gitstore` (files from git object
stores), `dedupe` (exact and near duplicates), `assemble` (the wide corpus),
`shard_writer` (TFRecord shards on Beam) and `sample` (a small folder from
bundled images). Reading folders into tf.data is `synthdet_tf.data`'s job;
corpus may import data, data never imports corpus.
"""
