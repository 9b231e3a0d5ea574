"""synthdet-serve-client: score images with a synthdet model running in TF Serving.

    docker run -p 8501:8501 -p 8500:8500 \\
      -v "$PWD/exported/synthdet:/models/synthdet" -e MODEL_NAME=synthdet tensorflow/serving
    synthdet-serve-client --rest=http://localhost:8501 photo.jpg other.png
    synthdet-serve-client --grpc=localhost:8500 photo.jpg

The images are sent as they are stored (bytes); decoding and preprocessing
run inside the served model. Each line adds what detect shows beside the
score: the verdict and its reason, provenance, the file's history and any
open watermark, read here from the file as stored.
"""

import json

from absl import app, flags

from synthdet_scripts import _cli

_REST = flags.DEFINE_string("rest", None, "TF Serving REST address, e.g. http://localhost:8501.")
_GRPC = flags.DEFINE_string("grpc", None, "TF Serving gRPC address, e.g. localhost:8500.")
_MODEL = flags.DEFINE_string("model_name", "synthdet", "TF Serving model name.")
_VERSION = flags.DEFINE_integer("version", None, "Model version (default: the newest served).")
_FACTS = flags.DEFINE_enum("facts", "basic", ["basic", "full"], "basic: provenance and header history; full: also "
                           "pixel traces and open watermarks (slower).")
_CALIBRATION = flags.DEFINE_string("calibration", None, "The served model's calibration document (its "
                                   "assets/calibration.json): with it UNSURE follows the model's band and abstention "
                                   "rule, as in synthdet-detect; without it only an image too small is UNSURE.")


def main(argv):
    if len(argv) < 2 or bool(_REST.value) == bool(_GRPC.value):
        raise app.UsageError("usage: synthdet-serve-client (--rest=URL | --grpc=HOST:PORT) IMAGE [IMAGE ...]")
    from synthdet_tf.detect import calibration, serving_client

    doc = calibration.load(_CALIBRATION.value) if _CALIBRATION.value else None

    originals, images = [], []
    for path in argv[1:]:
        with open(path, "rb") as f:
            originals.append(f.read())
        images.append(serving_client.servable_bytes(originals[-1]))  # HEIC, AVIF, TIFF, JPEG XL -> PNG
    if _REST.value:
        predictions = serving_client.predict_rest(_REST.value, images, _MODEL.value, _VERSION.value)
    else:
        predictions = serving_client.predict_grpc(_GRPC.value, images, _MODEL.value, _VERSION.value)
    for path, contents, p in zip(argv[1:], originals, predictions):
        # verdict, its reason, provenance, history and marks, read from the file as stored
        print(json.dumps({"path": path, **serving_client.with_facts(contents, p, _FACTS.value, doc)}, default=str))


def run():
    _cli.run(main, __name__)


if __name__ == "__main__":
    run()
