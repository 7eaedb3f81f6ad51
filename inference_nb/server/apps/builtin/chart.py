"""demo/chart: a line or bar chart drawn with Pillow (no plotting library needed)."""

from __future__ import annotations

import io
import math
from typing import Annotated, Literal

from PIL import Image, ImageDraw, ImageFont
from pydantic import BaseModel, Field, ValidationInfo, field_validator

from ..base import App, File, RunContext

# Bounded so that the span of any two values is still a finite float.
FiniteFloat = Annotated[float, Field(allow_inf_nan=False, ge=-1e100, le=1e100)]
Label = Annotated[str, Field(max_length=100)]

MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 20, 36, 36
INK, GRID, LINE, BAR = "#222222", "#e3e3e3", "#1f77b4", "#4c9bd6"


class ChartApp(App):
    name = "demo/chart"
    version = "1.0.0"
    description = "Draws a line or bar chart of a list of numbers as a PNG, with axes, ticks and a title."

    class Input(BaseModel):
        y: list[FiniteFloat] = Field(
            min_length=1, max_length=10_000, description="The values to plot (finite numbers), in order."
        )
        x: list[FiniteFloat] | None = Field(
            default=None,
            description="Positions on the horizontal axis, one per y value; leave empty for 0, 1, 2, ...",
        )
        labels: list[Label] | None = Field(
            default=None,
            description="Category names under the bars (or points), one per y value; instead of x.",
        )
        kind: Literal["line", "bar"] = Field(default="line", description="'line' joins the points; 'bar' draws bars.")
        title: str = Field(default="", max_length=200, description="Title above the chart.")
        width: int = Field(default=640, ge=160, le=2048, description="Width of the image in pixels.")
        height: int = Field(default=400, ge=120, le=2048, description="Height of the image in pixels.")

        @field_validator("x", "labels")
        @classmethod
        def _one_per_value(cls, values: list | None, info: ValidationInfo) -> list | None:
            y = info.data.get("y")
            if values is not None and y is not None and len(values) != len(y):
                raise ValueError(f"{info.field_name} has {len(values)} values but y has {len(y)}: give one per y value")
            if info.field_name == "labels" and values is not None and info.data.get("x") is not None:
                raise ValueError("give either x or labels, not both")
            return values

    class Output(BaseModel):
        image: File = Field(description="The chart, a PNG.")
        points: int = Field(description="How many values were plotted.")
        y_min: float
        y_max: float

    def run(self, input: Input, ctx: RunContext) -> Output:
        xs = input.x if input.x is not None else [float(i) for i in range(len(input.y))]
        y_low, y_high = min(input.y), max(input.y)
        # Bars grow from zero, so zero must be on the axis.
        axis_low, axis_high = (min(y_low, 0.0), max(y_high, 0.0)) if input.kind == "bar" else (y_low, y_high)
        y_ticks = nice_ticks(axis_low, axis_high)
        x_low, x_high = min(xs), max(xs)
        if input.kind == "bar" or input.labels is not None:
            half_gap = _smallest_gap(xs) / 2  # leaves room for the first and last bar
            x_low, x_high = x_low - half_gap, x_high + half_gap
        elif x_low == x_high:
            x_low, x_high = x_low - 1, x_high + 1
        plot = _Plot(input.width, input.height, (x_low, x_high), (y_ticks[0], y_ticks[-1]))

        image = Image.new("RGB", (input.width, input.height), "white")
        draw = ImageDraw.Draw(image)
        font = ImageFont.load_default(size=11)
        for tick in y_ticks:
            y = plot.y(tick)
            draw.line([(plot.left, y), (plot.right, y)], fill=GRID)
            draw.text((plot.left - 6, y), _tick_text(tick), font=font, fill=INK, anchor="rm")
        if input.kind == "bar":
            half_bar = max(0.5, (plot.x(x_low + _smallest_gap(xs)) - plot.x(x_low)) * 0.4)
            for x, value in zip(xs, input.y):
                top, bottom = sorted((plot.y(value), plot.y(0.0)))
                draw.rectangle([plot.x(x) - half_bar, top, plot.x(x) + half_bar, bottom], fill=BAR)
        else:
            points = [(plot.x(x), plot.y(value)) for x, value in zip(xs, input.y)]
            if len(points) > 1:
                draw.line(points, fill=LINE, width=2)
            if len(points) <= 60:  # markers only while they stay readable
                for px, py in points:
                    draw.ellipse([px - 3, py - 3, px + 3, py + 3], fill=LINE)
        draw.line([(plot.left, plot.top), (plot.left, plot.bottom), (plot.right, plot.bottom)], fill=INK)
        for x, text in _x_tick_labels(xs, input.labels, (x_low, x_high), plot):
            draw.line([(plot.x(x), plot.bottom), (plot.x(x), plot.bottom + 4)], fill=INK)
            draw.text((plot.x(x), plot.bottom + 6), text, font=font, fill=INK, anchor="ma")
        if input.title:
            draw.text((input.width / 2, 10), input.title, font=ImageFont.load_default(size=15), fill=INK, anchor="ma")

        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return self.Output(
            image=File.from_bytes(buffer.getvalue(), filename="chart.png", content_type="image/png"),
            points=len(input.y),
            y_min=y_low,
            y_max=y_high,
        )


class _Plot:
    """Maps data coordinates to pixels inside the margins."""

    def __init__(self, width: int, height: int, x_range: tuple[float, float], y_range: tuple[float, float]):
        self.left, self.right = MARGIN_LEFT, width - MARGIN_RIGHT
        self.top, self.bottom = MARGIN_TOP, height - MARGIN_BOTTOM
        self.x_range, self.y_range = x_range, y_range

    def x(self, value: float) -> float:
        low, high = self.x_range
        return self.left + (value - low) / ((high - low) or 1.0) * (self.right - self.left)

    def y(self, value: float) -> float:
        low, high = self.y_range
        return self.bottom - (value - low) / ((high - low) or 1.0) * (self.bottom - self.top)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) covering low..high."""
    if low == high:
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    raw_step = (high - low) / (count - 1)
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw_step)
    first = math.floor(low / step) * step
    # Capped: near 1e17 adding a small step can round back to the same float.
    intervals = min(math.ceil((high - first) / step - 1e-9), 4 * count)
    return [first + i * step for i in range(intervals + 1)]


def _tick_text(value: float) -> str:
    # Round off float noise such as 0.30000000000000004 before formatting.
    return format(round(value, 10), ".6g")


def _smallest_gap(xs: list[float]) -> float:
    ordered = sorted(set(xs))
    gaps = [b - a for a, b in zip(ordered, ordered[1:])]
    return min(gaps) if gaps else 1.0


def _x_tick_labels(
    xs: list[float], labels: list[str] | None, x_range: tuple[float, float], plot: _Plot
) -> list[tuple[float, str]]:
    if labels is None:
        return [(tick, _tick_text(tick)) for tick in nice_ticks(*x_range) if x_range[0] <= tick <= x_range[1]]
    # Show every n-th category so that labels about 70 px wide do not overlap.
    every = max(1, math.ceil(len(labels) * 70 / max(plot.right - plot.left, 1)))
    return [(xs[i], _shorten(labels[i], 12)) for i in range(0, len(labels), every)]


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
