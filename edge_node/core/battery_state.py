"""Battery state of charge in percent from the terminal voltage, per battery chemistry.

A Li-ion cell at 3.7 V is half full; two alkaline AA cells at 3.7 V do not exist.
Dashboards colour by `bat_pct` so they need not know the chemistry. Each curve is
a rest-voltage (light load) table, interpolated linearly with integers. The names
match the battery profiles of the energy model (simulator/energy/profiles.toml).
"""

# (millivolts, percent) points, highest voltage first.
CURVES = {
    # Two alkaline AA in series: Energizer E91 discharge at light load, 1.55 V/cell fresh,
    # 1.15 V/cell where the boost converter's input limit is set (energy model cut-off).
    "2xAA": ((3100, 100), (2900, 90), (2700, 70), (2550, 50), (2450, 30), (2380, 15), (2300, 0)),
    "3xAA": ((4650, 100), (4350, 90), (4050, 70), (3825, 50), (3675, 30), (3570, 15), (3450, 0)),
    # Li-SOCl2 bobbin cell: flat 3.6 V plateau, the knee comes late (Saft LS14500 curve).
    "li-socl2-aa": ((3650, 100), (3550, 50), (3450, 15), (3300, 5), (3100, 0)),
    # Li-ion 18650 rest voltage (typical NMC cell), cut-off at the LDO's dropout (~3.4 V).
    "li-ion-18650": ((4150, 100), (4000, 85), (3870, 70), (3750, 50), (3650, 30), (3550, 15),
                     (3450, 5), (3400, 0)),
}
CHEMISTRIES = tuple(CURVES)


def percent(mv: int, chemistry: str) -> int:
    """0..100 for `mv` on the named chemistry's curve; ValueError for an unknown chemistry."""
    curve = CURVES.get(chemistry)
    if curve is None:
        raise ValueError("unknown battery chemistry " + repr(chemistry))
    if mv >= curve[0][0]:
        return 100
    for i in range(1, len(curve)):
        hi_mv, hi_pct = curve[i - 1]
        lo_mv, lo_pct = curve[i]
        if mv >= lo_mv:
            return lo_pct + (mv - lo_mv) * (hi_pct - lo_pct) // (hi_mv - lo_mv)
    return 0
