"""synthdet-generalize: the generalization benchmark of one recipe (one config).

    synthdet-generalize --config=configs/lab/generalize.py --workdir=runs/gen_v1 \\
        --data_dir=../shared/data/dev,runs/wide [--families=FLUX,SDXL] [--min_images=50] [--external=runs/external]
    synthdet-generalize --compare=v1=runs/gen_v1,v2=runs/gen_v2   # finished runs side by side
    synthdet-generalize --fuse=runs/gen_whole,runs/gen_local --config=configs/lab/generalize.py --workdir=runs/gen_fused \
        --data_dir=../shared/data/dev,runs/wide   # two finished benchmarks fused fold by fold
    synthdet-generalize --config=configs/lab/generalize.py --model=exported/synthdet/1 --workdir=runs/score_v1 \
        --data_dir=../shared/data/dev,runs/wide   # the trained-on-everything checks for one finished model

Leave-one-generator-family-out, the held-out sources, faces and the format
audit (synthdet_tf/evaluate/generalization.py), and with --external the
external check (as-is and processing-matched) of the model trained on
everything. Writes generalization.md and
generalization.json in --workdir; finished folds are reused when run again.
"""

from absl import app, flags, logging

from synthdet_scripts import _cli, config_flag

_WORKDIR = flags.DEFINE_string("workdir", None, "Folder for the per-family runs and the table.")
_MIN_IMAGES = flags.DEFINE_integer("min_images", 50, "Leave out only FAKE families with at least this many images.")
_FAMILIES = flags.DEFINE_list("families", None, "Only these FAKE families (default: all with enough images).")
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Train finished folds again.")
_FOLDS_ONLY = flags.DEFINE_bool("folds_only", False, "Train the left-out-family folds only, no model on everything.")
_MODEL = flags.DEFINE_string("model", None, "Instead of training: score this model (any format) with the trained-on-everything checks.")
_EXTERNAL = flags.DEFINE_string("external", None, "External check folder (../shared/data/external/build.py makes it): "
                                "the model trained on everything is scored on it, as-is and processing-matched.")
_FUSE = flags.DEFINE_list("fuse", None, "Instead of training: WHOLE_WORKDIR,LOCAL_WORKDIR of two finished benchmarks; "
                          "their fold models are fused per fold (standardised mean) on --config's folds.")
_COMPARE = flags.DEFINE_list("compare", None, "Instead of running: print finished benchmarks side by side, as name=workdir.")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    from synthdet_tf.lab import generalization

    if _COMPARE.value:
        pairs = [item.split("=", 1) if "=" in item else (item, item) for item in _COMPARE.value]
        print(generalization.format_comparison({name: generalization.load(path) for name, path in pairs}))
        return
    if not _WORKDIR.value:
        raise app.UsageError("--workdir is required (or --compare)")
    if _FOLDS_ONLY.value and _EXTERNAL.value:
        raise app.UsageError("--external is scored by the model trained on everything, which --folds_only skips")
    if _FUSE.value:
        from synthdet_tf.lab import fused_lofo

        if len(_FUSE.value) != 2:
            raise app.UsageError("--fuse takes two workdirs: the whole-image benchmark's, then the local stream's")
        print(fused_lofo.format_markdown(fused_lofo.run(config_flag.config(), *_FUSE.value, _WORKDIR.value,
                                                         min_images=_MIN_IMAGES.value)))
        return
    if _MODEL.value:
        print(generalization.format_markdown(generalization.score_model(config_flag.config(), _MODEL.value, _WORKDIR.value,
                                                                             external_dir=_EXTERNAL.value)))
        return
    result = generalization.run(config_flag.config(), _WORKDIR.value, min_images=_MIN_IMAGES.value,
                                families=_FAMILIES.value, overwrite=_OVERWRITE.value, external_dir=_EXTERNAL.value,
                                folds_only=_FOLDS_ONLY.value)
    print(generalization.format_markdown(result))


def run():
    _cli.run(main, __name__, verbosity=logging.INFO)


if __name__ == "__main__":
    run()
