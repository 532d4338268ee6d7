"""Fonts for charts with Chinese text: matplotlib's default (DejaVu Sans) has no CJK glyphs.

The briefing's charts name each target in English and Chinese. :func:`chart_fonts` finds a CJK
font (Debian's ``fonts-noto-cjk``, which ``make`` installs when missing) and returns the
font-family list to draw with: DejaVu Sans first, the CJK font as matplotlib's per-glyph
fallback. matplotlib keeps a cache of the fonts it found on first use, so a font installed
later is missing from it; the font file is then added to the running font manager directly.
Without any CJK font a :class:`CJKFontMissing` warning says how to install one (the
characters would be drawn as boxes, and matplotlib warns about each missing glyph).
"""

import warnings
from functools import cache
from pathlib import Path

# Simplified Chinese first (the plan's script); the other Noto CJK faces hold the same glyphs
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Noto Sans CJK KR",
                "Noto Sans CJK HK", "Noto Serif CJK SC")
CJK_FILE_PREFIXES = ("NotoSansCJK", "NotoSerifCJK")  # file names in Debian's fonts-noto-cjk
LATIN_FAMILY = "DejaVu Sans"  # matplotlib's own default, always present
INSTALL_HINT = ("install Debian's fonts-noto-cjk (`make fonts` as root, or `sudo apt-get install "
                "-y fonts-noto-cjk`)")


class CJKFontMissing(UserWarning):
    """No font with Chinese glyphs was found: Chinese text in charts is drawn as boxes."""


def _known_families() -> set[str]:
    from matplotlib import font_manager

    return {f.name for f in font_manager.fontManager.ttflist}


def _add_cjk_files() -> None:
    """Add every Noto CJK font file on the system to matplotlib's font manager (its cache of
    system fonts is built once and does not see fonts installed after that)."""
    from matplotlib import font_manager

    for path in font_manager.findSystemFonts():
        if Path(path).name.startswith(CJK_FILE_PREFIXES):
            font_manager.fontManager.addfont(path)


@cache
def cjk_family() -> str | None:
    """The name of an installed CJK font family matplotlib can use, or None."""
    for attempt in range(2):
        known = _known_families()
        for family in CJK_FAMILIES:
            if family in known:
                return family
        if attempt == 0:
            _add_cjk_files()
    return None


def chart_fonts() -> list[str]:
    """The ``font.family`` list for charts: Latin text in DejaVu Sans, Chinese characters from
    the CJK font (matplotlib falls back glyph by glyph along the list). Warns with
    :class:`CJKFontMissing` when there is no CJK font."""
    family = cjk_family()
    if family is None:
        warnings.warn(f"no font with Chinese characters was found, so Chinese text in charts "
                      f"will be drawn as boxes; {INSTALL_HINT}.", CJKFontMissing, stacklevel=2)
        return [LATIN_FAMILY]
    return [LATIN_FAMILY, family]
