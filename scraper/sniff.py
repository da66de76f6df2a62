"""Whether bytes read from a file are a document at all: not empty, not binary.

An empty file, an executable or an image named ``.html`` would otherwise be parsed into
an empty article and stored as if it had been read. :func:`unreadable_reason` names
what the bytes are instead, for the run to record the file as skipped.
"""

from __future__ import annotations

__all__ = ["unreadable_reason"]

# File signatures of the binary formats most often found among saved pages.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x7fELF", "ELF executable"),
    (b"MZ", "Windows executable"),
    (b"\xcf\xfa\xed\xfe", "Mach-O executable"),
    (b"\xca\xfe\xba\xbe", "Mach-O or Java class file"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x1f\x8b", "gzip data"),
    (b"BZh", "bzip2 data"),
    (b"\xfd7zXZ\x00", "xz data"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"\x00\x00\x01\x00", "icon image"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"\x00asm", "WebAssembly module"),
)
_RIFF_KINDS = {b"WEBP": "WebP image", b"WAVE": "WAV audio", b"AVI ": "AVI video"}
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
#: How much of the file the control-byte test reads.
_SNIFF_BYTES = 4096
# Bytes no text holds (C0 controls but tab, line feed, form feed, carriage return, escape).
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))
#: More than this share of control bytes in the first 4 KiB: not text.
_MAX_CONTROL_SHARE = 0.1


def _looks_like_utf16(head: bytes) -> bool:
    """UTF-16 text without a byte order mark: a NUL in every other byte."""
    if len(head) < 4:
        return False
    even, odd = head[0::2], head[1::2]
    return even.count(0) > 0.8 * len(even) or odd.count(0) > 0.8 * len(odd)


def unreadable_reason(data: bytes) -> str | None:
    """``"empty file"``, ``"binary file (PNG image)"`` and the like; ``None`` for text.

    Text in any encoding passes (UTF-16 with or without a byte order mark too); a file
    is binary by its signature, or when control bytes fill a tenth of its first 4 KiB.
    """
    if not data.strip():
        return "empty file"
    if data.startswith(_BOMS):
        return None
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return f"binary file ({kind})"
    if data.startswith(b"RIFF") and data[8:12] in _RIFF_KINDS:
        return f"binary file ({_RIFF_KINDS[data[8:12]]})"
    head = data[:_SNIFF_BYTES]
    if _looks_like_utf16(head):
        return None
    controls = len(head) - len(head.translate(None, _CONTROL))
    if controls > _MAX_CONTROL_SHARE * len(head):
        return "binary file (control bytes)"
    return None
