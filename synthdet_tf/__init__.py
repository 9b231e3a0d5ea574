"""synthdet: tell AI-generated (FAKE) images from real photographs (REAL).

Labels are REAL = 0 and FAKE = 1 everywhere.
"""

__version__ = "0.1.0"


def __getattr__(name):
    # Lazy, so `import synthdet_tf` stays cheap (no TensorFlow until needed).
    if name == "Detector":
        from synthdet_tf.detect.detector import Detector

        return Detector
    raise AttributeError(f"module 'synthdet_tf' has no attribute {name!r}")
