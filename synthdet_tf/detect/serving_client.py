"""Clients for a synthdet model running in TF Serving (REST and gRPC).

    docker run -p 8501:8501 -p 8500:8500 \\
      -v "$PWD/exported/synthdet:/models/synthdet" -e MODEL_NAME=synthdet tensorflow/serving
    synthdet-serve-client --rest=http://localhost:8501 photo.jpg
    synthdet-serve-client --grpc=localhost:8500 photo.jpg

REST sends `{"signature_name": "serving_default", "instances": [{"image_bytes":
{"b64": "..."}}]}`; TF Serving base64-decodes each `{"b64": ...}` into a
DT_STRING element, which is what the exported `serving_default` takes.
"""

import base64
import json
import urllib.request

import numpy as np

SIGNATURE = "serving_default"
INPUT = "image_bytes"


def servable_bytes(contents: bytes) -> bytes:
    """The file as the served graph can decode it: formats TF cannot decode (HEIC, AVIF, TIFF,
    JPEG XL) are decoded here the way training decoded them and sent as lossless PNG."""
    import io

    from PIL import Image

    from synthdet_tf.data.pillow_io import TF_FORMATS, decode_rgb, probe

    if probe(contents, verify=False).format in TF_FORMATS:
        return contents
    buf = io.BytesIO()
    Image.fromarray(decode_rgb("", contents)).save(buf, "PNG")
    return buf.getvalue()


def rest_body(images: list[bytes], signature: str = SIGNATURE) -> str:
    """The JSON body of a REST :predict request (TF Serving's row format)."""
    instances = [{INPUT: {"b64": base64.b64encode(b).decode("ascii")}} for b in images]
    return json.dumps({"signature_name": signature, "instances": instances})


def decode_rest_body(body: str) -> tuple[str, dict]:
    """What TF Serving makes of a row-format body: (signature, {input name: np.ndarray}).

    Follows TF Serving's JSON rules (tensorflow_serving/util/json_tensor.cc):
    each instance is an object keyed by input name (or a bare value when the
    signature has one input); `{"b64": s}` is a base64-encoded string element;
    instances are stacked along a new batch dimension.
    """
    request = json.loads(body)
    signature = request.get("signature_name", SIGNATURE)
    if "instances" not in request:
        raise ValueError('Missing "instances" (only the row format is used by synthdet)')
    columns: dict = {}
    for instance in request["instances"]:
        named = instance if isinstance(instance, dict) and "b64" not in instance else {INPUT: instance}
        for name, value in named.items():
            if isinstance(value, dict):
                if set(value) != {"b64"}:
                    raise ValueError(f"An object value must be {{'b64': ...}}, got keys {sorted(value)}")
                value = base64.b64decode(value["b64"], validate=True)
            columns.setdefault(name, []).append(value)
    if len({len(v) for v in columns.values()}) > 1:
        raise ValueError("Every instance must carry every input")
    return signature, {k: np.array(v, dtype=object) for k, v in columns.items()}


def predict_rest(url: str, images: list[bytes], model: str = "synthdet", version: int | None = None, timeout: float = 60.0) -> dict:
    """POST to <url>/v1/models/<model>[/versions/<v>]:predict; returns the parsed "predictions"."""
    path = f"{url.rstrip('/')}/v1/models/{model}" + (f"/versions/{version}" if version else "") + ":predict"
    req = urllib.request.Request(path, data=rest_body(images).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as response:
        return json.loads(response.read())["predictions"]


def grpc_request(images: list[bytes], model: str = "synthdet", version: int | None = None):
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    request.model_spec.signature_name = SIGNATURE
    if version:
        request.model_spec.version.value = version
    request.inputs[INPUT].CopyFrom(tf.make_tensor_proto(images, dtype=tf.string, shape=[len(images)]))
    return request


def predict_grpc(target: str, images: list[bytes], model: str = "synthdet", version: int | None = None, timeout: float = 60.0) -> list[dict]:
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    with grpc.insecure_channel(target, options=[("grpc.max_send_message_length", 64 * 1024 * 1024)]) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        response = stub.Predict(grpc_request(images, model, version), timeout=timeout)
    out = {k: tf.make_ndarray(v) for k, v in response.outputs.items()}
    return [
        {"fake_probability": float(p), "logit": float(lg), "label": lb.decode() if isinstance(lb, bytes) else str(lb)}
        for p, lg, lb in zip(out["fake_probability"], out["logit"], out["label"])
    ]


def with_facts(contents: bytes, prediction: dict, facts: str = "basic", calibration: dict | None = None) -> dict:
    """A served model's prediction plus what the file says about itself, and the verdict detect would give.

    The facts are read here, from the file as stored, since the served model sees pixels only. The served
    model returns no band or rule; `calibration`, the served model's own document (its
    assets/calibration.json), brings them, so the verdict is detect's: without it UNSURE comes only from a caveat.
    """
    from synthdet_tf.data.pillow_io import probe
    from synthdet_tf.detect.abstain import judged
    from synthdet_tf.detect.facts import read_facts
    from synthdet_tf.detect.reliability import check

    try:
        info = probe(contents)
    except Exception:
        info = None
    facts = read_facts(contents, info, facts)
    label = prediction.get("label")
    label = label.decode() if isinstance(label, bytes) else label
    calibration = calibration or {}
    rule = check(calibration["abstention"]) if calibration.get("abstention") else None
    verdict, reason = judged(label, prediction.get("fake_probability") if label else None, facts.provenance,
                             facts.history, facts.caveat, facts.marks, band=calibration.get("unsure_band"), rule=rule)
    return {**prediction, "verdict": verdict, "verdict_reason": reason, **facts.to_dict()}
