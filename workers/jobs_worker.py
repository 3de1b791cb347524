"""jobs_worker: a jobctl worker stage in Python, as one function (standard library only).

Copy this file beside your handler (``jobctl init`` writes it to handlers/) and write:

    import jobs_worker

    def handle(item, ctx):
        text = item["data"].get("text")
        if not text:
            ctx.skip("no text")                  # the stage is skipped; the next one runs
        ctx.log("counting", words=len(text.split()))
        ctx.cost(0.0001, model="none")          # counts toward the job's budget
        return {"words": len(text.split())}     # stored as the stage's result

    if __name__ == "__main__":
        jobs_worker.serve(handle)

and in jobs.yaml:

    - name: count
      command: [python3, handlers/count.py]
      worker: true                              # or { max_items: 1000 }

On a ``batch:`` stage, ``jobs_worker.serve_batch(handle)`` calls ``handle(items, ctx)``, which
returns a dict of outcomes by item key (see README, "Batch handlers").

The process starts once and handles one item at a time until jobctl closes its stdin. Heavy
imports and clients made at the top of the file are made once. ``handle`` returns the result
(anything ``json`` can encode), or raises ``Skip``, ``PermanentError`` (fails the stage without
retries), ``RetryLater`` (tried again after ``after`` seconds); any other exception is a failed
attempt, retried as the stage's ``retries`` say, with its traceback on stderr. What the handler
prints goes to stderr (stdout carries the protocol); the end of it is kept with an error.
"""

import json
import os
import sys
import traceback

__all__ = ["serve", "serve_batch", "Skip", "PermanentError", "RetryLater", "Context"]


class Skip(Exception):
    """Ends the stage as skipped, with this reason."""


class PermanentError(Exception):
    """Retrying cannot help: the stage fails at once, with this message."""


class RetryLater(Exception):
    """Try again later: after ``after`` seconds, or the stage's backoff when None."""

    def __init__(self, message, after=None):
        super().__init__(message)
        self.after = after


class Context:
    """The second argument of the handler: the item's earlier results, logs and costs.

    For a batch handler (``serve_batch``) it has no ``key``, ``results`` or ``attempt`` (each
    item has its own), and a cost is split evenly over the batch's items.
    """

    def __init__(self, request, send):
        context = request["context"]
        item = request.get("item")
        if item is not None:
            self.key = item["key"]
            self.results = request["results"]
            self.attempt = context["attempt"]
        self.job = context["job"]
        self.stage = context["stage"]
        self.mode = context["mode"]
        self._send = send

    def log(self, message, level="info", **data):
        """A log line tagged with the job, stage and item; level is info, warn or error."""
        self._send({"kind": "log", "level": level, "message": str(message), "data": data})

    def cost(self, usd, **meta):
        """Records money spent on this item (counts toward the job's budget.daily_usd)."""
        self._send({"kind": "cost", "usd": float(usd), "meta": meta})

    def skip(self, reason):
        """Ends the stage as skipped."""
        raise Skip(reason)


def serve(handle):
    """Answers jobctl's requests with ``handle(item, ctx)`` until stdin is closed."""
    _serve(lambda request, ctx: handle(request["item"], ctx))


def serve_batch(handle):
    """For a ``batch:`` stage: ``handle(items, ctx)`` returns a dict of outcomes by item key.

    Each item has ``key``, ``data``, ``results`` and ``attempt``; each outcome is a final message
    of the protocol without its id, such as ``{"kind": "result", "result": ...}`` or
    ``{"kind": "skip", "reason": "..."}``. An exception is the outcome of the whole batch.
    """
    _serve(lambda request, ctx: handle(request["items"], ctx))


def _serve(call):
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", newline="\n")
    os.dup2(2, 1)  # print() and C libraries writing to stdout end up on stderr
    sys.stdout = sys.stderr
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        request = json.loads(line)
        ident = request["id"]

        def send(message, ident=ident):
            message["id"] = ident
            line = json.dumps(message, separators=(",", ":"), allow_nan=False)
            protocol.write(line + "\n")
            protocol.flush()

        outcome = _outcome(call, request, send)
        try:
            send(outcome)
        except (TypeError, ValueError) as e:
            send({"kind": "fail", "message": f"Result is not JSON-serialisable: {e}"})


def _outcome(call, request, send):
    try:
        result = call(request, Context(request, send))
    except Skip as e:
        return {"kind": "skip", "reason": str(e)}
    except PermanentError as e:
        return {"kind": "fail", "message": str(e)}
    except RetryLater as e:
        if e.after is None:
            return {"kind": "retry_later", "message": str(e)}
        return {"kind": "retry_later", "message": str(e), "after_ms": max(0, e.after * 1000)}
    except Exception as e:  # noqa: BLE001 - every other failure is a retried attempt
        traceback.print_exc(file=sys.stderr)
        sys.stderr.flush()
        return {"kind": "error", "message": f"{type(e).__name__}: {e}"}
    return {"kind": "result", "result": result}
