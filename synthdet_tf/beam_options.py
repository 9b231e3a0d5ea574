"""Beam pipeline options with a local default that never reaches the network.

Beam 2.77's DirectRunner first tries Prism, which it downloads from GitHub
on first use (and falls back when that fails). With no `--runner` given,
synthdet runs on FnApiRunner, the local runner DirectRunner falls back to;
it honours `--direct_num_workers` and `--direct_running_mode`.
"""

LOCAL_RUNNER = "FnApiRunner"


def pipeline_options(beam_args):
    from apache_beam.options.pipeline_options import PipelineOptions

    args = list(beam_args)
    if not any(a == "--runner" or a.startswith("--runner=") for a in args):
        args.append(f"--runner={LOCAL_RUNNER}")
    return PipelineOptions(args)
