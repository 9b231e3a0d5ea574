"""One file -> everything the page shows about it. No Gradio here, so it is testable alone.

The file is read, probed and scored once (`Detector.examine`), and every
explanation reuses what the verdict weighed: the heatmap is Grad-CAM on the
view the whole-image model scored; the crop map is the local stream's own
crops and logits (or a crop model's). A one-view model's verdict holds no
crops, so large images get native crops scored beside it, as context only.
Provenance and file facts are shown beside the score and never change it,
except that a file declaring AI generation gets the verdict FAKE with that reason.
"""

import dataclasses
import io

import numpy as np
from PIL import Image, ImageDraw

from synthdet_tf.detect.views import image_views, view_boxes

GRID_CROPS = 9
CROPS_TITLES = {True: "Native-resolution crops, each at the score the verdict pooled (where the evidence is)",
                False: "Native-resolution crops, scored beside the verdict (context: the model's verdict did not pool them)"}


@dataclasses.dataclass
class Analysis:
    name: str
    result: dict  # Detector's Result as a dict (pixel label, probability, verdict, provenance, error)
    facts: dict = dataclasses.field(default_factory=dict)
    heatmap: Image.Image | None = None  # overlay on the model's view
    crops: Image.Image | None = None  # per-crop scores drawn on the image
    crop_scores: list = dataclasses.field(default_factory=list)  # [{"box": (top, left, size), "probability", "logit"}]
    crops_title: str = ""  # what the crop map is: the verdict's own crops, or context scored beside it
    heatmap_note: str = ""
    trust: str = ""  # how far the pixel score is trusted on this file's history (detect.reliability.trust_line)


@dataclasses.dataclass
class CropEvidence:
    """Native crops and their logits, and how the page reads them."""

    spec: object  # the scoring model's PreprocessSpec
    crops: int  # how many crops were asked for (`views.view_boxes`)
    logits: np.ndarray  # float32 [V], in `view_boxes` order
    cut: float  # probability at which a crop is drawn as FAKE
    temperature: float
    verdict: bool  # True: these are the logits the verdict pooled; False: context beside it


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


def file_facts(contents: bytes, info, problem: str | None = None) -> dict:
    """What the file is, from detection's own probe (`info`; None when the probe refused the file)."""
    if info is None:
        return {"bytes": len(contents), "problem": problem}
    facts = {"format": info.format, "size": f"{info.width} x {info.height}", "mode": info.mode, "bytes": len(contents)}
    if info.jpeg_quality:
        facts["JPEG quality (estimated)"] = info.jpeg_quality
    return facts


def evidence(detector, prepared, logits) -> tuple[np.ndarray, CropEvidence | None]:
    """(the view the whole-image model scored, the crops to map) from what `Detector.examine` returned.

    A fused detector maps its local stream's crops at that model's probability
    (FAKE from 0.5); a one-view model gets GRID_CROPS native crops of images at
    least twice its input size, scored here, beside its verdict.
    """
    backend, image = detector.backend, prepared.image
    if not backend.scores_files:
        spec = backend.spec
        if spec.crops > 1:
            return prepared.views[0], CropEvidence(spec, spec.crops, logits, detector.threshold, detector.temperature, True)
        if min(image.shape[:2]) < 2 * spec.image_size:
            return prepared.views[0], None
        context = backend.logits(image_views(image, spec, GRID_CROPS))
        return prepared.views[0], CropEvidence(spec, GRID_CROPS, context, detector.threshold, detector.temperature, False)
    views, spec = prepared.views[0], backend.local.spec
    if logits.local is not None:
        local = CropEvidence(spec, spec.crops, logits.local, 0.5, 1.0, True) if logits.has_crop else None
        return views.whole[0], local
    # A fused SavedModel cuts and scores both streams in its graph and returns the crops' mean only: the
    # same crops (`preprocess.tiling` = `views.view_boxes`) are cut from the native decode and scored again.
    if not logits.has_crop:
        return image_views(image, backend.spec, 1)[0], None
    local = CropEvidence(spec, spec.crops, backend.local.logits(image_views(image, spec, spec.crops)), 0.5, 1.0, True)
    return image_views(image, backend.spec, 1)[0], local


def crop_map(image: np.ndarray, crops: CropEvidence) -> tuple[Image.Image | None, list[dict]]:
    """(the image with each crop's probability drawn on it, [{"box", "probability", "logit"}] in `view_boxes` order)."""
    from synthdet_tf.detect.calibration import sigmoid

    h, w = image.shape[:2]
    s = crops.spec.image_size
    boxes = view_boxes(h, w, crops.spec, crops.crops)
    if not boxes:  # the image holds no native crop: the model scored its one view
        return None, []
    probs = sigmoid(np.asarray(crops.logits, np.float64), crops.temperature)
    canvas = Image.fromarray(image)
    draw = ImageDraw.Draw(canvas)
    width = max(2, min(h, w) // 150)
    for (t, l), p in zip(boxes, probs):
        colour = (220, 40, 40) if p >= crops.cut else (40, 160, 60)
        draw.rectangle([l, t, l + s - 1, t + s - 1], outline=colour, width=width)
        draw.text((l + 2 * width, t + 2 * width), f"{p:.2f}", fill=colour)
    canvas.thumbnail((640, 640))
    return canvas, [{"box": (int(t), int(l), s), "probability": float(p), "logit": float(z)}
                    for (t, l), p, z in zip(boxes, probs, crops.logits)]


def analyze(detector, path: str, name: str | None = None) -> Analysis:
    """Everything about one file; a bad file gives an Analysis whose result carries the error."""
    result, prepared, logits = detector.examine(path)
    from synthdet_tf.detect.reliability import trust_line

    out = Analysis(name=name or path, result=dataclasses.asdict(result), trust=trust_line(detector.abstention, result.history))
    if prepared.contents is None:  # a FIFO, a looping link or a failed read: never opened, the result says why
        return out
    out.facts = file_facts(prepared.contents, prepared.info, result.error)
    if result.error:
        return out
    view, crops = evidence(detector, prepared, logits)
    cam = heatmap_of(detector.backend, view, detector.threshold, detector.temperature)
    if cam is None:
        out.heatmap_note = f"No heatmap for a {detector.backend.kind} model (needs a Keras model or a SavedModel with explain_images)."
    else:
        out.heatmap = overlay(view, cam)
    if crops is not None:
        out.crops, out.crop_scores = crop_map(prepared.image, crops)
        out.crops_title = CROPS_TITLES[crops.verdict]
    return out


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()
