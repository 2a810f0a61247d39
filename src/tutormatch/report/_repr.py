"""Notebook display of the report objects."""

from __future__ import annotations

import html
from collections.abc import Mapping

import pandas as pd

__all__ = ["frames_html"]

_ROWS_SHOWN = 20


def frames_html(caption: str, frames: Mapping[str, pd.DataFrame]) -> str:
    """Return a caption and a few tables as HTML, each cut to its first rows."""
    parts = [f"<p><strong>{html.escape(caption)}</strong></p>"]
    for name, frame in frames.items():
        more = len(frame) - _ROWS_SHOWN
        note = f" (first {_ROWS_SHOWN} of {len(frame)} rows)" if more > 0 else ""
        parts.append(f"<p>{html.escape(name)}{note}</p>")
        parts.append(
            frame.head(_ROWS_SHOWN).to_html(index=False, na_rep="–", float_format=lambda x: f"{x:,.2f}")
        )
    return "\n".join(parts)
