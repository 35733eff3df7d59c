#!/usr/bin/env python3
"""An HTTP step handler that takes each step on with 202 Accepted and finishes it later through
Baton's API: the way to run work that takes longer than a worker should wait for, or that
happens in another system (a batch job, a person, a queue of your own).

  python3 server.py --port 8090 --api http://127.0.0.1:8080
  BATON_HANDLER=http://127.0.0.1:8090/ baton worker

The worker POSTs the step document here. This server answers 202 at once and does the work in
a thread of its own; the worker's slot is free meanwhile, and the step stays RUNNING until the
thread calls POST /api/tasks/{id}/complete (or /fail) on the Baton API at --api. The task id
is the request's Baton-Task-Id header. Unfinished WORKER_TIMEOUT after the step started, the
attempt fails and Baton retries the step with a new request.

Requests repeat: after a worker crash, or when a step's attempt timed out, the same step comes
again with the same Idempotency-Key. A key whose work runs is answered 202 again without
starting it twice; a key whose work is done is answered 200 with its result, which completes
the step on the spot (for instance when the completion call came too late, after the attempt
had been given up).

Session input: {"text": "Some text to summarise."}. The work: THINK counts the sentences,
EXECUTE finds the most frequent words, INTEGRATE writes a one-line summary.
If the API wants a token, set BATON_API_TOKEN in this server's environment.
Only the standard library is used.
"""
import argparse
import collections
import json
import os
import re
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def work(doc):
    """The step's work; runs in a thread of its own."""
    text = doc["session"]["input"].get("text", "")
    previous = doc["previous"]
    phase = doc["phase"]
    if doc["step"] == "THINK":
        return {"sentences": len([s for s in re.split(r"[.!?]+", text) if s.strip()])}
    if doc["step"] == "EXECUTE":
        words = collections.Counter(w.lower() for w in re.findall(r"[A-Za-z']{4,}", text))
        return {"topWords": [word for word, _ in words.most_common(3)]}
    sentences = previous[f"{phase}.THINK"]["sentences"]
    top = previous[f"{phase}.EXECUTE"]["topWords"]
    return {"summary": f"{sentences} sentence(s), mostly about {', '.join(top) or 'nothing'}"}


class Jobs:
    """The state of every step this server took on, by idempotency key."""

    def __init__(self):
        self.lock = threading.Lock()
        self.results = {}   # key -> result, once the work is done
        self.running = set()

    def take(self, key):
        """'done' with the result, 'running', or 'new' (the caller starts the work)."""
        with self.lock:
            if key in self.results:
                return "done", self.results[key]
            if key in self.running:
                return "running", None
            self.running.add(key)
            return "new", None

    def finish(self, key, result):
        with self.lock:
            self.running.discard(key)
            if result is not None:
                self.results[key] = result


def call_api(api, path, body):
    """POSTs to the Baton API; returns the HTTP status."""
    request = urllib.request.Request(api.rstrip("/") + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    token = os.environ.get("BATON_API_TOKEN")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def run_job(api, jobs, key, task_id, doc):
    try:
        result = work(doc)
    except Exception as error:  # the step fails; Baton retries it or fails the session
        jobs.finish(key, None)
        status = call_api(api, f"/api/tasks/{task_id}/fail", {"error": f"{type(error).__name__}: {error}"})
        log(f"failed {key}: {error} (API answered {status})")
        return
    jobs.finish(key, result)
    status = call_api(api, f"/api/tasks/{task_id}/complete", {"result": result})
    # 409: the task is no longer RUNNING (its attempt was given up, or the session cancelled).
    # The result stays here; a retry of the step gets it with a 200.
    log(f"completed {key} (API answered {status})")


def log(line):
    print(line, flush=True)


def handler_class(api, jobs):
    class StepHandler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            doc = json.loads(self.rfile.read(length))
            key = self.headers["Idempotency-Key"]
            task_id = self.headers["Baton-Task-Id"]
            state, result = jobs.take(key)
            if state == "done":
                self.answer(200, result)
                return
            if state == "new":
                threading.Thread(target=run_job, args=(api, jobs, key, task_id, doc), daemon=True).start()
                log(f"accepted {key} as task {task_id}")
            self.answer(202, {"accepted": key})

        def answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args):
            pass  # one line per job is enough

    return StepHandler


def main():
    parser = argparse.ArgumentParser(description="A step handler that answers 202 and finishes each step later through the Baton API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090, help="0 picks a free port")
    parser.add_argument("--api", required=True, help="the Baton API, e.g. http://127.0.0.1:8080")
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), handler_class(args.api, Jobs()))
    log(f"listening on http://{args.host}:{server.server_address[1]}/")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
