"""The process the crash tests kill: ``python -m tests.sync.crash_child INFO CACHE [apply|undo
RUN_ID]``. It writes back the strong and medium pairs of a pulled cache (or undoes a run)
the way ``concord apply`` does; ``CONCORD_CRASH_AT`` names where it kills itself."""

import os
import sys
from pathlib import Path

from core.sync import apply as apply_module
from core.sync.apply import apply_plan, resume
from core.sync.connections import Connection
from core.sync.plan import plan
from core.sync.undo import undo


def main(info: str, cache_path: str, action: str = "apply", run_id: str = "0") -> None:
    # Small rounds, so a kill can land between rounds as well as inside one.
    apply_module.ROUND = int(os.environ.get("CRASH_ROUND", apply_module.ROUND))
    connection = Connection.for_sandbox(info, cache_path)
    sources = connection.sources()
    with connection.open_cache() as cache:
        if action == "undo":
            undo(cache, sources.salesforce, sources.apollo, int(run_id))
            return
        resume(cache, sources.salesforce, sources.apollo)
        apply_plan(cache, sources.salesforce, sources.apollo,
                   plan(cache, strengths=("strong", "medium")),
                   out_dir=Path(cache_path).parent / "runs")


if __name__ == "__main__":
    main(*sys.argv[1:])
