"""Decoding a response body ourselves (gzip, deflate), tolerant of what real servers send."""

from __future__ import annotations

import zlib


class BodyDecoder:
    """Undo Content-Encoding ourselves so that broken compression never crashes a run.

    Servers label plain bodies as gzip, truncate streams, or send raw deflate without the
    zlib header. Like feedparser, we use the raw bytes when a body is not compressed at all
    (its first bytes are not a gzip/zlib stream), and keep what decoded when a stream
    breaks part-way; either way `warning` says so.
    """

    def __init__(self, encoding: str) -> None:
        self.encoding = self._label = encoding
        self.warning: str | None = None
        self._raw = encoding not in ("gzip", "x-gzip", "deflate")
        self._broken = False
        self._started = False
        self._head = b""
        gzip = encoding in ("gzip", "x-gzip")
        self._wbits = 16 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS
        self._zlib = zlib.decompressobj(self._wbits)
        if self._raw and encoding not in ("", "identity"):
            self.warning = f"unsupported Content-Encoding {encoding!r}; body used as sent"

    def feed(self, chunk: bytes, room: int) -> bytes:
        """Decoded bytes for `chunk`: at most `room + 1`, so the caller can detect overflow."""
        if self._raw:
            return chunk
        if self._broken:
            return b""
        saved = self._zlib.copy()
        try:
            out = self._zlib.decompress(chunk, room + 1)
        except zlib.error as exc:
            return self._fail(saved, chunk, room, exc)
        if not self._started:
            self._started = bool(out)
            self._head += chunk
        return out

    def _fail(self, saved: zlib._Decompress, chunk: bytes, room: int, exc: zlib.error) -> bytes:
        data = chunk if self._started else self._head + chunk
        if not self._started and self.encoding == "deflate":
            # Raw deflate without the zlib header is common; retry the stream that way.
            self.encoding, self._wbits = "raw deflate", -zlib.MAX_WBITS
            self._zlib = zlib.decompressobj(self._wbits)
            saved = self._zlib.copy()
            try:
                out = self._zlib.decompress(data, room + 1)
            except zlib.error as again:
                exc = again
            else:
                self._started, self._head = bool(out), data
                return out
        if not self._started and data[:2] != b"\x1f\x8b" and data[:1] != b"\x78":
            self._raw = True
            self.warning = f"body labelled {self._label} is not compressed; used as sent"
            return data
        # A real stream that breaks part-way: salvage what decodes, in small steps.
        self._broken = True
        self.warning = f"{self.encoding} body is corrupt ({exc}); kept the part that decoded"
        if not self._started:
            chunk, saved = data, zlib.decompressobj(self._wbits)
        out_parts: list[bytes] = []
        for start in range(0, len(chunk), 64):
            try:
                out_parts.append(saved.decompress(chunk[start : start + 64], room + 1))
            except zlib.error:
                break
        return b"".join(out_parts)[: room + 1]

    def finish(self) -> bytes:
        if self._raw or self._broken:
            return b""
        out = self._zlib.flush()
        if not self._zlib.eof and self._started:
            self.warning = f"{self.encoding} body is truncated; kept the part that decoded"
        return out
