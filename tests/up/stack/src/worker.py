"""The test stack's worker: prints each event on one line (EVENT {...}), so
the test reads what it received from the log; reports SQS messages whose body
contains "fail" as failed items, and fails the whole batch when one says
"crash"."""

import json


def handler(event, context):
    print("EVENT " + json.dumps(event, sort_keys=True), flush=True)
    records = event.get("Records") or []
    if any("crash" in (r.get("body") or "") for r in records):
        raise RuntimeError("a message asked for a crash")
    failed = [r["messageId"] for r in records if "fail" in (r.get("body") or "")]
    return {"batchItemFailures": [{"itemIdentifier": m} for m in failed]}
