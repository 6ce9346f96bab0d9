"""One `plan` or `apply` of a spec through the application layer, in its own process, against the
emulator named by PROVISION_EMULATOR_*; prints one JSON line: seconds, 429s seen, failures, peak RSS.
Used by run.py (a separate process, so that its memory and CPU are its own).

    python benchmarks/_worker.py plan|apply SPEC [PARALLELISM]
"""
from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from provisioner.workspace import Workspace  # noqa: E402


def main() -> None:
    mode, spec = sys.argv[1], sys.argv[2]
    parallelism = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    started = time.monotonic()
    with Workspace.open(spec) as workspace:
        if mode == "plan":
            plan = workspace.plan()
            failed, changes = 0, sum(1 for c in plan.changes if c.action.value != "no-op")
        else:
            result = workspace.apply(parallelism=parallelism)
            failed, changes = int(result.failed), None  # any change failed
        throttled = workspace.clients.budget.throttled
    print(json.dumps({"seconds": time.monotonic() - started, "throttled": throttled, "failed": failed,
                      "changes": changes, "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
