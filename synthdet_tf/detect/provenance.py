"""What a file says about its own origin: C2PA, IPTC digital source type, generator text chunks, software tags.

Shown next to the pixel score, never fed to the model. A file that *declares*
AI generation gets the verdict FAKE with that reason; otherwise the pixel score
decides. Metadata is stripped by most re-saves and uploads, so its absence
proves nothing, and the pixel score is always reported on its own too.

Declared means declared: a generator's name decides only where a field exists
to say what made the file (C2PA / IPTC digital source type, a generator UI's
own PNG chunk in that UI's format, or a software tag whose *whole value* is a
generator's name and version). Substrings never count: "Imagenomic", "Aurora
HDR" and "Luminar AI" are photo editors, and an editor's name, even with
"(Generative Fill)" after it, is not a declaration; C2PA carries that one.
"""

import dataclasses
import html
import io
import json
import re
import zlib

from PIL import Image

IPTC_TERM = re.compile(rb"digitalsourcetype/([A-Za-z]+)")
# IPTC digital source types that declare generated (or partly generated) content.
AI_SOURCE_TYPES = ("trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia", "algorithmicMedia")
# PNG text chunks generator UIs write: key -> which tool.
GENERATOR_CHUNKS = {"parameters": "Automatic1111 / Forge (parameters)", "prompt": "ComfyUI (prompt)",
                    "workflow": "ComfyUI (workflow)", "invokeai_metadata": "InvokeAI", "sd-metadata": "InvokeAI (sd-metadata)"}
# Only the UIs' own formats prove the chunk came from them: any program may store prose under a key called
# "prompt". A1111 / Forge write "Steps: 20, Sampler: ..., Seed: ..." (Fooocus and SwarmUI the same settings as
# JSON), so two distinct settings labels are asked for; one "Seed:" can occur in prose. ComfyUI and InvokeAI
# write their graph or settings as a JSON object, which a prose prompt never parses as.
SETTINGS_LABEL = re.compile(r"""(?:^|[\s,{"])(steps|sampler|seed|cfg ?scale)"?\s*:""", re.IGNORECASE)
JSON_CHUNKS = ("prompt", "workflow", "invokeai_metadata", "sd-metadata")
XMP_CREATOR_TOOL = re.compile(rb"""xmp:CreatorTool\s*(?:=\s*["']([^"'<>]{1,200})["']|>([^<]{1,200})<)""")
EXIF_SOFTWARE, EXIF_MAKE, EXIF_MODEL, EXIF_DESCRIPTION, EXIF_ARTIST = 305, 271, 272, 270, 315
# Tags some generators write in their own fixed format (each checked in that format, never as a substring):
# - XMP photoshop:Credit "Made with Google AI" / "Edited with Google AI" (Google's generated and AI-edited images,
#   reported by Android Authority and 9to5Google; Pixel Studio writes "Made by Google AI");
# - Midjourney's PNG "Description": the prompt and parameters ending "Job ID: <uuid>" (picteus/picteus's
#   Midjourney extension reads it so);
# - NovelAI's PNG "Comment": a JSON object with a "signed_hash" (NovelAI/novelai-image-metadata, nai_sig.py);
# - xAI Grok's EXIF ImageDescription "Signature: <base64>" beside a UUID as Artist (samples collected by
#   wiltodelta/remove-ai-watermarks; three files, so shown as what it is: a format seen on Grok's files).
XMP_CREDIT = re.compile(rb"""photoshop:Credit\s*(?:=\s*["']([^"'<>]{1,200})["']|>(?:\s*<rdf:[^>]*>\s*<rdf:li[^>]*>)?([^<]{1,200})<)""")
GOOGLE_AI_CREDITS = {"made with google ai": "Google generative AI", "made by google ai": "Google generative AI",
                     "edited with google ai": "Google AI editing"}
MIDJOURNEY_JOB = re.compile(r"Job ID: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\s*$")
GROK_SIGNATURE = re.compile(r"^Signature: [A-Za-z0-9+/=]{64,}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)

# Known generator names -> tool. A software field declares only when, normalised (lowercase, every run of
# anything but a-z0-9 one space), it is one of these followed by nothing but version tokens. Kept to names
# that are generators and nothing else: no photo editors, no bare words ("Leonardo" is an image editor,
# "Imagen" is Spanish for image, "Flux" and "Designer" are common app names).
GENERATOR_NAMES = {
    # Hosted generators, spelled as their makers brand them (product pages). Most of them declare through C2PA or
    # IPTC instead; the names are here for the files (and re-savers) that put the product in a software tag.
    "Midjourney": "Midjourney",
    "DALL·E": "OpenAI DALL·E", "DALLE": "OpenAI DALL·E", "gpt-image-1": "OpenAI gpt-image-1", "ChatGPT": "OpenAI ChatGPT",
    "Adobe Firefly": "Adobe Firefly",
    "Google Imagen": "Google Imagen", "ImageFX": "Google ImageFX (Imagen)", "Gemini": "Google Gemini",
    "Google Gemini": "Google Gemini",
    "Microsoft Designer": "Microsoft Designer", "Bing Image Creator": "Microsoft Bing Image Creator",
    "Meta AI": "Meta AI", "Imagine with Meta AI": "Meta AI (Imagine)",
    "Grok": "xAI Grok", "Grok Imagine": "xAI Grok Imagine",
    "Leonardo.Ai": "Leonardo.Ai", "Ideogram": "Ideogram",
    "Ideogram AI": "Ideogram",  # its files' EXIF Make (samples collected by wiltodelta/remove-ai-watermarks)
    "Craiyon": "Craiyon", "NightCafe": "NightCafe",
    "Playground AI": "Playground AI",
    "Canva AI": "Canva AI", "Magic Media": "Canva Magic Media", "Canva Magic Media": "Canva Magic Media",
    # Written by the generator itself: NovelAI's PNG "Software" chunk is "NovelAI".
    "NovelAI": "NovelAI",
    # Models and local UIs, named as their projects spell them (Black Forest Labs' "FLUX.1 [dev]" etc.).
    "Stable Diffusion": "Stability AI Stable Diffusion", "SDXL": "Stability AI Stable Diffusion XL",
    "DreamStudio": "Stability AI DreamStudio",
    "FLUX.1": "Black Forest Labs FLUX", "FLUX.1 Kontext": "Black Forest Labs FLUX Kontext", "FLUX.2": "Black Forest Labs FLUX",
    "Automatic1111": "Automatic1111 Stable Diffusion web UI", "ComfyUI": "ComfyUI", "InvokeAI": "InvokeAI",
    "Fooocus": "Fooocus",
}
# After a name: a version ("7", "v7", "3", "1 1" from "1.1", "2a") or a model edition ("[pro]", "XL", "Turbo").
VERSION_TOKEN = re.compile(r"v?\d+[a-z]?|pro|dev|schnell|max|ultra|xl|turbo|hd|beta|preview")


def _normalise(text: str) -> str:
    return " ".join(re.findall(r"[0-9a-z]+", text.lower()))


_KNOWN = {_normalise(name): tool for name, tool in GENERATOR_NAMES.items()}
_LONGEST = max(len(name.split()) for name in _KNOWN)


def generator_named(software: str | None) -> str | None:
    """The tool whose name (and optional version) is the whole of `software`, or None."""
    words = _normalise(software or "").split()
    for n in range(min(len(words), _LONGEST), 0, -1):
        tool = _KNOWN.get(" ".join(words[:n]))
        if tool and all(VERSION_TOKEN.fullmatch(w) for w in words[n:]):
            return tool
    return None


@dataclasses.dataclass
class Provenance:
    c2pa: dict | None = None  # {"claim_generator", "actions", "digital_source_types"} or {"error"}; None: no manifest
    iptc_digital_source_type: str | None = None
    generator_chunks: dict = dataclasses.field(default_factory=dict)  # tool label -> first 300 characters
    exif_software: str | None = None
    camera: str | None = None  # EXIF Make + Model: context only, a camera tag is as easy to write as any other
    declares_ai: bool = False
    reasons: list = dataclasses.field(default_factory=list)
    xmp_creator_tool: str | None = None
    png_software: str | None = None  # PNG "Software" text chunk
    # A generator UI's chunk key holding something else than that UI's format: shown, decides nothing.
    unproven_chunks: dict = dataclasses.field(default_factory=dict)
    # A generator's own tag in its own format (XMP_CREDIT, MIDJOURNEY_JOB, NovelAI's signed comment, ...): where -> tool.
    generator_tags: dict = dataclasses.field(default_factory=dict)

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
            "validation_state": store.get("validation_state"), "signer": manifest.get("signature_info", {}).get("common_name"),
            **c2pa_validation(store)}


# c2pa-rs's failure codes (sdk/src/validation_results.rs), grouped by what they mean for a reader: the pixels
# changed after signing, the manifest's own contents changed, the signature does not hold, or only the signer
# is unknown to the reader's trust list (the usual case without a configured list: not a sign of tampering).
C2PA_TAMPERED = ("assertion.dataHash.mismatch", "assertion.boxesHash.mismatch", "assertion.bmffHash.mismatch",
                 "assertion.collectionHash.mismatch")
C2PA_MANIFEST_ALTERED = ("assertion.hashedURI.mismatch", "ingredient.hashedURI.mismatch")
C2PA_UNTRUSTED = ("signingCredential.untrusted",)


def c2pa_validation(store: dict) -> dict:
    """{"validation": one of tampered / manifest altered / invalid / untrusted signer / valid / trusted,
    "failures": the codes}: the reader's state said as it is, a failure never hidden behind a declaration."""
    results = (store.get("validation_results") or {}).get("activeManifest") or {}
    failures = [f.get("code") for f in results.get("failure") or store.get("validation_status") or [] if isinstance(f, dict)]
    if any(c in C2PA_TAMPERED for c in failures):
        state = "tampered: the image changed after it was signed"
    elif any(c in C2PA_MANIFEST_ALTERED for c in failures):
        state = "manifest altered after signing"
    elif any(c not in C2PA_UNTRUSTED for c in failures):
        state = "invalid: the signature or claim does not hold"
    elif failures:
        state = "signer not on this reader's trust list (signature holds)"
    else:
        state = {"Trusted": "trusted signer", "Valid": "valid signature"}.get(store.get("validation_state"), "not validated")
    return {"validation": state, "failures": [c for c in failures if c]}


MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif", "TIFF": "image/tiff",
        "HEIF": "image/heif", "AVIF": "image/avif", "BMP": "image/bmp"}


def _in_generator_format(key: str, value: str) -> bool:
    if key == "parameters":
        return len({label.lower().replace(" ", "") for label in SETTINGS_LABEL.findall(value)}) >= 2
    try:
        return key in JSON_CHUNKS and isinstance(json.loads(value), dict)
    except ValueError:
        return False


def _png_text(p: Provenance, text: dict) -> None:
    for key, label in GENERATOR_CHUNKS.items():
        value = str(text.get(key) or "")
        if value:
            (p.generator_chunks if _in_generator_format(key, value) else p.unproven_chunks)[label] = value[:300]
    p.png_software = str(text.get("Software") or "").strip()[:200] or None
    if MIDJOURNEY_JOB.search(str(text.get("Description") or "")):
        p.generator_tags["PNG Description (prompt, then Job ID)"] = "Midjourney"
    try:
        comment = json.loads(str(text.get("Comment") or ""))
    except ValueError:
        comment = None
    if isinstance(comment, dict) and "signed_hash" in comment:
        p.generator_tags["PNG Comment (settings with NovelAI's signed hash)"] = "NovelAI"


def _exif_tags(p: Provenance, exif) -> None:
    description, artist = str(exif.get(EXIF_DESCRIPTION) or "").strip(), str(exif.get(EXIF_ARTIST) or "").strip()
    if GROK_SIGNATURE.match(description) and UUID.match(artist):
        p.generator_tags["EXIF ImageDescription signature with a UUID Artist"] = "xAI Grok (the format seen on its files)"
    tool = generator_named(str(exif.get(EXIF_MAKE) or ""))
    if tool:
        p.generator_tags["EXIF Make"] = tool


def _xmp_credit(p: Provenance, contents: bytes) -> None:
    match = XMP_CREDIT.search(contents)
    if match:
        credit = html.unescape((match.group(1) or match.group(2)).decode("utf-8", "replace")).strip()
        tool = GOOGLE_AI_CREDITS.get(" ".join(credit.lower().split()))
        if tool:
            p.generator_tags[f"XMP Credit '{credit[:60]}'"] = tool


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_TEXT = 1 << 20  # Pillow's own cap on a decompressed text chunk (PngImagePlugin.MAX_TEXT_CHUNK)


def png_text_chunks(contents: bytes) -> dict:
    """{key: text} of a PNG's tEXt, zTXt and iTXt chunks, as Pillow's `image.text` gives them (a later chunk
    wins), read from the chunk list alone: Pillow decodes every pixel to reach chunks after the image data."""
    out, pos = {}, len(PNG_SIGNATURE)
    while pos + 8 <= len(contents):
        length, kind = int.from_bytes(contents[pos : pos + 4], "big"), contents[pos + 4 : pos + 8]
        data, pos = contents[pos + 8 : pos + 8 + length], pos + 12 + length
        if kind == b"IEND":
            break
        key, _, rest = data.partition(b"\0")
        try:
            if kind == b"tEXt":
                out[key.decode("latin-1")] = rest.decode("latin-1")
            elif kind == b"zTXt":
                out[key.decode("latin-1")] = zlib.decompressobj().decompress(rest[1:], MAX_TEXT).decode("latin-1")
            elif kind == b"iTXt":
                compressed, text = rest[0], rest[2:].partition(b"\0")[2].partition(b"\0")[2]
                text = zlib.decompressobj().decompress(text, MAX_TEXT) if compressed else text
                out[key.decode("latin-1")] = text.decode("utf-8")
        except (zlib.error, IndexError, UnicodeDecodeError):
            continue  # a damaged chunk is skipped, as Pillow skips it
    return out


def _xmp_creator_tool(contents: bytes) -> str | None:
    match = XMP_CREATOR_TOOL.search(contents)
    if not match:
        return None
    return html.unescape((match.group(1) or match.group(2)).decode("utf-8", "replace")).strip() or None


def read_provenance(contents: bytes) -> Provenance:
    """Provenance signals of one file's bytes; never raises for a file Pillow cannot open (it gives what it found)."""
    p = Provenance()
    # XMP, or a C2PA manifest, may name several terms (an edit history): any AI term wins.
    terms = [t.decode() for t in IPTC_TERM.findall(contents)]
    if terms:
        p.iptc_digital_source_type = next((t for t in terms if t in AI_SOURCE_TYPES), terms[0])
    p.xmp_creator_tool = _xmp_creator_tool(contents)
    _xmp_credit(p, contents)
    fmt = None
    try:
        with Image.open(io.BytesIO(contents)) as image:
            fmt = image.format
            if fmt == "PNG":
                _png_text(p, png_text_chunks(contents))
            # A PNG's EXIF lives in an eXIf chunk; without one, getexif would decode every pixel to look for it.
            exif = image.getexif() if fmt != "PNG" or b"eXIf" in contents else Image.Exif()
            p.exif_software = (str(exif.get(EXIF_SOFTWARE)).strip() or None) if exif.get(EXIF_SOFTWARE) else None
            camera = " ".join(str(exif.get(t)).strip() for t in (EXIF_MAKE, EXIF_MODEL) if exif.get(t))
            p.camera = camera or None
            _exif_tags(p, exif)
    except Exception:
        pass
    p.c2pa = _c2pa(contents, MIME.get(fmt or "", "image/jpeg"))
    _declare(p)
    return p


def _declare(p: Provenance) -> None:
    if p.c2pa and not p.c2pa.get("error"):
        ai = [t for t in p.c2pa["digital_source_types"] if t in AI_SOURCE_TYPES]
        if ai:
            p.reasons.append(f"C2PA manifest ({p.c2pa['claim_generator'] or 'unnamed generator'}) declares {ai[0]}"
                             + (f" (manifest {p.c2pa['validation']})" if p.c2pa.get("validation") not in
                                (None, "valid signature", "trusted signer") else ""))
    if p.iptc_digital_source_type in AI_SOURCE_TYPES:
        p.reasons.append(f"IPTC digital source type {p.iptc_digital_source_type}")
    for label in p.generator_chunks:
        p.reasons.append(f"generation parameters in a PNG text chunk: {label}")
    for where, tool in p.generator_tags.items():
        p.reasons.append(f"{where} is {tool}'s own tag")
    for field, value in (("EXIF Software", p.exif_software), ("XMP CreatorTool", p.xmp_creator_tool),
                         ("PNG Software", p.png_software)):
        tool = generator_named(value)
        if tool:
            p.reasons.append(f"{field} is a generator: {value[:80]} ({tool})")
    p.declares_ai = bool(p.reasons)


def verdict(pixel_label: str | None, provenance: Provenance | None, unsure: bool = False) -> tuple[str | None, str]:
    """(label, why): a file that declares AI generation is FAKE; otherwise the pixel score's label,
    or UNSURE when the score is inside the model's uncertainty band (chosen on validation)."""
    if provenance is not None and provenance.declares_ai:
        return "FAKE", "declared: " + "; ".join(provenance.reasons)
    if pixel_label and unsure:
        return "UNSURE", "pixel score inside the uncertainty band"
    return pixel_label, "pixel score" if pixel_label else "no score"
