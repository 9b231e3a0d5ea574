"""Provenance signals on files made here: PNG generator chunks, IPTC XMP, software tags, and none."""

import html
import io

import pytest

from PIL import Image, PngImagePlugin

from synthdet_tf.detect.provenance import GENERATOR_NAMES, generator_named, read_provenance, verdict
from tests.conftest import random_rgb

XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       b'<rdf:Description xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
       b'Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"/>'
       b'</rdf:RDF></x:xmpmeta>')


def png_with(**chunks) -> bytes:
    info = PngImagePlugin.PngInfo()
    for key, value in chunks.items():
        info.add_text(key, value)
    buf = io.BytesIO()
    Image.fromarray(random_rgb()).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def jpeg_with(software=None, make=None, xmp=None) -> bytes:
    image = Image.fromarray(random_rgb())
    exif = image.getexif()
    if software:
        exif[305] = software
    if make:
        exif[271], exif[272] = make
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif, **({"xmp": xmp} if xmp else {}))
    return buf.getvalue()


def test_generator_chunks_declare_ai():
    a1111 = read_provenance(png_with(parameters="a cat, Steps: 20, Sampler: Euler a, Model: sdxl"))
    assert a1111.declares_ai and "Automatic1111" in a1111.reasons[0]
    comfy = read_provenance(png_with(prompt='{"3": {"class_type": "KSampler"}}', workflow="{}"))
    assert sorted(comfy.generator_chunks) == ["ComfyUI (prompt)", "ComfyUI (workflow)"]
    assert verdict("REAL", comfy)[0] == "FAKE" and verdict("REAL", comfy)[1].startswith("declared: ")


def test_iptc_term_in_xmp_and_exif_software_declare_ai():
    iptc = read_provenance(jpeg_with(xmp=XMP))
    assert iptc.iptc_digital_source_type == "trainedAlgorithmicMedia" and iptc.declares_ai
    software = read_provenance(jpeg_with(software="Midjourney v7"))
    assert software.exif_software == "Midjourney v7" and software.declares_ai


def test_a_camera_photo_declares_nothing_and_the_pixel_score_decides():
    photo = read_provenance(jpeg_with(software="Adobe Lightroom 7.1", make=("Canon", "EOS R5")))
    assert photo.camera == "Canon EOS R5" and not photo.declares_ai and photo.reasons == []
    assert verdict("REAL", photo) == ("REAL", "pixel score")
    bare = read_provenance(png_with())
    assert not bare.declares_ai and bare.c2pa is None and bare.generator_chunks == {}


def test_unreadable_bytes_give_an_empty_record_not_an_error():
    p = read_provenance(b"not an image at all")
    assert not p.declares_ai and p.camera is None
    assert set(p.to_dict()) >= {"c2pa", "iptc_digital_source_type", "declares_ai", "reasons"}


def xmp_creator_tool(tool: str, element=False) -> bytes:
    value = html.escape(tool)
    body = (f"><xmp:CreatorTool>{value}</xmp:CreatorTool></rdf:Description>" if element else f' xmp:CreatorTool="{value}"/>')
    return ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            f'<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/"{body}</rdf:RDF></x:xmpmeta>').encode()


# Real editor, camera and phone Software / CreatorTool values, several with a generator's name inside a word.
EDITOR_AND_CAMERA_SOFTWARE = [
    "Adobe Lightroom", "Adobe Photoshop Lightroom Classic 13.0 (Windows)", "Adobe Photoshop 25.0 (Macintosh)",
    "Adobe Photoshop Lightroom", "Adobe Photoshop 25.0 (Generative Fill)", "Aurora HDR 2019", "Aurora HDR",
    "Imagenomic Portraiture 3", "ImagenomicNoiseware", "Snapseed 2.0", "VSCO", "GIMP 2.10.36", "Capture One 23",
    "DxO PhotoLab 7", "Luminar Neo", "Luminar AI", "Skylum Luminar AI", "Affinity Photo 2", "Pixelmator Pro",
    "darktable 4.6.1", "RawTherapee 5.10", "Picasa", "Google", "HDR+ 1.0.540104767zd", "17.1.1", "G998BXXU5CVDD",
    "Instagram", "Windows Photo Editor 10.0.10011.16384", "Microsoft Windows Photo Viewer 6.1.7600.16385",
    "FluxCapture 1.2", "Fluxbox", "Flux", "Gemini Camera Pro", "Canon EOS Utility", "Digital Photo Professional",
    "OpenAI-free editor", "Leonardo 1.2", "Designer", "Imagen", "Paint.NET 5.0.12", "Stable Diffusion remover 2",
]


@pytest.mark.parametrize("name", sorted(GENERATOR_NAMES))
def test_every_known_generator_name_declares_as_a_whole_field_with_or_without_a_version(name):
    for software in (name, f"{name} 2.1", name.upper()):
        p = read_provenance(jpeg_with(software=software))
        assert p.declares_ai and p.reasons == [f"EXIF Software is a generator: {p.exif_software} ({GENERATOR_NAMES[name]})"]
    tool = read_provenance(jpeg_with(xmp=xmp_creator_tool(f"{name} v3")))
    assert tool.xmp_creator_tool == f"{name} v3" and tool.reasons[0].startswith("XMP CreatorTool is a generator: ")


@pytest.mark.parametrize("software", ["Midjourney v7", "midjourney_v6.1", "DALL·E 3", "DALL-E", "FLUX.1.1 [pro]",
                                      "FLUX.1 [dev]", "FLUX.1 Kontext [max]", "Stable Diffusion XL", "Leonardo.Ai",
                                      "Imagine with Meta AI", "Grok Imagine", "gpt-image-1"])
def test_real_generator_spellings_are_recognised(software):
    assert generator_named(software)


@pytest.mark.parametrize("software", EDITOR_AND_CAMERA_SOFTWARE)
def test_editor_and_camera_software_never_declares(software):
    assert generator_named(software) is None
    for p in (read_provenance(jpeg_with(software=software, make=("Canon", "EOS R5"))),
              read_provenance(jpeg_with(xmp=xmp_creator_tool(software, element=True)))):
        assert not p.declares_ai and p.reasons == [] and verdict("REAL", p) == ("REAL", "pixel score")


def test_creator_tool_element_and_png_software_chunk_are_software_fields():
    firefly = read_provenance(jpeg_with(xmp=xmp_creator_tool("Adobe Firefly", element=True)))
    assert firefly.xmp_creator_tool == "Adobe Firefly" and firefly.declares_ai
    novelai = read_provenance(png_with(Software="NovelAI", Source="NovelAI Diffusion V4.5"))
    assert novelai.png_software == "NovelAI" and novelai.reasons == ["PNG Software is a generator: NovelAI (NovelAI)"]
    assert not read_provenance(png_with(Software="GIMP 2.10.36")).declares_ai


def test_a_generator_chunk_key_counts_only_in_that_generator_format():
    prose = read_provenance(png_with(prompt="a lighthouse at dusk", parameters="Seed: sunflower, sown in May",
                                     workflow="shot, culled, graded", invokeai_metadata="none"))
    assert not prose.declares_ai and prose.generator_chunks == {}
    assert sorted(prose.unproven_chunks) == ["Automatic1111 / Forge (parameters)", "ComfyUI (prompt)",
                                             "ComfyUI (workflow)", "InvokeAI"]
    fooocus = read_provenance(png_with(parameters='{"Prompt": "a cat", "Steps": 30, "Seed": 1, "Sampler": "dpmpp_2m"}'))
    assert fooocus.declares_ai and not fooocus.unproven_chunks
    invoke = read_provenance(png_with(invokeai_metadata='{"positive_prompt": "a cat", "seed": 1}'))
    assert invoke.reasons == ["generation parameters in a PNG text chunk: InvokeAI"]


def signed_jpeg(jpeg: bytes, digital_source_type: str) -> bytes:
    """A JPEG signed with C2PA Content Credentials by a CA + leaf chain made here (no network, no test certs)."""
    import datetime

    import c2pa
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def usage(ca):
        return x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                             key_agreement=False, key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False)

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test")])

    def cert(subject, issuer, key, signing_key, ca):
        b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
             .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
             .not_valid_after(now + datetime.timedelta(days=365)).add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
             .add_extension(usage(ca), critical=True).add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
        if not ca:
            b = (b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
                 .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False))
        return b.sign(signing_key, hashes.SHA256())

    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = cert(name("Test Root CA"), name("Test Root CA"), ca_key, ca_key, True)
    leaf = cert(name("Test Signer"), ca.subject, leaf_key, ca_key, False)
    chain = leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    key = leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    manifest = {"claim_generator_info": [{"name": "synthdet-test", "version": "0.1"}], "title": "test.jpg",
                "assertions": [{"label": "c2pa.actions", "data": {"actions": [{"action": "c2pa.created",
                                "digitalSourceType": f"http://cv.iptc.org/newscodes/digitalsourcetype/{digital_source_type}"}]}}]}
    info = c2pa.C2paSignerInfo(alg=b"es256", sign_cert=chain, private_key=key, ta_url=None)
    with c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest) as builder:
        out = io.BytesIO()
        builder.sign(signer, "image/jpeg", io.BytesIO(jpeg), out)
    return out.getvalue()


def test_c2pa_content_credentials_are_read_and_an_ai_claim_declares_ai():
    generated = read_provenance(signed_jpeg(jpeg_with(), "trainedAlgorithmicMedia"))
    assert generated.c2pa["claim_generator"].startswith("synthdet-test") and generated.c2pa["actions"] == ["c2pa.created"]
    assert generated.c2pa["signer"] == "Test Signer" and generated.declares_ai and "C2PA manifest" in generated.reasons[0]
    captured = read_provenance(signed_jpeg(jpeg_with(), "digitalCapture"))
    assert captured.c2pa["digital_source_types"] == ["digitalCapture"] and not captured.declares_ai


def test_c2pa_validation_is_said_as_the_reader_found_it():
    signed = signed_jpeg(jpeg_with(), "trainedAlgorithmicMedia")
    good = read_provenance(signed).c2pa
    assert good["validation"] == "signer not on this reader's trust list (signature holds)", good
    assert good["failures"] == ["signingCredential.untrusted"]
    end = signed.rindex(b"\xff\xd9")  # flip bits in the last of the picture's entropy-coded bytes
    tampered = read_provenance(signed[: end - 20] + bytes(b ^ 0x55 for b in signed[end - 20 : end]) + signed[end:])
    assert tampered.c2pa["validation"].startswith("tampered") and "assertion.dataHash.mismatch" in tampered.c2pa["failures"]
    assert tampered.declares_ai and "manifest tampered" in tampered.reasons[0]  # the file still says so; the reason says more


def test_c2pa_states_from_the_reader_store():
    from synthdet_tf.detect.provenance import c2pa_validation

    failing = lambda *codes: {"validation_results": {"activeManifest": {"failure": [{"code": c} for c in codes]}}}  # noqa: E731
    assert c2pa_validation({"validation_state": "Trusted"})["validation"] == "trusted signer"
    assert c2pa_validation({"validation_state": "Valid"})["validation"] == "valid signature"
    assert c2pa_validation(failing("claimSignature.mismatch"))["validation"].startswith("invalid")
    assert c2pa_validation(failing("assertion.hashedURI.mismatch"))["validation"] == "manifest altered after signing"
    assert c2pa_validation({"validation_status": [{"code": "assertion.dataHash.mismatch"}]})["validation"].startswith("tampered")


def xmp_credit(credit: str) -> bytes:
    return ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            f'<rdf:Description xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" photoshop:Credit="{credit}"/>'
            '</rdf:RDF></x:xmpmeta>').encode()


def test_generators_own_tags_declare_only_in_their_own_format():
    import json

    job = "a cat on a sofa --ar 3:2 --v 7 Job ID: 0f3c2a9e-1b2d-4c5e-8f90-123456789abc"
    signature = "Signature: " + "A" * 86 + "=="
    declared = {
        "google credit": read_provenance(jpeg_with(xmp=xmp_credit("Made with Google AI"))),
        "google edit": read_provenance(jpeg_with(xmp=xmp_credit("Edited with Google AI"))),
        "midjourney": read_provenance(png_with(Description=job, Author="someone")),
        "novelai": read_provenance(png_with(Comment=json.dumps({"prompt": "x", "signed_hash": "abc"}))),
        "grok": read_provenance(exif_jpeg({270: signature, 315: "0f3c2a9e-1b2d-4c5e-8f90-123456789abc"})),
        "ideogram": read_provenance(jpeg_with(make=("Ideogram AI", "v2"))),
    }
    for name, p in declared.items():
        assert p.declares_ai and p.generator_tags, name
    assert "Midjourney" in declared["midjourney"].reasons[0] and "Google" in declared["google credit"].reasons[0]
    undeclared = [read_provenance(jpeg_with(xmp=xmp_credit("Photo: Jane Doe, not made with Google AI"))),
                  read_provenance(png_with(Description="Job ID: see the brief")),
                  read_provenance(png_with(Comment='{"prompt": "a signed hash of a cat"}')),
                  read_provenance(exif_jpeg({270: signature, 315: "Jane Doe"})),
                  read_provenance(exif_jpeg({270: "Signature: J. Doe", 315: "0f3c2a9e-1b2d-4c5e-8f90-123456789abc"}))]
    assert not any(p.declares_ai or p.generator_tags for p in undeclared)


def exif_jpeg(tags: dict) -> bytes:
    image = Image.fromarray(random_rgb())
    exif = image.getexif()
    for tag, value in tags.items():
        exif[tag] = value
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def test_png_text_chunks_read_without_decoding_match_pillows(shared_dev):
    """tEXt, zTXt and iTXt (compressed or not, before or after the image data), and every dev PNG."""
    from synthdet_tf.detect.provenance import png_text_chunks

    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "Steps: 20, Sampler: Euler")
    info.add_text("prompt", '{"a": 1}', zip=True)
    info.add_itxt("Description", "un chat — Job ID: x", lang="fr", tkey="Beschreibung")
    info.add_itxt("Comment", '{"signed_hash": "é"}', zip=True)
    buf = io.BytesIO()
    Image.fromarray(random_rgb()).save(buf, "PNG", pnginfo=info)
    made = buf.getvalue()
    iend = made.rindex(b"IEND") - 4  # the same chunks again after the image data, where Pillow must decode to look
    late = made[:iend] + made[made.index(b"tEXt") - 4 : made.index(b"IDAT") - 4] + made[iend:]
    dev = [p.read_bytes() for p in sorted(shared_dev.rglob("*.png"))[:300]]
    files = [made, late] + [c for c in dev if c.startswith(b"\x89PNG")]  # a few dev .png files are JPEGs
    for contents in files:
        with Image.open(io.BytesIO(contents)) as image:
            assert png_text_chunks(contents) == dict(image.text)
    assert png_text_chunks(made)["Description"] == "un chat — Job ID: x"
