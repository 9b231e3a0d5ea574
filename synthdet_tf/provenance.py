"""What a file says about its own origin: C2PA, IPTC digital source type, generator text chunks, EXIF Software.

Shown next to the pixel score, never fed to the model. A file that *declares*
AI generation (a C2PA action or IPTC term for trained algorithmic media,
generation parameters a generator UI wrote, a generator named in EXIF
Software) gets the verdict FAKE with that reason; otherwise the pixel score
decides. Metadata is stripped by most re-saves and uploads, so its absence
proves nothing, and the pixel score is always reported on its own too.
"""

import dataclasses
import io
import re

from PIL import Image

IPTC_TERM = re.compile(rb"digitalsourcetype/([A-Za-z]+)")
# IPTC digital source types that declare generated (or partly generated) content.
AI_SOURCE_TYPES = ("trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia", "algorithmicMedia")
# PNG text chunks generator UIs write: key -> which tool.
GENERATOR_CHUNKS = {"parameters": "Automatic1111 / Forge (parameters)", "prompt": "ComfyUI (prompt)",
                    "workflow": "ComfyUI (workflow)", "invokeai_metadata": "InvokeAI", "sd-metadata": "InvokeAI (sd-metadata)"}
GENERATOR_SOFTWARE = re.compile(
    r"midjourney|dall[-· ]?e|stable diffusion|comfyui|automatic1111|novelai|firefly|imagen|gemini|chatgpt|openai|"
    r"leonardo|ideogram|flux|bing image creator|grok|aurora|dreamstudio|invokeai|fooocus|sdxl", re.IGNORECASE)
EXIF_SOFTWARE, EXIF_MAKE, EXIF_MODEL = 305, 271, 272


@dataclasses.dataclass
class Provenance:
    c2pa: dict | None = None  # {"claim_generator", "actions", "digital_source_types"} or {"error"}; None: no manifest
    iptc_digital_source_type: str | None = None
    generator_chunks: dict = dataclasses.field(default_factory=dict)  # chunk key -> first 300 characters
    exif_software: str | None = None
    camera: str | None = None  # EXIF Make + Model: context only, a camera tag is as easy to write as any other
    declares_ai: bool = False
    reasons: list = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _c2pa(contents: bytes, mime: str) -> dict | None:
    """The active C2PA manifest's claim generator and actions, when c2pa-python is installed and finds one."""
    if b"c2pa" not in contents and b"jumb" not in contents:
        return None  # no JUMBF box, so no manifest: skip the reader
    try:
        import c2pa
    except ImportError:
        return {"error": "a C2PA manifest may be present; install c2pa-python to read it"}
    try:
        import json

        with c2pa.Reader(mime, io.BytesIO(contents)) as reader:
            store = json.loads(reader.json())
    except Exception as e:  # no manifest, or one the reader refuses
        return None if "ManifestNotFound" in type(e).__name__ + str(e) else {"error": f"{type(e).__name__}: {e}"[:200]}
    manifest = store.get("manifests", {}).get(store.get("active_manifest"), {})
    actions, types = [], []
    for assertion in manifest.get("assertions", []):
        if assertion.get("label", "").startswith("c2pa.actions"):
            for action in assertion.get("data", {}).get("actions", []):
                actions.append(action.get("action"))
                if action.get("digitalSourceType"):
                    types.append(action["digitalSourceType"].rsplit("/", 1)[-1])
    generator = manifest.get("claim_generator") or ", ".join(
        g.get("name", "") for g in manifest.get("claim_generator_info", []) if isinstance(g, dict))
    # "Valid" (signature checks, signer not on a trust list) or "Trusted"; the signer is shown, not vouched for.
    return {"claim_generator": generator, "actions": actions, "digital_source_types": types,
            "validation_state": store.get("validation_state"), "signer": manifest.get("signature_info", {}).get("common_name")}


MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif", "TIFF": "image/tiff",
        "HEIF": "image/heif", "AVIF": "image/avif", "BMP": "image/bmp"}


def read_provenance(contents: bytes) -> Provenance:
    """Provenance signals of one file's bytes; never raises for a file Pillow cannot open (it gives what it found)."""
    p = Provenance()
    # XMP, or a C2PA manifest, may name several terms (an edit history): any AI term wins.
    terms = [t.decode() for t in IPTC_TERM.findall(contents)]
    if terms:
        p.iptc_digital_source_type = next((t for t in terms if t in AI_SOURCE_TYPES), terms[0])
    fmt = None
    try:
        with Image.open(io.BytesIO(contents)) as image:
            fmt = image.format
            for key, label in GENERATOR_CHUNKS.items():
                value = getattr(image, "text", {}).get(key) if fmt == "PNG" else None
                if value:
                    p.generator_chunks[label] = str(value)[:300]
            exif = image.getexif()
            p.exif_software = (str(exif.get(EXIF_SOFTWARE)).strip() or None) if exif.get(EXIF_SOFTWARE) else None
            camera = " ".join(str(exif.get(t)).strip() for t in (EXIF_MAKE, EXIF_MODEL) if exif.get(t))
            p.camera = camera or None
    except Exception:
        pass
    p.c2pa = _c2pa(contents, MIME.get(fmt or "", "image/jpeg"))
    _declare(p)
    return p


def _declare(p: Provenance) -> None:
    if p.c2pa and not p.c2pa.get("error"):
        ai = [t for t in p.c2pa["digital_source_types"] if t in AI_SOURCE_TYPES]
        if ai:
            p.reasons.append(f"C2PA manifest ({p.c2pa['claim_generator'] or 'unnamed generator'}) declares {ai[0]}")
    if p.iptc_digital_source_type in AI_SOURCE_TYPES:
        p.reasons.append(f"IPTC digital source type {p.iptc_digital_source_type}")
    for label in p.generator_chunks:
        p.reasons.append(f"generation parameters in a PNG text chunk: {label}")
    if p.exif_software and GENERATOR_SOFTWARE.search(p.exif_software):
        p.reasons.append(f"EXIF Software names a generator: {p.exif_software[:80]}")
    p.declares_ai = bool(p.reasons)


def verdict(pixel_label: str | None, provenance: Provenance | None, unsure: bool = False) -> tuple[str | None, str]:
    """(label, why): a file that declares AI generation is FAKE; otherwise the pixel score's label,
    or UNSURE when the score is inside the model's uncertainty band (chosen on validation)."""
    if provenance is not None and provenance.declares_ai:
        return "FAKE", "declared: " + "; ".join(provenance.reasons)
    if pixel_label and unsure:
        return "UNSURE", "pixel score inside the uncertainty band"
    return pixel_label, "pixel score" if pixel_label else "no score"
