"""TF Serving warmup records: `assets.extra/tf_serving_warmup_requests`.

TF Serving replays these PredictionLog records when it loads a version, so
the first real request does not pay for graph tracing and memory set-up.
"""

import os

import tensorflow as tf


def predict_request(images: list[bytes], model_name: str, signature: str = "serving_default"):
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature
    request.inputs["image_bytes"].CopyFrom(tf.make_tensor_proto(images, dtype=tf.string, shape=[len(images)]))
    return request


def write(path: str, images: list[bytes], model_name: str) -> None:
    from tensorflow_serving.apis import prediction_log_pb2

    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for batch in ([images[0]], list(images)):
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=predict_request(batch, model_name))
            )
            writer.write(log.SerializeToString())


def read(path: str):
    from tensorflow_serving.apis import prediction_log_pb2

    logs = []
    for record in tf.data.TFRecordDataset(path):
        log = prediction_log_pb2.PredictionLog()
        log.ParseFromString(record.numpy())
        logs.append(log)
    return logs
