"""synthdet-data: build and look at image folders before training on them.

    synthdet-data inspect --data_dir=../shared/data/dev [--output=inspect.json]
    synthdet-data sample --out_dir=runs/sample_data    # a small folder from bundled images
    synthdet-data assemble --repos_dir=/path/to/clones --out=runs/wide \\
        [--sources=synthdet_tf/corpus/sources.toml] [--only=id1,id2] [--dedupe_against=../shared/data/dev] [--clone]
    synthdet-data shard --data_dir=../shared/data/dev,runs/wide --out=runs/shards [--num_shards=16] \\
        [--direct_num_workers=2 --direct_running_mode=multi_processing]    # Beam options pass through ([beam] extra)
    synthdet-data licences [--sources=synthdet_tf/corpus/sources.toml]    # the licence note of every source, as Markdown
    synthdet-data reconstruct --data_dir=../shared/data/dev,runs/wide --out=runs/aligned_taef2 \
        --repos_dir=/path/to/clones [--autoencoder=taef2] [--crop_size=256] [--per_image=1] [--min_psnr=30]

inspect: counts, formats, sizes and possible shortcuts of a folder (or several).
sample: a tiny real/ fake/ folder for trying the tools offline.
assemble: the wide corpus, from pinned commits of public repositories (sources.toml).
shard: a folder as TFRecord shards that training reads instead of the files.
reconstruct: content-aligned fakes, each real photo's crop through a generator's
  tiny autoencoder (weights from a pinned madebyollin/taesd commit under --repos_dir,
  or --weights_dir); resumes where it stopped. Train on it beside its --data_dir.
`synthdet-data VERB --help` lists only that verb's flags.
"""

import json
import os

from absl import app, flags

from synthdet_scripts import _cli, config_flag
from synthdet_tf.corpus import assemble as assemble_lib
from synthdet_tf.corpus.sources import licence_table, load_sources
from synthdet_tf.data.discovery import discover_from_config
from synthdet_tf.data.summary import format_summary, summarize

DEFAULT_SOURCES = os.path.join(os.path.dirname(assemble_lib.__file__), "sources.toml")

_OUTPUT = flags.DEFINE_string("output", None, "inspect: also write the summary as JSON here.")
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Replace an existing --output file, or an --out folder assemble did not make.")
_OUT_DIR = flags.DEFINE_string("out_dir", "runs/sample_data", "sample: where to write the folder.")
_SOURCES = flags.DEFINE_string("sources", DEFAULT_SOURCES, "assemble: the sources file (TOML).")
_REPOS_DIR = flags.DEFINE_string("repos_dir", None, "assemble: folder holding the clones (owner+name/repo, owner/name.git, ...).")
_OUT = flags.DEFINE_string("out", None, "assemble: the corpus folder to write (replaced whole when assemble made it); shard: the shard folder.")
_ONLY = flags.DEFINE_list("only", [], "assemble: only these source ids.")
_DEDUPE_AGAINST = flags.DEFINE_list("dedupe_against", [], "assemble: folders (real/ fake/) whose images must not be repeated, e.g. the dev set.")
_CLONE = flags.DEFINE_bool("clone", False, "assemble: git clone / fetch each pinned commit into --repos_dir first (needs the network).")
_CLONE_URL = flags.DEFINE_string("clone_url", "https://github.com/{repository}.git", "assemble --clone: URL template ({repository}, {owner}, {name}).")
_NUM_SHARDS = flags.DEFINE_integer("num_shards", 16, "shard: TFRecord files per split (fewer when a split is small).")
_AUTOENCODER = flags.DEFINE_string("autoencoder", "taef2", "reconstruct: which pinned tiny autoencoder.")
_WEIGHTS_DIR = flags.DEFINE_string("weights_dir", None, "reconstruct: folder holding the autoencoder's .pth files (else read from --repos_dir).")
_CROP_SIZE = flags.DEFINE_integer("crop_size", 256, "reconstruct: side of each native-resolution crop (multiple of 8).")
_PER_IMAGE = flags.DEFINE_integer("per_image", 1, "reconstruct: crops per real photo (the centre first, then hashed offsets).")
_MIN_PSNR = flags.DEFINE_float("min_psnr", 30.0, "reconstruct: skip (and count) reconstructions less faithful than this, in dB.")
_LIMIT = flags.DEFINE_integer("limit", None, "reconstruct: make at most this many crops in this run.")
_MAX_DISTANCE = flags.DEFINE_integer("max_distance", 1, "assemble: dHash Hamming distance up to which two images are near duplicates.")

# The flags each verb reads (its --help lists them under the verb).
VERB_FLAGS = {
    "inspect": ("data_dir", "config", "output", "overwrite"),
    "sample": ("out_dir",),
    "assemble": ("repos_dir", "out", "sources", "only", "dedupe_against", "clone", "clone_url", "max_distance", "overwrite"),
    "shard": ("data_dir", "config", "out", "num_shards", "overwrite"),
    "licences": ("sources",),
    "reconstruct": ("data_dir", "out", "autoencoder", "repos_dir", "weights_dir", "crop_size", "per_image", "min_psnr", "limit"),
}
VERBS = tuple(VERB_FLAGS)


def inspect(config):
    if not config.data.data_dir:
        raise app.UsageError("inspect needs --data_dir (or --config.data.data_dir)")
    if _OUTPUT.value and os.path.exists(_OUTPUT.value) and not _OVERWRITE.value:
        raise app.UsageError(f"{_OUTPUT.value} exists; pass --overwrite to replace it")
    discovery = discover_from_config(config.data, progress=True)
    summary = summarize(discovery, shortcut=True)
    print(format_summary(summary))
    if _OUTPUT.value:
        with open(_OUTPUT.value, "w") as f:
            json.dump(summary, f, indent=2)
        print(f"\nWrote {_OUTPUT.value}")


def assemble():
    if not _REPOS_DIR.value or not _OUT.value:
        raise app.UsageError("assemble needs --repos_dir and --out")
    sources = load_sources(_SOURCES.value, only=_ONLY.value)
    report = assemble_lib.assemble(
        sources, _REPOS_DIR.value, _OUT.value, dedupe_against=_DEDUPE_AGAINST.value,
        clone_url=_CLONE_URL.value if _CLONE.value else None, max_distance=_MAX_DISTANCE.value,
        overwrite=_OVERWRITE.value, progress=True,
    )
    print(assemble_lib.format_report(report))
    print(f"Wrote {_OUT.value} (every file not taken, with its reason: {assemble_lib.REPORT_NAME})")


def shard(config, beam_args):
    if not config.data.data_dir or not _OUT.value:
        raise app.UsageError("shard needs --data_dir and --out")
    try:
        from synthdet_tf.corpus import shard_writer
    except ImportError as e:
        raise app.UsageError(f"shard needs Apache Beam: pip install 'synthdet-tf[beam]' ({e})") from None
    d = config.data
    meta = shard_writer.write(d.data_dir, _OUT.value, num_shards=_NUM_SHARDS.value, beam_args=beam_args,
                              overwrite=_OVERWRITE.value, fractions=tuple(d.fractions), salt=d.split_salt,
                              source_from=d.source_from, progress=True)
    print(f"Wrote {meta['records']} images to {_OUT.value} ({meta['splits']}); skipped {len(meta['skipped'])}")


def reconstruct(config):
    if not config.data.data_dir or not _OUT.value:
        raise app.UsageError("reconstruct needs --data_dir and --out")
    from synthdet_tf.corpus import reconstruct as recon

    weights = recon.weight_files(_AUTOENCODER.value, weights_dir=_WEIGHTS_DIR.value, repos_dir=_REPOS_DIR.value,
                                 cache_dir=os.path.join(_OUT.value, ".weights"))
    summary = recon.reconstruct(config.data.data_dir, _OUT.value, name=_AUTOENCODER.value, autoencoder=recon.taesd_round_trip(*weights),
                                size=_CROP_SIZE.value, per_image=_PER_IMAGE.value, min_psnr=_MIN_PSNR.value, limit=_LIMIT.value)
    print(json.dumps(summary, indent=2))
    print(f"Wrote {_OUT.value}: train on it beside its reals, e.g. --data_dir={config.data.data_dir},{_OUT.value}")


def main(argv):
    beam_args = [a for a in argv[1:] if a.startswith("--")]  # flags absl did not know: Beam options (shard)
    argv = [a for a in argv if not a.startswith("--")]
    if beam_args and (len(argv) != 2 or argv[1] != "shard"):
        raise app.UsageError(f"Unknown flags: {beam_args}")
    if len(argv) != 2 or argv[1] not in VERBS:
        raise app.UsageError(f"usage: synthdet-data {{{'|'.join(VERBS)}}} [flags]")
    if argv[1] == "inspect":
        inspect(config_flag.config())
    elif argv[1] == "shard":
        shard(config_flag.config(), beam_args)
    elif argv[1] == "licences":
        print(licence_table(load_sources(_SOURCES.value)), end="")
    elif argv[1] == "reconstruct":
        try:
            reconstruct(config_flag.config())
        except (ValueError, FileNotFoundError, FileExistsError) as e:
            raise app.UsageError(str(e)) from None
    elif argv[1] == "assemble":
        try:
            assemble()
        except (ValueError, FileExistsError, assemble_lib.NothingUsableError) as e:
            raise app.UsageError(str(e)) from None
    else:
        from synthdet_tf.corpus.sample import write_sample_folder  # matplotlib and scikit-learn: seconds to import

        print(f"Wrote {write_sample_folder(_OUT_DIR.value)}")


def run():
    _cli.run(main, __name__, verbs=VERB_FLAGS, known_only=True)


if __name__ == "__main__":
    run()
