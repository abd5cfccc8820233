"""Checks that a Chinese message is Chinese: what may stay in Latin letters, and which lines are the plugin's.

A line of the plugin is told from a line of QGIS by the plugin's own sentences (the .ts file): a line that
fills in an English source is the plugin's and untranslated; a line that fills in a Chinese translation is the
plugin's and must hold no English word but names, codes, keys and units.
"""

import re

from translations import read_ts, ts_path

# What may stay in Latin letters in a Chinese sentence: names in quotes, file names and paths, CRS codes,
# parameter keys, units, the names of formats, data types, libraries and satellites, and GDAL's own words
# after "GDAL：".
KEPT_AS_THEY_ARE = re.compile(
    r"'[^']*'|\"[^\"]*\"|\u201c[^\u201d]*\u201d|/\S+|[\w-]*\.(?:tif|tiff|vrt|img|gpkg|html)\b"
    r"|\b[A-Z]+:\d+\b|\b[A-Z][A-Z0-9_]+\b|\b(?:m|km|deg|px)\b|m\u00b2|km\u00b2"
    r"|\b(?:GeoTIFF|TIFF|GDAL|PROJ|GEOS|QGIS|COG|VRT|GTiff|U?Int(?:8|16|32|64)|Float(?:16|32|64)|Byte)\b"
    r"|\b(?:Landsat|Sentinel)\b"
)
CJK = re.compile(r"[\u4e00-\u9fff]")


def english_fragments(line):
    """The Latin words of ``line`` (a Chinese message) that are not names, codes, keys or units."""
    if line.startswith("GDAL\uff1a") or line.startswith("GDAL:"):
        return []
    return re.findall(r"[A-Za-z]{2,}", KEPT_AS_THEY_ARE.sub(" ", line))


def _pattern(template):
    """A regular expression that matches ``template`` with any values in its ``{fields}``."""
    parts = re.split(r"\{[^}]*\}", template)
    return re.compile(".+?".join(re.escape(part) for part in parts) + r"\Z", re.S)


def _one_line_sentences():
    pairs = [(source, translation) for source, translation in read_ts(ts_path("zh_CN")).items() if translation]
    # A whole line is matched, so short sentences (a label) are told apart too; "en" names a language only.
    return [(s, t) for s, t in pairs if "\n" not in s and s != "en"]


SENTENCES = [(_pattern(source), _pattern(translation)) for source, translation in _one_line_sentences()]


def whose(line):
    """``"english"`` for a plugin sentence left in English, ``"chinese"`` for one in Chinese, None for a line
    that is not the plugin's (QGIS's own framing of the log)."""
    line = line.strip()
    for english, chinese in SENTENCES:
        if chinese.match(line):
            return "chinese"
        if english.match(line):
            return "english"
    return None


def untranslated(lines):
    """The plugin's lines among ``lines`` that are not wholly Chinese; and how many lines were the plugin's."""
    bad, ours = [], 0
    for line in lines:
        kind = whose(line)
        if kind is None:
            continue
        ours += 1
        if kind == "english" or english_fragments(line) or not CJK.search(line):
            bad.append(line)
    return bad, ours
