"""demo/picture: a procedural landscape drawn from the words of a prompt.

It stands in for a text-to-image model so that the spec's example request
(`{"prompt": "A sunset over mountains"}`) works offline and repeatably.
"""

from __future__ import annotations

import colorsys
import io
import math
import random
import re
from typing import Literal

from PIL import Image, ImageDraw, ImageFilter, ImageFont
from pydantic import BaseModel, ConfigDict, Field

from ..base import App, File, RunContext

# sky top, sky bottom, sun or moon, far land, near land
PALETTES: dict[str, tuple[str, str, str, str, str]] = {
    "sunset": ("#2b1055", "#ff7e5f", "#ffd452", "#7a3b69", "#3b1c32"),
    "ocean": ("#0b3d91", "#8fd3fe", "#fff6c2", "#1f6fb2", "#0a2f5c"),
    "forest": ("#5fa8d3", "#d8f3dc", "#fff3b0", "#2d6a4f", "#1b4332"),
    "night": ("#020024", "#1b2a6b", "#f4f1de", "#1d2545", "#0b1026"),
    "desert": ("#f6bd60", "#fbe7c6", "#fff8e1", "#d58936", "#a44a3f"),
    "snow": ("#a9c6e8", "#f1f7fd", "#ffffff", "#c9d6e3", "#8da9c4"),
}
KEYWORDS = {
    "sunset": {"sunset", "sunrise", "dusk", "dawn", "evening", "twilight"},
    "ocean": {"ocean", "sea", "beach", "wave", "waves", "lake", "river", "coast"},
    "forest": {"forest", "tree", "trees", "woods", "jungle", "meadow", "spring"},
    "night": {"night", "moon", "stars", "midnight", "galaxy"},
    "desert": {"desert", "sand", "dune", "dunes", "canyon"},
    "snow": {"snow", "winter", "ice", "glacier", "frozen"},
}
Draw = ImageDraw.ImageDraw
Size = tuple[int, int]
Palette = tuple[str, ...]

MOUNTAIN_WORDS = {"mountain", "mountains", "peak", "peaks", "alps", "summit", "volcano"}
WATER_WORDS = KEYWORDS["ocean"]


class PictureApp(App):
    name = "demo/picture"
    version = "1.0.0"
    description = (
        "Draws a landscape picture from a text prompt, offline and deterministically: "
        "words such as sunset, ocean, forest, night, desert, snow or mountains shape the scene. "
        "The same prompt and seed always give the same PNG."
    )

    class Setup(BaseModel):
        # Hosted image apps take options such as {"model": "schnell"}; accept and ignore them.
        model_config = ConfigDict(extra="ignore")

        style: Literal["flat", "soft"] = Field(
            default="flat", description="'flat': crisp shapes; 'soft': a blurred, dreamy look."
        )

    class Input(BaseModel):
        prompt: str = Field(
            min_length=1,
            max_length=2000,
            description="What to draw, e.g. 'A sunset over mountains'. It is also written as a caption.",
        )
        width: int = Field(default=512, ge=64, le=1024, description="Width of the picture in pixels.")
        height: int = Field(default=320, ge=64, le=1024, description="Height of the picture in pixels.")
        seed: int | None = Field(
            default=None, description="Varies the picture for the same prompt; leave empty for the prompt's own."
        )

    class Output(BaseModel):
        image: File = Field(description="The picture, a PNG.")
        palette: list[str] = Field(
            description="The scene's base colours as hex: sky top, sky bottom, sun or moon, far land, near land."
        )
        width: int
        height: int

    _style: str = "flat"

    def setup(self, setup: Setup | None, ctx: RunContext) -> None:
        self._style = (setup or self.Setup()).style

    def run(self, input: Input, ctx: RunContext) -> Output:
        words = set(re.findall(r"[a-z]+", input.prompt.lower()))
        rng = random.Random(f"{input.prompt}\0{input.seed}")  # str seeds do not depend on PYTHONHASHSEED
        palette = _palette_for(words, rng)
        image = Image.new("RGB", (input.width, input.height))
        draw = ImageDraw.Draw(image)
        _paint_sky(draw, image.size, palette, rng, starry="night" in _moods(words))
        if words & MOUNTAIN_WORDS:
            _paint_mountains(draw, image.size, palette, rng)
        elif words & WATER_WORDS:
            _paint_waves(draw, image.size, palette, rng)
        else:
            _paint_hills(draw, image.size, palette, rng)
        if self._style == "soft":
            image = image.filter(ImageFilter.GaussianBlur(radius=max(image.size) / 150))
        _write_caption(ImageDraw.Draw(image), image.size, input.prompt)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return self.Output(
            image=File.from_bytes(buffer.getvalue(), filename="picture.png", content_type="image/png"),
            palette=list(palette),
            width=input.width,
            height=input.height,
        )


def _moods(words: set[str]) -> list[str]:
    return [mood for mood, triggers in KEYWORDS.items() if words & triggers]


def _palette_for(words: set[str], rng: random.Random) -> tuple[str, ...]:
    moods = _moods(words)
    if moods:
        return PALETTES[moods[0]]
    # No known word: a palette of one random hue, so that other prompts still look different.
    hue = rng.random()
    lightness = (0.25, 0.75, 0.9, 0.45, 0.3)
    return tuple(_hex(colorsys.hls_to_rgb(hue, light, 0.55)) for light in lightness)


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(channel * 255):02x}" for channel in rgb)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))


def _paint_sky(draw: Draw, size: Size, palette: Palette, rng: random.Random, *, starry: bool) -> None:
    width, height = size
    top, bottom = _rgb(palette[0]), _rgb(palette[1])
    for y in range(height):
        t = y / max(height - 1, 1)
        draw.line([(0, y), (width, y)], fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom)))
    if starry:
        for _ in range(width * height // 900):
            x, y = rng.uniform(0, width), rng.uniform(0, height * 0.6)
            draw.point((x, y), fill="#ffffff")
    radius = min(width, height) * rng.uniform(0.07, 0.12)
    cx, cy = width * rng.uniform(0.2, 0.8), height * rng.uniform(0.2, 0.4)
    draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=palette[2])


def _paint_hills(draw: Draw, size: Size, palette: Palette, rng: random.Random) -> None:
    width, height = size
    for layer in range(3):
        colour = _blend(palette[3], palette[4], layer / 2)
        base = height * (0.55 + 0.12 * layer)
        amplitude = height * rng.uniform(0.04, 0.09)
        frequency, phase = rng.uniform(1.0, 3.0) * math.tau / width, rng.uniform(0, math.tau)
        outline = [(x, base + amplitude * math.sin(x * frequency + phase)) for x in range(0, width + 8, 8)]
        draw.polygon([*outline, (width, height), (0, height)], fill=colour)


def _paint_mountains(draw: Draw, size: Size, palette: Palette, rng: random.Random) -> None:
    width, height = size
    for layer in range(2):
        colour = _blend(palette[3], palette[4], layer)
        x, outline = 0.0, [(0.0, height * (0.6 + 0.1 * layer))]
        while x < width:
            x += width * rng.uniform(0.08, 0.2)
            outline.append((x, height * rng.uniform(0.25 + 0.15 * layer, 0.55 + 0.15 * layer)))
            x += width * rng.uniform(0.08, 0.2)
            outline.append((x, height * rng.uniform(0.6, 0.75) + 0.05 * layer * height))
        draw.polygon([*outline, (width, height), (0, height)], fill=colour)


def _paint_waves(draw: Draw, size: Size, palette: Palette, rng: random.Random) -> None:
    width, height = size
    horizon = height * 0.6
    draw.rectangle([0, horizon, width, height], fill=palette[4])
    crest = _blend(palette[3], palette[1], 0.5)
    for row in range(1, 8):
        y0 = horizon + (height - horizon) * row / 8
        amplitude, phase = 2 + row * 0.6, rng.uniform(0, math.tau)
        wave = [(x, y0 + amplitude * math.sin(x / (6 + row * 3) + phase)) for x in range(0, width + 4, 4)]
        draw.line(wave, fill=crest, width=max(1, row // 3))


def _blend(first: str, second: str, t: float) -> str:
    return _hex(tuple((a + (b - a) * t) / 255 for a, b in zip(_rgb(first), _rgb(second))))


def _write_caption(draw: Draw, size: Size, prompt: str) -> None:
    width, height = size
    font = ImageFont.load_default(size=max(9, height // 24))
    room = width - 12
    caption = " ".join(prompt.split())
    if font.getlength(caption) > room:
        fits, too_long = 0, len(caption)
        while too_long - fits > 1:
            middle = (fits + too_long) // 2
            if font.getlength(caption[:middle] + "...") <= room:
                fits = middle
            else:
                too_long = middle
        caption = caption[:fits] + "..."
    x, y = 6, height - font.size - 8
    draw.text((x + 1, y + 1), caption, font=font, fill="#000000")
    draw.text((x, y), caption, font=font, fill="#ffffff")
