"""One file -> everything the page shows about it. No Gradio here, so it is testable alone.

The pixel score comes from `Detector` (the one preprocessing definition); the
heatmap is Grad-CAM on the view the model scored; large images also get their
native-resolution crops scored, drawn on the image as context. Provenance and
file facts are shown beside the score and never change it, except that a file
declaring AI generation gets the verdict FAKE with that reason.
"""

import dataclasses
import io

import numpy as np
from PIL import Image, ImageDraw

from synthdet_tf.detect.views import crop_boxes, model_views, read_bytes

GRID_CROPS = 9


@dataclasses.dataclass
class Analysis:
    name: str
    result: dict  # Detector's Result as a dict (pixel label, probability, verdict, provenance, error)
    facts: dict = dataclasses.field(default_factory=dict)
    heatmap: Image.Image | None = None  # overlay on the model's view
    crops: Image.Image | None = None  # per-crop scores drawn on the image
    crop_scores: list = dataclasses.field(default_factory=list)
    heatmap_note: str = ""


def heatmap_of(backend, view: np.ndarray, threshold: float, temperature: float) -> np.ndarray | None:
    """Grad-CAM [S, S] in [0, 1] for a Keras model, or a SavedModel with `explain_images`; else None."""
    from synthdet_tf.detect.explain import cam_model, grad_cam, logit_of

    if backend.kind == "fused":  # the whole-image member explains its own view
        backend = backend.whole
    if backend.kind == "keras":
        if not hasattr(backend, "_cam_model"):
            backend._cam_model = cam_model(backend.model)
        cam, _ = grad_cam(backend._cam_model, view[None], logit_of(threshold, temperature))
        return cam.numpy()[0]
    signatures = getattr(getattr(backend, "loaded", None), "signatures", {})
    if "explain_images" in signatures:
        import tensorflow as tf

        return signatures["explain_images"](images=tf.constant(view[None]))["heatmap"].numpy()[0]
    return None


def overlay(view: np.ndarray, cam: np.ndarray, size: int = 448) -> Image.Image:
    """The heatmap (red = more evidence for the verdict) over the model's view, enlarged for the page."""
    import matplotlib

    colours = (matplotlib.colormaps["inferno"](cam)[..., :3] * 255).astype(np.uint8)
    blend = (0.55 * view.astype(np.float32) + 0.45 * colours.astype(np.float32)).astype(np.uint8)
    return Image.fromarray(blend).resize((size, size), Image.NEAREST)


def file_facts(contents: bytes) -> dict:
    from synthdet_tf.data.pillow_io import probe

    try:
        info = probe(contents, verify=False)
    except Exception as e:
        return {"bytes": len(contents), "problem": str(e)}
    facts = {"format": info.format, "size": f"{info.width} x {info.height}", "mode": info.mode, "bytes": len(contents)}
    if info.jpeg_quality:
        facts["JPEG quality (estimated)"] = info.jpeg_quality
    return facts


def crop_grid(detector, contents: bytes, k: int = GRID_CROPS):
    """(image with each native crop's score drawn on it, [(box, probability)]) for images >= 2 x the input size.

    A fused detector shows its local stream's own grid (the crops that stream
    scored, each at the local model's probability, FAKE from 0.5).
    """
    from synthdet_tf.data.pillow_io import decode_rgb
    from synthdet_tf.detect.calibration import sigmoid

    member = getattr(detector.backend, "local", None)
    scorer, cut, temperature = (member, 0.5, 1.0) if member else (detector.backend, detector.threshold, detector.temperature)
    s = scorer.spec.image_size
    k = scorer.spec.crops if scorer.spec.crops > 1 else k
    image = decode_rgb("", contents)
    h, w = image.shape[:2]
    if min(h, w) < 2 * s:
        return None, []
    boxes = crop_boxes(h, w, s, k)
    views = np.stack([image[t : t + s, l : l + s] for t, l in boxes])
    probs = sigmoid(scorer.logits(views), temperature)
    canvas = Image.fromarray(image)
    draw = ImageDraw.Draw(canvas)
    width = max(2, min(h, w) // 150)
    for (t, l), p in zip(boxes, probs):
        colour = (220, 40, 40) if p >= cut else (40, 160, 60)
        draw.rectangle([l, t, l + s - 1, t + s - 1], outline=colour, width=width)
        draw.text((l + 2 * width, t + 2 * width), f"{p:.2f}", fill=colour)
    canvas.thumbnail((640, 640))
    return canvas, [((int(t), int(l), s), float(p)) for (t, l), p in zip(boxes, probs)]


def analyze(detector, path: str, name: str | None = None) -> Analysis:
    """Everything about one file; a bad file gives an Analysis whose result carries the error."""
    from synthdet_tf.detect.files import kind_problem

    result = dataclasses.asdict(next(iter(detector.detect([path]))))
    out = Analysis(name=name or path, result=result)
    if kind_problem(path):  # a FIFO or a looping link: never opened, the result says why
        return out
    try:
        contents = read_bytes(path)
    except Exception:
        return out
    out.facts = file_facts(contents)
    if result["error"]:
        return out
    view = model_views(contents, detector.spec)[0]
    cam = heatmap_of(detector.backend, view, detector.threshold, detector.temperature)
    if cam is None:
        out.heatmap_note = f"No heatmap for a {detector.backend.kind} model (needs a Keras model or a SavedModel with explain_images)."
    else:
        out.heatmap = overlay(view, cam)
    out.crops, out.crop_scores = crop_grid(detector, contents)
    return out


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()
