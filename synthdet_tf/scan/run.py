"""Runs a scan: checks the model and the patterns before any work, then the pipeline, then the summary."""

import glob
import json
import logging
import os
import re
import time

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from synthdet_tf.beam_options import pipeline_options
from synthdet_tf.scan.pipeline import ScanSettings, build

OUTPUT_NAMES = re.compile(r"^(results-\d{5}-of-\d{5}\.(jsonl|parquet)|failed-\d{5}-of-\d{5}\.jsonl|counts\.json|summary\.json)$")


def settings_for(model_path: str, **kwargs) -> ScanSettings:
    """Loads the model once here, so a missing or broken model fails before any pipeline work."""
    from synthdet_tf.detect.detector import Detector, model_identity
    from synthdet_tf.scan.handler import localize

    detector = Detector.load(localize(model_path))
    name, version = model_identity(model_path)
    return ScanSettings(model_path=model_path, spec=detector.spec.to_dict(), threshold=detector.threshold,
                        unsure_band=detector.unsure_band, abstention=detector.abstention, model=name, version=version,
                        scores_files=detector.backend.scores_files, **kwargs)


def check_patterns(patterns: list[str]) -> None:
    for pattern, result in zip(patterns, FileSystems.match(patterns, limits=[1] * len(patterns))):
        if not result.metadata_list:
            raise FileNotFoundError(f"No file matches {pattern!r}")


def broken_links(patterns: list[str]) -> list[tuple[str, str]]:
    """Local links matching a pattern that loop or point nowhere: Beam's match drops them without a word."""
    from synthdet_tf.detect.files import kind_problem

    found = {}
    for pattern in patterns:
        if "://" in pattern:
            continue
        for path in glob.glob(pattern, recursive=True):
            if os.path.islink(path) and not os.path.exists(path):
                found[path] = kind_problem(path)
    return sorted(found.items())


def previous_outputs(output: str) -> list[str]:
    """Files an earlier scan wrote into `output` (only names this command writes)."""
    found = FileSystems.match([FileSystems.join(output, "*")])[0].metadata_list
    return [m.path for m in found if OUTPUT_NAMES.match(os.path.basename(m.path))]


def scan(patterns: list[str], output: str, settings: ScanSettings, beam_args: list[str], overwrite: bool = False) -> dict:
    check_patterns(patterns)
    old = previous_outputs(output) if FileSystems.exists(output) else []
    if old and not overwrite:
        raise FileExistsError(f"{output} holds an earlier scan ({len(old)} files); pass --overwrite to replace it")
    if old:
        FileSystems.delete(old)
    options = pipeline_options(beam_args)
    start = time.time()
    with beam.Pipeline(options=options) as p:
        build(p, patterns, output, settings, skipped=broken_links(patterns))
        runner = type(p.runner).__name__
    wall = time.time() - start
    counts_path = FileSystems.join(output, "counts.json")
    with FileSystems.open(counts_path) as f:
        counts = json.loads(f.read().decode())
    summary = {**counts, "reconciled": counts["matched"] == counts["scored"] + counts["failed"] == counts["results"],
               "runner": runner, "wall_seconds": round(wall, 2),
               "images_per_second": round(counts["matched"] / wall, 2) if wall else None,
               "model": {"path": settings.model_path, "name": settings.model, "version": settings.version,
                         "threshold": settings.threshold}, "patterns": patterns}
    with FileSystems.create(FileSystems.join(output, "summary.json")) as f:
        f.write(json.dumps(summary, indent=2).encode())
    FileSystems.delete([counts_path])
    if not summary["reconciled"]:
        logging.error("Counts do not reconcile: %s", counts)
    return summary
