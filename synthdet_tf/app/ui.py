"""The Gradio page: drop images, read a card per image, download every result."""

import base64
import csv
import html
import json
import os
import tempfile

from synthdet_tf.app.analysis import analyze, png_bytes

COLOURS = {"FAKE": "#c62828", "REAL": "#2e7d32", "UNSURE": "#ef6c00", None: "#555"}
METADATA_NOTE = ("Metadata is easy to strip or forge: a file that declares nothing proves nothing, "
                 "and the pixel score above never looks at it.")


def _img(image, alt: str) -> str:
    data = base64.b64encode(png_bytes(image)).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}" style="max-width:100%;border-radius:4px"/>'


def _table(rows: dict) -> str:
    cells = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>" for k, v in rows.items() if v not in (None, "", [], {}))
    return f"<table class='facts'>{cells}</table>" if cells else "<p><i>none</i></p>"


def card(a, model_label: str) -> str:
    r = a.result
    name = html.escape(a.name)
    if r["error"] and not (r.get("provenance") or {}).get("declares_ai"):
        return (f"<div class='card bad'><h3>{name}</h3><p class='error'>Could not read this file: "
                f"{html.escape(r['error'])}</p>{_table(a.facts)}</div>")
    verdict = r["verdict"]
    score = "-" if r["fake_probability"] is None else f"{r['fake_probability']:.3f}"
    parts = [f"<div class='card'><h3>{name}</h3>",
             f"<p class='verdict' style='color:{COLOURS.get(verdict, '#555')}'>{verdict}</p>",
             f"<p>Pixel score (probability FAKE): <b>{score}</b>, pixel label {r['label'] or '-'} "
             f"(threshold {r['threshold']:.3f}); verdict from: {html.escape(r['verdict_reason'])}. Model: {html.escape(model_label)}.</p>"]
    parts.append(why_panel(a))
    if a.heatmap is not None:
        parts.append(f"<h4>Where: Grad-CAM on what the model saw</h4>{_img(a.heatmap, 'heatmap')}")
    elif a.heatmap_note:
        parts.append(f"<p><i>{html.escape(a.heatmap_note)}</i></p>")
    if a.crops is not None:
        parts.append(f"<h4>{html.escape(a.crops_title)}</h4>{_img(a.crops, 'crop scores')}")
    p = r.get("provenance") or {}
    prov = {"declares AI generation": "yes: " + "; ".join(p.get("reasons", [])) if p.get("declares_ai") else "no",
            "C2PA": json.dumps(p["c2pa"]) if p.get("c2pa") else "no manifest",
            "C2PA validation": (p.get("c2pa") or {}).get("validation"),
            "generator's own tags": "; ".join(f"{k}: {v}" for k, v in (p.get("generator_tags") or {}).items()),
            "IPTC digital source type": p.get("iptc_digital_source_type"),
            "generator text chunks": ", ".join(p.get("generator_chunks", {})), "EXIF Software": p.get("exif_software"),
            "camera (EXIF)": p.get("camera")}
    parts += [f"<h4>Provenance</h4>{_table(prov)}<p class='note'>{METADATA_NOTE}</p>", _history_and_marks(r),
              f"<h4>File</h4>{_table(a.facts)}</div>"]
    return "".join(parts)


def why_panel(a) -> str:
    """Why this verdict: the pixels, the file's history (how far the pixels are trusted on such files) and the
    marks and declarations, each in one line, with the verdict's own reason first."""
    r = a.result
    score = "no score" if r["fake_probability"] is None else (
        f"{r['fake_probability']:.3f} against threshold {r['threshold']:.3f}: pixel label {r['label']}")
    h, marks, p = r.get("history") or {}, r.get("marks"), r.get("provenance") or {}
    deciding = [m["mark"] for m in marks or () if m.get("decides")]
    trust = a.trust
    if trust and r["verdict_reason"] and r["verdict_reason"] in trust:  # said in the first row already
        trust = trust.split(":", 1)[0] + " (the reason above)"
    rows = {"verdict because": r["verdict_reason"], "pixels": score,
            "history": f"{h.get('summary') or 'not read'}; {trust}" if trust else h.get("summary"),
            "marks": ("declares AI generation" if p.get("declares_ai") else "no declaration") + "; "
                     + ("deciding mark: " + ", ".join(deciding) if deciding else "not read" if marks is None
                        else "no deciding mark")}
    return f"<h4>Why</h4>{_table(rows)}"


def _history_and_marks(r: dict) -> str:
    """The file's history (how far its pixels can be trusted, never the label) and any open watermark."""
    h = r.get("history") or {}
    history = {"in one line": h.get("summary"), "kind": h.get("kind"), "problem": h.get("problem")}
    marks = r.get("marks")
    found = ("not read" if marks is None else "; ".join(f"{m['mark']} ({m['bits']} bits agree, chance {m['chance']:.0e})"
                                                     + (" - decides" if m.get("decides") else "") for m in marks) or "none found")
    return (f"<h4>History</h4>{_table(history)}<p class='note'>How the file was made and re-made: it says how far the "
            f"pixel score can be trusted, never the label.</p><h4>Open watermarks</h4>{_table({'found': found})}")


def write_downloads(analyses, folder: str) -> list[str]:
    rows = [{"file": a.name, **{k: v for k, v in a.result.items() if k != "path"}, "crop_scores": a.crop_scores} for a in analyses]
    json_path, csv_path = os.path.join(folder, "synthdet_results.json"), os.path.join(folder, "synthdet_results.csv")
    with open(json_path, "w") as f:
        json.dump(rows, f, indent=2)
    with open(csv_path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in row.items()})
    return [csv_path, json_path]


CSS = """.card{border:1px solid #ddd;border-radius:8px;padding:12px;margin:10px 0}.card.bad{border-color:#c62828}
.verdict{font-size:2em;font-weight:bold;margin:0}.error{color:#c62828;font-weight:bold}.note{color:#666;font-size:.9em}
table.facts td{padding:2px 10px 2px 0;vertical-align:top}"""


def build(detector, model_label: str):
    import gradio as gr

    def run(files):
        if not files:
            return "<p>Drop one or more images.</p>", None
        analyses = [analyze(detector, path, os.path.basename(path)) for path in files]
        folder = tempfile.mkdtemp(prefix="synthdet_app_")
        body = "".join(card(a, model_label) for a in analyses)
        return f"<div id='cards'>{body}</div>", write_downloads(analyses, folder)

    with gr.Blocks(title="synthdet: is this image AI-generated?", analytics_enabled=False) as demo:
        gr.Markdown(f"# synthdet\nIs this image AI-generated? Drop images (JPEG, PNG, WebP, GIF, BMP, TIFF, HEIC, AVIF, JPEG XL). "
                    f"Model: **{model_label}**. Nothing leaves this machine.")
        files = gr.File(file_count="multiple", label="Images", elem_id="uploader")
        button = gr.Button("Analyze", elem_id="analyze-btn", variant="primary")
        cards = gr.HTML(elem_id="results")
        downloads = gr.File(label="All results (CSV, JSON)", file_count="multiple", elem_id="downloads")
        files.upload(run, inputs=files, outputs=[cards, downloads], api_name="analyze")
        button.click(run, inputs=files, outputs=[cards, downloads], api_name="analyze_again")
    return demo


def launch(demo, host: str = "127.0.0.1", port: int = 7860, block: bool = True):
    """Serves the page (Gradio 6 takes the stylesheet at launch)."""
    return demo.launch(server_name=host, server_port=port, css=CSS, prevent_thread_lock=not block)
