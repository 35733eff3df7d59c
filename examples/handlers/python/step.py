#!/usr/bin/env python3
"""A Baton command handler in Python: writes one short report per phase and publishes it once.

  BATON_HANDLER="command:/path/to/step.py /srv/reports" baton worker

The argument is the folder reports are published to. Session input:
{"topic": "Quarterly report", "sections": ["Sales", "Costs"]}

  THINK      outline the report from the input (and the last phase's report, if any)
  EXECUTE    write the report and publish it into the folder, once per step (see publish)
  INTEGRATE  say what was published

Baton runs this program once per attempt of a step, with the step document on stdin, and
stores the JSON it prints as the step's result. Exit 0 is success; any other exit fails the
attempt (the message on stderr goes into the attempt history) and Baton retries it. Baton
delivers a step at least once: after a crash, the same step can run again even though an
earlier attempt got as far as publishing. Publishing is therefore keyed by the step's
idempotency key, the same on every attempt of this step.
Only the standard library is used.
"""
import hashlib
import json
import os
import sys
import tempfile


class BadInput(Exception):
    pass


def think(doc):
    given = doc["session"]["input"]
    topic = given.get("topic") if isinstance(given, dict) else None
    if not isinstance(topic, str) or not topic.strip():
        raise BadInput('the session input needs a "topic" (text)')
    sections = given.get("sections") or ["Summary"]
    outline = [f"{topic}: {section}" for section in sections]
    earlier = doc["previous"].get(f"{doc['phase'] - 1}.INTEGRATE")
    if earlier:
        outline.append(f"Changes since {os.path.basename(earlier['report'])}")
    return {"outline": outline}


def execute(doc, folder):
    outline = doc["previous"][f"{doc['phase']}.THINK"]["outline"]
    title = doc["session"]["input"]["topic"]
    body = "\n\n".join(f"## {heading}\n\nTo be written." for heading in outline)
    text = f"# {title} (phase {doc['phase']} of {doc['session']['totalPhases']})\n\n{body}\n"
    return publish(folder, doc["idempotencyKey"], text)


def integrate(doc):
    receipt = doc["previous"][f"{doc['phase']}.EXECUTE"]
    return {"report": receipt["report"], "words": receipt["words"], "phase": doc["phase"]}


def publish(folder, key, text):
    """Publishes `text` once for `key` and returns its receipt; a later call with the same key
    returns the first receipt and publishes nothing. The receipt is written last: a crash
    before it makes the next attempt write the same file again, which does no harm."""
    name = hashlib.sha256(key.encode()).hexdigest()[:16]
    receipt_path = os.path.join(folder, name + ".receipt.json")
    try:
        with open(receipt_path, encoding="utf-8") as existing:
            return json.load(existing)
    except FileNotFoundError:
        pass
    report = os.path.join(folder, name + ".md")
    write_atomically(report, text)
    receipt = {"report": report, "words": len(text.split())}
    write_atomically(receipt_path, json.dumps(receipt))
    return receipt


def write_atomically(path, text):
    """Readers see the whole file or none of it."""
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: step.py <folder to publish reports to>")
    folder = sys.argv[1]
    os.makedirs(folder, exist_ok=True)
    doc = json.load(sys.stdin)
    try:
        if doc["step"] == "THINK":
            result = think(doc)
        elif doc["step"] == "EXECUTE":
            result = execute(doc, folder)
        else:
            result = integrate(doc)
    except BadInput as problem:
        # A command handler cannot fail a session at once: this attempt fails and is retried
        # like any other (MAX_RETRIES), then the session is FAILED with this message.
        sys.exit(f"bad input: {problem}")
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
