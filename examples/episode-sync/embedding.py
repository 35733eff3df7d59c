"""Embeddings for the episode index, and how an episode is cut into chunks.

The default embedder, `hashed`, is a small deterministic one for tests and demos: it hashes the
words of a text into 32 dimensions, so texts that share words lie close together. It knows no
language; plug in a real model with EPISODE_EMBEDDER=module:function, where the function takes a
list of strings and returns one list of floats per string, all of the same length (see README).
"""
import hashlib
import importlib
import math
import os
import re

DIMENSIONS = 32


def hashed(texts):
    """One unit vector per text: word counts hashed into DIMENSIONS signed buckets."""
    vectors = []
    for text in texts:
        vector = [0.0] * DIMENSIONS
        for word in re.findall(r"\w+", text.lower()):
            digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % DIMENSIONS
            vector[bucket] += 1.0 if digest[4] & 1 else -1.0
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        vectors.append([x / norm for x in vector])
    return vectors


def load():
    """The embedder named by EPISODE_EMBEDDER (module:function), or `hashed`; and its name."""
    spec = os.environ.get("EPISODE_EMBEDDER", "")
    if not spec:
        return hashed, "hashed"
    module, _, function = spec.partition(":")
    if not function:
        raise SystemExit(f"EPISODE_EMBEDDER={spec!r} must be module:function")
    return getattr(importlib.import_module(module), function), spec


def chunks(title, body, size=400):
    """The episode as chunks of at most about `size` characters, split at paragraphs and
    sentences; the title leads the first chunk."""
    pieces = [p.strip() for p in re.split(r"\n\s*\n|(?<=[.!?])\s+", body or "") if p.strip()]
    out, current = [], (title or "").strip()
    for piece in pieces:
        if current and len(current) + 1 + len(piece) > size:
            out.append(current)
            current = piece
        else:
            current = f"{current} {piece}".strip()
    if current:
        out.append(current)
    return out or [(title or "").strip() or "(empty)"]
