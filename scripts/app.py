"""synthdet-app: a local web page to check images by eye (needs the `[app]` extra).

    synthdet-app                                   # the shipped model on http://127.0.0.1:7860
    synthdet-app --model=runs/lite0 --port=8080    # a training run: Grad-CAM straight from Keras

Binds 127.0.0.1 unless --host says otherwise; sends nothing anywhere (Gradio's analytics are off).
"""

import os

from absl import app, flags

from synthdet_scripts import _cli

_HOST = flags.DEFINE_string("host", "127.0.0.1", "Interface to bind (0.0.0.0 exposes the page to your network).")
_PORT = flags.DEFINE_integer("port", 7860, "Port.")
_MODEL = flags.DEFINE_string("model", None, "Workdir, .keras, SavedModel dir or .tflite (default: the shipped model).")


def model_label(detector) -> str:
    from synthdet_tf.detect.detector import model_identity

    name, version = model_identity(detector.backend.path)
    return f"{name} v{version}" if version else name


def import_page():
    """(build, launch) from synthdet_tf.app.ui, or a one-line reason why not."""
    return _cli.import_extra("synthdet_tf.app.ui", ("build", "launch"), "gradio", "app", "synthdet-app")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported
    build, launch = import_page()
    from synthdet_tf.detect.detector import Detector

    detector = Detector.load(_MODEL.value)
    demo = build(detector, model_label(detector))
    launch(demo, _HOST.value, _PORT.value)


def run():
    _cli.run(main, __name__)


if __name__ == "__main__":
    run()
