"""What Pillow can tell about an image, in plain words: the local provider's vision."""

from __future__ import annotations

import colorsys
import io
from collections import Counter

from PIL import Image, ImageStat, UnidentifiedImageError

from chatplatform.ai.base import PROVIDER_BAD_RESPONSE, ProviderError

_SAMPLE_SIZE = (96, 96)
_PALETTE_SIZE = 8
_DARK_BELOW = 128  # mean luminance on the 0-255 scale: below the middle is "mostly dark"

COLOUR_NAMES: dict[str, dict[str, str]] = {
    "en": {
        "black": "black",
        "white": "white",
        "grey": "grey",
        "red": "red",
        "orange": "orange",
        "brown": "brown",
        "yellow": "yellow",
        "green": "green",
        "blue": "blue",
        "purple": "purple",
        "pink": "pink",
    },
    "da": {
        "black": "sort",
        "white": "hvid",
        "grey": "grå",
        "red": "rød",
        "orange": "orange",
        "brown": "brun",
        "yellow": "gul",
        "green": "grøn",
        "blue": "blå",
        "purple": "lilla",
        "pink": "lyserød",
    },
    "sv": {
        "black": "svart",
        "white": "vit",
        "grey": "grå",
        "red": "röd",
        "orange": "orange",
        "brown": "brun",
        "yellow": "gul",
        "green": "grön",
        "blue": "blå",
        "purple": "lila",
        "pink": "rosa",
    },
    "de": {
        "black": "Schwarz",
        "white": "Weiß",
        "grey": "Grau",
        "red": "Rot",
        "orange": "Orange",
        "brown": "Braun",
        "yellow": "Gelb",
        "green": "Grün",
        "blue": "Blau",
        "purple": "Lila",
        "pink": "Rosa",
    },
}

_SENTENCES = {
    "en": {
        "image": "A {format} image of {width} x {height} pixels.",
        "colours": "The main colours are {colours}.",
        "and": "and",
        "dark": "The picture is mostly dark.",
        "light": "The picture is mostly light.",
    },
    "da": {
        "image": "Et {format}-billede på {width} x {height} pixels.",
        "colours": "De vigtigste farver er {colours}.",
        "and": "og",
        "dark": "Billedet er overvejende mørkt.",
        "light": "Billedet er overvejende lyst.",
    },
    "sv": {
        "image": "En {format}-bild på {width} x {height} pixlar.",
        "colours": "De viktigaste färgerna är {colours}.",
        "and": "och",
        "dark": "Bilden är mest mörk.",
        "light": "Bilden är mest ljus.",
    },
    "de": {
        "image": "Ein {format}-Bild mit {width} x {height} Pixeln.",
        "colours": "Die Hauptfarben sind {colours}.",
        "and": "und",
        "dark": "Das Bild ist überwiegend dunkel.",
        "light": "Das Bild ist überwiegend hell.",
    },
}


def describe(image: bytes, language: str) -> str:
    """Format, size, the three dominant colours and dark/light, in `language` (en if unknown)."""
    words = _SENTENCES.get(language, _SENTENCES["en"])
    names = COLOUR_NAMES.get(language, COLOUR_NAMES["en"])
    try:
        with Image.open(io.BytesIO(image)) as picture:
            image_format = picture.format or "unknown"
            width, height = picture.size
            picture.draft("RGB", _SAMPLE_SIZE)  # JPEG decodes at a fraction of the size: faster
            sample = picture.convert("RGB")
            sample.thumbnail(_SAMPLE_SIZE)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ProviderError(PROVIDER_BAD_RESPONSE, "The image could not be read.", retryable=False) from exc

    colours = [names[name] for name in dominant_colours(sample)]
    luminance = ImageStat.Stat(sample.convert("L")).mean[0]
    parts = [
        words["image"].format(format=image_format, width=width, height=height),
        words["colours"].format(colours=_join(colours, words["and"])),
        words["dark"] if luminance < _DARK_BELOW else words["light"],
    ]
    return " ".join(parts)


def dominant_colours(sample: Image.Image, count: int = 3) -> list[str]:
    """Names (English keys of COLOUR_NAMES) of the most common colours, most common first."""
    palette_image = sample.quantize(colors=_PALETTE_SIZE, method=Image.Quantize.MEDIANCUT)
    palette = palette_image.getpalette() or []
    totals: Counter[str] = Counter()
    for pixels, index in palette_image.getcolors() or []:
        red, green, blue = palette[index * 3 : index * 3 + 3]
        totals[colour_name(red, green, blue)] += pixels
    return [name for name, _ in totals.most_common(count)]


def colour_name(red: int, green: int, blue: int) -> str:
    """A plain colour word for an RGB value."""
    hue, saturation, value = colorsys.rgb_to_hsv(red / 255, green / 255, blue / 255)
    if value < 0.18:
        return "black"
    if saturation < 0.18:
        if value > 0.85:
            return "white"
        return "black" if value < 0.3 else "grey"
    degrees = hue * 360
    if degrees < 15 or degrees >= 340:
        return "brown" if value < 0.45 else "red"
    if degrees < 45:
        return "brown" if value < 0.6 else "orange"
    if degrees < 70:
        return "brown" if value < 0.45 else "yellow"
    if degrees < 170:
        return "green"
    if degrees < 255:
        return "blue"
    if degrees < 290:
        return "purple"
    return "pink"


def _join(items: list[str], conjunction: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"
