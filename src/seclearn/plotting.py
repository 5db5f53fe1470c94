"""The house style of report plots: a figure, its axes and a base64 PNG for self-contained HTML.

Matplotlib's object API only (no pyplot, so no global state and no display backend);
imported late so that importing seclearn does not import matplotlib.
"""

from __future__ import annotations

import base64
import io
from typing import Any


def figure(width_in: float = 5.4, height_in: float = 3.7) -> Any:
    """A new figure with the margins every report plot uses."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=100)
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.15, top=0.88, wspace=0.3)
    return fig


def style_axes(ax: Any, title: str, xlabel: str, ylabel: str) -> None:
    """Title on the left, small labels, a light grid, no top or right spine."""
    ax.set_title(title, fontsize=11, loc="left", fontweight="bold")
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.25)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def png_base64(fig: Any) -> str:
    """The figure as a base64 PNG, for an ``<img src="data:image/png;base64,...">``."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode("ascii")


__all__ = ["figure", "png_base64", "style_axes"]
