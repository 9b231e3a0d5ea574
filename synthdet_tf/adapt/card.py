"""The model card an adaptation writes into its folder (README.md) and prints."""

import json
import os


def _pct(x) -> str:
    return f"{100 * x:.1f} %"


def cv_lines(cv: dict) -> list[str]:
    lo, hi = cv["interval"]
    lines = [f"- balanced accuracy {cv['balanced_accuracy']:.3f} (95 % bootstrap interval {lo:.3f}-{hi:.3f}) "
             f"at threshold {cv['threshold']:.3f}"]
    for name, c in cv["per_class"].items():
        lo, hi = c["interval"]
        lines.append(f"- {name}: {_pct(c['accuracy'])} right of {c['n']} (95 % Wilson interval {_pct(lo)}-{_pct(hi)})")
    return lines


def text(summary: dict) -> str:
    out = [f"# Adapted detector ({summary['date']})", "",
           f"Base: `{summary['base']}`; its backbone is unchanged, its last layer was refitted ({summary['method']}, "
           f"penalty {summary['penalty']}) on the images below"
           + (f", beside a replay of `{summary['replay']}`." if summary["replay"] else ", with no replay of the base's data."),
           "", "## Adapted on", "",
           f"- {summary['counts']['REAL']} REAL and {summary['counts']['FAKE']} FAKE images; shorter side "
           f"{summary['shorter_side_px']['min']}-{summary['shorter_side_px']['max']} px (median {summary['shorter_side_px']['median']})",
           f"- formats: {json.dumps(summary['formats'])}", f"- sources: {json.dumps(summary['sources'])}",
           f"- skipped: {len(summary['skipped'])}" + "".join(f"\n  - {p}: {why}" for p, why in summary["skipped"][:20])]
    out += [f"- warning: {w}" for w in summary["warnings"]]
    out += ["", "## Cross-validated on the same images (out-of-fold; the threshold was chosen on these scores)", ""]
    out += cv_lines(summary["cross_validated"])
    if "base_test" in summary:
        b = summary["base_test"]
        out += ["", "## What it costs the base", "",
                f"Balanced accuracy on the test split of `{b['folder']}` ({b['n']} images): base {b['base']:.3f}, "
                f"adapted {b['adapted']:.3f} ({b['adapted'] - b['base']:+.3f})."]
    else:
        out += ["", "## What it costs the base", "", "Not measured (pass --base_test_dir=a labelled folder of the base's kind)."]
    if "exports" in summary:
        out += ["", "## Exports", ""]
        out += [f"- {fmt}: `{e['path']}`; agreement with Keras on the adaptation set: max |delta p| "
                f"{e['max_abs_delta_prob']:.4f}, same label {_pct(e['same_label'])}" for fmt, e in summary["exports"].items()]
    out += ["", "## Limits", "", "Figures from a few dozen images are wide (see the intervals). The adapted model is "
            "meant for the generator and the kind of images it was adapted on; docs/adapt.md gives the measured "
            "learning curves and what adapting costs elsewhere.", "", f"Made with: `{summary['command']}` "
            f"in {summary['seconds']} s."]
    return "\n".join(out) + "\n"


def write(output_dir: str, summary: dict) -> None:
    with open(os.path.join(output_dir, "README.md"), "w") as f:
        f.write(text(summary))
    with open(os.path.join(output_dir, "adapt.json"), "w") as f:
        json.dump(summary, f, indent=2, default=str)
