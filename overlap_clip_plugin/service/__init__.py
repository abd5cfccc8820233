"""Overlap Clip as a web service: OGC API - Processes on pygeoapi, over the GDAL-only core (no QGIS).

Start it with ``make serve`` or ``python -m overlap_clip_plugin.service``; see README, "Without QGIS"."""
