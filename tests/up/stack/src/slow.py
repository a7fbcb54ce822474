"""The test stack's slow function: sleeps as long as the query string says
(?sleep=SECONDS), then answers when it started and ended (time.time()) and
which execution environment it ran in (its log stream and pid)."""

import json
import os
import time


def handler(event, context):
    started = time.time()
    time.sleep(float((event.get("queryStringParameters") or {}).get("sleep", "0")))
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(
            {
                "started": started,
                "ended": time.time(),
                "stream": context.log_stream_name,
                "pid": os.getpid(),
            }
        ),
    }
