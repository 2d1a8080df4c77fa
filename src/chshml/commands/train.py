"""``chshml train svm|nn DATA.h5 -o MODEL``: fit a classifier of Q on a labelled dataset."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from chshml.commands._args import json_or_text, key_value
from chshml.errors import InputError
from chshml.models._config import check_settings
from chshml.models.training import train_model


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` subcommand."""
    p = subparsers.add_parser(
        "train", help="train an SVM (.joblib) or a network (.keras) on a labelled dataset",
        description="Train on the train split, choose on the validation split, save the "
                    "model and MODEL.json (dataset, grid/restarts, choice, timings, versions).")
    p.add_argument("kind", choices=("svm", "nn", "gauge"))
    p.add_argument("data", help="labelled dataset (results/data/{dataset}.h5)")
    p.add_argument("-o", "--output", required=True,
                   help="MODEL.joblib (svm), MODEL.keras (nn) or MODEL.npz (gauge)")
    p.add_argument("--config", help="YAML/JSON file: a mapping, or one with 'svm:'/'nn:' sections")
    p.add_argument("--set", type=key_value, action="append", default=[], metavar="KEY=VALUE",
                   help="override one setting (value parsed as JSON when possible)")
    p.set_defaults(run=run)


def read_config(path: str | None, kind: str,
                overrides: list[tuple[str, str]]) -> dict[str, Any]:
    """Settings for ``kind`` from a YAML/JSON file plus ``KEY=VALUE`` overrides."""
    cfg: dict[str, Any] = {}
    if path:
        text = Path(path).read_text() if Path(path).is_file() else None
        if text is None:
            raise InputError(f"config file not found: {path}")
        try:
            import yaml

            raw = yaml.safe_load(text)
        except ImportError:
            raw = json.loads(text)
        raw = raw or {}
        if not isinstance(raw, dict):
            raise InputError(f"{path}: the config must be a mapping")
        if "models" in raw and isinstance(raw["models"], dict):
            raw = raw["models"]
        if kind in raw:
            cfg = dict(raw[kind] or {})
        elif not {"svm", "nn", "gauge"} & set(raw):
            cfg = dict(raw)
    for key, value in overrides:
        cfg[key] = json_or_text(value)
    return cfg


def run(args: argparse.Namespace) -> int:
    cfg = read_config(args.config, args.kind, args.set)
    if args.kind == "gauge":  # regression of the gauge lam (chshml.models.gauge)
        return _run_gauge(args, cfg)
    errors = check_settings(args.kind, cfg)
    if errors:
        raise InputError(errors[0])
    try:
        meta = train_model(args.kind, args.data, args.output, cfg, inputs=(args.config,))
    except ValueError as err:
        raise InputError(str(err)) from err
    chosen = ", ".join(f"{k}={v}" for k, v in meta["chosen"].items())
    print(f"chshml train {args.kind}: {meta['dataset']} ({meta['n_train_used']} train points) "
          f"-> {args.output} [{chosen}] in {meta['timings']['total_seconds']:.1f} s",
          file=sys.stderr)
    return 0


def _run_gauge(args: argparse.Namespace, cfg: dict[str, Any]) -> int:
    from chshml.models.gauge import describe, settings_errors, train_gauge

    cfg.pop("datasets", None)
    errors = settings_errors(cfg)
    if errors:
        raise InputError(errors[0])
    meta = train_gauge(args.data, args.output, cfg, inputs=(args.config,))
    print(f"chshml train gauge: {meta['dataset']} ({meta['n_train_used']} rays) -> "
          f"{args.output} [{describe(meta)}] in {meta['timings']['total_cpu_seconds']:.1f} "
          "CPU-s", file=sys.stderr)
    return 0
