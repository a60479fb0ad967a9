"""One rule for invalid UTF-8 in every citation input (text, stdin, BibTeX, JSONL, CSL-JSON,
DBLP): the bad bytes become U+FFFD and an :class:`InvalidUTF8Warning` names the source and
where, so nothing is refused for one stray byte and nothing is replaced silently."""

from __future__ import annotations

import warnings


class InvalidUTF8Warning(UserWarning):
    """Input bytes that are not UTF-8 were replaced with U+FFFD."""


def decode_utf8(data: bytes, source: str) -> str:
    """``data`` decoded as UTF-8; invalid bytes are replaced and reported with a warning."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8", "replace")
        warnings.warn(
            InvalidUTF8Warning(
                f"{source}: invalid UTF-8 at byte {exc.start}, "
                f"{text.count(chr(0xFFFD))} character(s) replaced with U+FFFD"
            ),
            stacklevel=2,
        )
        return text
