"""Raw bodies, content-addressed: zstd-compressed, or a zstd delta against the policy's keyframe."""

from __future__ import annotations

import hashlib
import threading

import zstandard
from sqlite_utils import Database

ZSTD_LEVEL = 10


# -- blobs and snapshots ----------------------------------------------------------------------


DELTA_LEVEL = 3


DELTA_MAX_SHARE = 0.05  # a delta bigger than this share of its body starts a new keyframe


_dictionaries: dict[str, tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor]] = {}


_dictionary_lock = threading.RLock()  # zstd (de)compressor objects are not thread-safe


def put_blob(db: Database, body: bytes, base: str | None = None) -> str:
    """Store a body content-addressed and zstd-compressed; returns its sha256.

    With `base` (the sha256 of an earlier body of the same page, see `keyframe`), the body is
    compressed against it as a zstd raw-content dictionary: successive captures of one policy
    share nearly all their bytes, so a delta is a few hundred bytes where plain zstd keeps a
    fifth of the page. Deltas are one level deep (the base is always a plain keyframe), and a
    body that is too unlike its base (a redesign) becomes a keyframe itself."""
    sha = hashlib.sha256(body).hexdigest()
    exists = db.execute("SELECT 1 FROM blobs WHERE sha256 = ?", [sha]).fetchone()
    if exists:
        return sha
    delta = None
    if base is not None and base != sha:
        compressor, _ = _dictionary(db, base)
        with _dictionary_lock:
            delta = compressor.compress(body)
        if len(delta) > DELTA_MAX_SHARE * len(body):
            delta = None
    if delta is not None:
        db.execute(
            "INSERT INTO blobs (sha256, size, compression, data, base_sha256) "
            "VALUES (?, ?, 'zstd-delta', ?, ?)",
            [sha, len(body), delta, base],
        )
    else:
        data = zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(body)
        db.execute(
            "INSERT INTO blobs (sha256, size, compression, data) VALUES (?, ?, 'zstd', ?)",
            [sha, len(body), data],
        )
    return sha


def keyframe(db: Database, pid: int) -> str | None:
    """The keyframe of the policy's newest stored body (itself, or the base of its delta)."""
    row = db.execute(
        "SELECT coalesce(b.base_sha256, b.sha256) FROM snapshots s "
        "JOIN blobs b ON b.sha256 = s.blob_sha256 WHERE s.policy_id = ? "
        "ORDER BY s.id DESC LIMIT 1",
        [pid],
    ).fetchone()
    return str(row[0]) if row else None


def _dictionary(
    db: Database, base: str
) -> tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor]:
    with _dictionary_lock:
        cached = _dictionaries.get(base)
        if cached is None:
            content = zstandard.ZstdCompressionDict(
                get_blob(db, base), dict_type=zstandard.DICT_TYPE_RAWCONTENT
            )
            cached = (
                zstandard.ZstdCompressor(level=DELTA_LEVEL, dict_data=content),
                zstandard.ZstdDecompressor(dict_data=content),
            )
            if len(_dictionaries) >= 16:
                _dictionaries.pop(next(iter(_dictionaries)))
            _dictionaries[base] = cached
        return cached


def get_blob(db: Database, sha: str) -> bytes:
    row = db.execute(
        "SELECT compression, data, base_sha256 FROM blobs WHERE sha256 = ?", [sha]
    ).fetchone()
    if row is None:
        raise LookupError(f"no blob {sha}")
    compression, data = row[0], bytes(row[1])
    if compression == "zstd-delta":
        decompressor = _dictionary(db, row[2])[1]
        with _dictionary_lock:
            return decompressor.decompress(data)
    return zstandard.ZstdDecompressor().decompress(data) if compression == "zstd" else data
