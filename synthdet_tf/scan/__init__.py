"""Batch scanning on Apache Beam (`synthdet-scan`; optional extra `[beam]`).

    files --MatchAll--> ReadMatches --> (path, bytes) --model_views--> RunInference --> JSONL + Parquet
                                                  \\--> dead letters (path, reason)

Beam does the distribution (its local FnApiRunner here; Dataflow, Flink or Spark
there); synthdet supplies the model handler and the one preprocessing
definition (`synthdet_tf.detect.views`), imported by `Detector` too.
"""
