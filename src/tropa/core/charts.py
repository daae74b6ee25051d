"""Server-rendered SVG charts: no script, no third party, nothing but markup.

Colours come from classes in tropa.css (the CSP forbids inline styles);
every text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape


def _nice_ceiling(value: float) -> int:
    """The smallest 1/2/5 × 10^k at or above value (at least 1), for the y axis."""
    if value <= 1:
        return 1
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def bar_chart(
    points: Sequence[tuple[str, int | None]],
    *,
    title: str,
    width: int = 640,
    height: int = 200,
    label_every: int = 5,
) -> str:
    """Bars of counts with their labels under every `label_every`-th bar.

    A value of None is a hidden (suppressed) number: no bar, an "x" instead.
    The SVG carries a <title> and a hidden table-like <desc> of every value, so
    screen readers get the numbers, not just the picture.
    """
    left, bottom, top, right = 36, 24, 8, 8
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _nice_ceiling(max((value or 0 for _, value in points), default=0))
    n = max(len(points), 1)
    slot = plot_w / n
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        "<desc>"
        + escape(
            "; ".join(f"{label}: {'x' if value is None else value}" for label, value in points)
        )
        + "</desc>",
    ]
    for tick in (0, top_value // 2, top_value):
        y = top + plot_h - plot_h * tick / top_value
        parts.append(
            f'<line class="chart-grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        parts.append(
            f'<text class="chart-axis" x="{left - 4}" y="{y + 4:.1f}" '
            f'text-anchor="end">{tick}</text>'
        )
    for index, (label, value) in enumerate(points):
        x = left + index * slot + slot * 0.15
        if value is None:
            parts.append(
                f'<text class="chart-hidden" x="{x + slot * 0.35:.1f}" y="{top + plot_h - 3}" '
                f'text-anchor="middle">x<title>{escape(label)}: x</title></text>'
            )
        else:
            bar_h = plot_h * value / top_value
            y = top + plot_h - bar_h
            parts.append(
                f'<rect class="chart-bar" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
                f'height="{bar_h:.1f}"><title>{escape(label)}: {value}</title></rect>'
            )
        if index % label_every == 0 or index == len(points) - 1:
            parts.append(
                f'<text class="chart-axis" x="{x + slot * 0.35:.1f}" y="{height - 6}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
