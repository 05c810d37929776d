"""Small server-side SVG charts: bars, stacked bars, two lines and a heatmap; no library, no script.

Colours come from CSS classes (static/css/reports.css) that use the stylesheet's variables, so a
chart follows light and dark mode; each SVG has a title and description for screen readers, and
the page puts the same numbers in a table beside it.
"""
from markupsafe import Markup, escape

LABEL_W, ROW_H, GAP, WIDTH = 150, 26, 6, 720


def _svg(chart_id: str, title: str, desc: str, height: int, body: list[str], width: int = WIDTH) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(desc)}</desc>'
        + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, value, cls: str = "chart-label", anchor: str = "start") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" class="{cls}" text-anchor="{anchor}">{escape(str(value))}</text>'


def _rect(x: float, y: float, w: float, h: float, cls: str, tip: str, opacity: float | None = None) -> str:
    shade = f' fill-opacity="{opacity:.2f}"' if opacity is not None else ""
    return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{h:.1f}" class="{cls}"{shade}>'
            f'<title>{escape(tip)}</title></rect>')


def empty(chart_id: str, title: str, message: str) -> Markup:
    """The empty-state chart: the frame and a sentence, so the page keeps its shape."""
    return _svg(chart_id, title, message, 60, [_text(WIDTH / 2, 36, message, "chart-empty", "middle")])


def stacked_bars(chart_id: str, title: str, desc: str, rows: list[tuple[str, str, list[int]]],
                 segments: list[tuple[str, str]]) -> Markup:
    """Horizontal bars, one per row (label, class, values), each split into `segments` (label, class)."""
    top = max((sum(values) for _, _, values in rows), default=0)
    if not top:
        return empty(chart_id, title, "Nothing to show for these filters.")
    scale = (WIDTH - LABEL_W - 60) / top
    body, y = [], 22
    x = LABEL_W
    for label, cls in segments:  # the legend
        body += [_rect(x, 4, 12, 12, cls, label), _text(x + 16, 15, label, "chart-legend")]
        x += 24 + 8 * len(label)
    for label, _, values in rows:
        y += GAP
        body.append(_text(LABEL_W - 8, y + ROW_H / 2 + 4, label, anchor="end"))
        x = LABEL_W
        for (part, cls), value in zip(segments, values):
            body.append(_rect(x, y, value * scale, ROW_H, cls, f"{label}, {part}: {value}"))
            x += value * scale
        body.append(_text(x + 6, y + ROW_H / 2 + 4, sum(values), "chart-value"))
        y += ROW_H
    return _svg(chart_id, title, desc, y + GAP, body)


def bars(chart_id: str, title: str, desc: str, rows: list[tuple[str, str, int]], label_w: int = LABEL_W,
         nothing: str = "Nothing to show for these filters.", width: int = WIDTH) -> Markup:
    """Horizontal bars, one per (label, class, value)."""
    top = max((value for _, _, value in rows), default=0)
    if not top:
        return empty(chart_id, title, nothing)
    scale = (width - label_w - 60) / top
    body, y = [], 0
    for label, cls, value in rows:
        y += GAP
        body += [_text(label_w - 8, y + ROW_H / 2 + 4, label, anchor="end"),
                 _rect(label_w, y, value * scale, ROW_H, cls, f"{label}: {value}"),
                 _text(label_w + value * scale + 6, y + ROW_H / 2 + 4, value, "chart-value")]
        y += ROW_H
    return _svg(chart_id, title, desc, y + GAP, body, width)


def lines(chart_id: str, title: str, desc: str, labels: list[str], series: list[tuple[str, str, list[int]]],
          height: int = 240) -> Markup:
    """One line per series (label, class, values) over the x labels, a y axis from zero."""
    top = max((max(values, default=0) for _, _, values in series), default=0)
    if not top:
        return empty(chart_id, title, "No tickets were created or resolved in this range.")
    left, right, above, below = 48, 12, 28, 26
    plot_w, plot_h = WIDTH - left - right, height - above - below
    step = plot_w / max(len(labels) - 1, 1)
    body = []
    for k in range(5):  # grid and y ticks
        value = top * k / 4
        y = above + plot_h - plot_h * k / 4
        body += [f'<line x1="{left}" x2="{WIDTH - right}" y1="{y:.1f}" y2="{y:.1f}" class="chart-grid"/>',
                 _text(left - 6, y + 4, f"{value:.0f}", "chart-axis", "end")]
    every = max(1, len(labels) // 8)
    for i in range(0, len(labels), every):
        body.append(_text(left + i * step, height - 8, labels[i], "chart-axis", "middle"))
    x = left
    for label, cls, values in series:  # legend, then the line and its points
        body += [_rect(x, 6, 12, 12, cls + "-fill", label), _text(x + 16, 17, label, "chart-legend")]
        x += 30 + 8 * len(label)
        points = [(left + i * step, above + plot_h - plot_h * v / top) for i, v in enumerate(values)]
        body.append(f'<polyline class="{cls}" points="{" ".join(f"{px:.1f},{py:.1f}" for px, py in points)}"/>')
        body += [f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.5" class="{cls}-fill">'
                 f'<title>{escape(labels[i])}, {escape(label)}: {values[i]}</title></circle>'
                 for i, (px, py) in enumerate(points) if len(points) <= 120]
    return _svg(chart_id, title, desc, height, body)


def heatmap(chart_id: str, title: str, desc: str, rows: list[str], columns: list[str],
            counts: list[list[int]]) -> Markup:
    """A grid of cells whose opacity grows with the count (rows x columns)."""
    top = max((max(row) for row in counts), default=0)
    if not top:
        return empty(chart_id, title, "No tickets were created in this range.")
    left, above = 48, 20
    cell_w, cell_h = (WIDTH - left - 4) / len(columns), 24
    body = [_text(left + (i + 0.5) * cell_w, 14, name, "chart-axis", "middle")
            for i, name in enumerate(columns) if i % 3 == 0]
    for r, name in enumerate(rows):
        y = above + r * (cell_h + 2)
        body.append(_text(left - 6, y + cell_h / 2 + 4, name, "chart-axis", "end"))
        for c, value in enumerate(counts[r]):
            body.append(_rect(left + c * cell_w + 1, y, cell_w - 2, cell_h, "chart-heat",
                              f"{name} {columns[c]}: {value}", 0.06 + 0.94 * value / top))
    return _svg(chart_id, title, desc, above + len(rows) * (cell_h + 2) + 4, body)
