"""Serve the eBay simulator in its own process: ``python -m bench.simproc '<json config>'``.

The config is a JSON object of :class:`SimulatorConfig` fields (``now`` as ISO 8601). Running the
simulator out of process keeps its CPU work off the measured process's interpreter lock.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from datetime import datetime

from ebay_pipelines.simulator.standalone import serve


def _exit_with_parent() -> None:
    """Stop serving when the process that started this one is gone (no orphans after a crash)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str]) -> int:
    """Serve until SIGTERM (or the parent's exit) with the config given as the first argument."""
    _exit_with_parent()
    config = json.loads(argv[0])
    now_text = config.pop("now", None)
    now = datetime.fromisoformat(now_text) if now_text else None
    port = int(config.pop("port", 0))
    seed = int(config.pop("seed", 7))
    serve(port, seed, now=now, **config)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
