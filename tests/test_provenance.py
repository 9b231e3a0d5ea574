"""Provenance signals on files made here: PNG generator chunks, IPTC XMP, EXIF Software, and none."""

import io

from PIL import Image, PngImagePlugin

from synthdet_tf.provenance import read_provenance, verdict
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
