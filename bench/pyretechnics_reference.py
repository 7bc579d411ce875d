"""Reference spread rates from pyretechnics (a maintained Rothermel implementation) for the simulator's tests.

pyretechnics pins numpy < 2, so it cannot live in the project's environment; run it in its own:
    python3 -m venv /tmp/pyre && /tmp/pyre/bin/pip install pyretechnics
    /tmp/pyre/bin/python bench/pyretechnics_reference.py > /tmp/pyre_ref.json
tests/simulator/data/pyretechnics_surface_spread.json holds its output (FM4 and FM10 left out: pyretechnics
files their live woody load as live herb, so it applies the herb moisture to it).
"""
import json
import sys

import pyretechnics.fuel_models as fm
import pyretechnics.surface_fire as sf

numbers = {"FM1": 1, "FM3": 3, "FM4": 4, "FM8": 8, "FM9": 9, "FM10": 10, "GR1": 101, "GR2": 102, "GR4": 104, "GS2": 122,
           "SH2": 142, "SH5": 145, "SH7": 147, "TU1": 161, "TU5": 165, "TL1": 181, "TL3": 183, "TL8": 188}
out = {}
for code, num in numbers.items():
    model = fm.get_fuel_model(num)
    row = {"w_o": list(model["w_o"]) if isinstance(model, dict) else None}
    for m1, herb, woody in ((0.06, 0.6, 0.9), (0.08, 1.0, 1.0), (0.12, 0.9, 1.2)):
        moist = [m1, m1 + 0.01, m1 + 0.02, 0.0, herb, woody]
        mm = fm.moisturize(model, moist)
        smin = sf.calc_surface_fire_behavior_no_wind_no_slope(mm)
        for u_ms in (0.0, 1.0, 2.2352, 4.0):
            smax = sf.calc_surface_fire_behavior_max(smin, u_ms * 60.0, 180.0, 0.0, 0.0, False)
            key = f"{m1},{herb},{woody},{u_ms}"
            row[key] = [smax["max_spread_rate"] / 60.0, smax["max_fireline_intensity"]]
    out[code] = row
json.dump(out, sys.stdout, indent=1)
