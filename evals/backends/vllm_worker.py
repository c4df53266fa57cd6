"""Runs under the vLLM environment's python: one engine, JSON-line requests on stdin, replies on stdout.

vLLM and its engine processes log to stdout; the replies get a private copy of fd 1 and everything else is
sent to stderr, so a log line can never be read as a reply.
"""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    from evals.backends.vllm_backend import VLLMEngine, as_json

    try:
        engine = VLLMEngine(**json.loads(sys.argv[1]))
    except Exception as e:  # the parent shows it and raises
        replies.write(json.dumps({"error": f"engine start failed: {type(e).__name__}: {e}"}) + "\n")
        return
    replies.write(json.dumps({"result": "ready"}) + "\n")
    for line in sys.stdin:
        req = json.loads(line)
        op = req.pop("op")
        try:
            result = as_json(getattr(engine, op)(**req))
        except Exception as e:
            replies.write(json.dumps({"error": f"{op} failed: {type(e).__name__}: {e}"}) + "\n")
            continue
        replies.write(json.dumps({"result": result}) + "\n")


if __name__ == "__main__":
    main()
