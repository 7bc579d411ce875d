"""Standard surface fuel models: Anderson (1982) 13 and a set of Scott & Burgan (2005) 40.

Loads in US short tons per acre for 1-h, 10-h, 100-h dead, live herbaceous and
live woody fuel; surface-area-to-volume ratios (1/ft) of 1-h, live herb and live
woody (10-h and 100-h are always 109 and 30); fuel bed depth (ft); dead fuel
moisture of extinction (%); heat content 8000 Btu/lb for every class.
Sources: Anderson, H.E. 1982, "Aids to determining fuel models for estimating
fire behavior", USDA FS GTR INT-122; Scott, J.H. & Burgan, R.E. 2005,
"Standard fire behavior fuel models", USDA FS GTR RMRS-153 (tables 7-13).
Scott & Burgan models are dynamic: live herb load cures into dead fuel as the
herb dries (all of it at 30 % moisture, none at 120 %).
"""

TONS_PER_ACRE_TO_LB_FT2 = 2000.0 / 43_560.0
SAV_10H, SAV_100H = 109.0, 30.0


class FuelModel:
    __slots__ = ("code", "name", "group", "loads_t_ac", "sav_1h", "sav_herb", "sav_woody", "depth_ft",
                 "mx_dead_pct", "heat_btu_lb", "dynamic")

    def __init__(self, code: str, name: str, group: str, loads_t_ac: tuple[float, float, float, float, float],
                 sav_1h: float, sav_herb: float, sav_woody: float, depth_ft: float, mx_dead_pct: float,
                 dynamic: bool, heat_btu_lb: float = 8000.0) -> None:
        self.code, self.name, self.group = code, name, group
        self.loads_t_ac = loads_t_ac
        self.sav_1h, self.sav_herb, self.sav_woody = sav_1h, sav_herb, sav_woody
        self.depth_ft, self.mx_dead_pct = depth_ft, mx_dead_pct
        self.heat_btu_lb, self.dynamic = heat_btu_lb, dynamic

    def total_load_kg_m2(self) -> float:
        return sum(self.loads_t_ac) * TONS_PER_ACRE_TO_LB_FT2 * 4.882428


def _m(code, name, group, loads, sav_1h, sav_herb, sav_woody, depth, mx, dynamic):
    return FuelModel(code, name, group, loads, sav_1h, sav_herb, sav_woody, depth, mx, dynamic)


_MODELS = [
    # Anderson (1982) / Albini (1976): static; FM2 carries live herb, FM4/5/7/10 live woody
    _m("FM1", "short grass (1 ft)", "grass", (0.74, 0, 0, 0, 0), 3500, 1500, 1500, 1.0, 12, False),
    _m("FM2", "timber (grass and understory)", "grass", (2.0, 1.0, 0.5, 0.5, 0), 3000, 1500, 1500, 1.0, 15, False),
    _m("FM3", "tall grass (2.5 ft)", "grass", (3.01, 0, 0, 0, 0), 1500, 1500, 1500, 2.5, 25, False),
    _m("FM4", "chaparral (6 ft)", "shrub", (5.01, 4.01, 2.0, 0, 5.01), 2000, 1500, 1500, 6.0, 20, False),
    _m("FM5", "brush (2 ft)", "shrub", (1.0, 0.5, 0, 0, 2.0), 2000, 1500, 1500, 2.0, 20, False),
    _m("FM6", "dormant brush, hardwood slash", "shrub", (1.5, 2.5, 2.0, 0, 0), 1750, 1500, 1500, 2.5, 25, False),
    _m("FM7", "southern rough", "shrub", (1.13, 1.87, 1.5, 0, 0.37), 1750, 1500, 1550, 2.5, 40, False),
    _m("FM8", "closed timber litter", "timber litter", (1.5, 1.0, 2.5, 0, 0), 2000, 1500, 1500, 0.2, 30, False),
    _m("FM9", "hardwood litter", "timber litter", (2.92, 0.41, 0.15, 0, 0), 2500, 1500, 1500, 0.2, 25, False),
    _m("FM10", "timber (litter and understory)", "timber litter", (3.01, 2.0, 5.01, 0, 2.0), 2000, 1500, 1500,
       1.0, 25, False),
    _m("FM11", "light logging slash", "slash", (1.5, 4.51, 5.51, 0, 0), 1500, 1500, 1500, 1.0, 15, False),
    _m("FM12", "medium logging slash", "slash", (4.01, 14.03, 16.53, 0, 0), 1500, 1500, 1500, 2.3, 20, False),
    _m("FM13", "heavy logging slash", "slash", (7.01, 23.04, 28.05, 0, 0), 1500, 1500, 1500, 3.0, 25, False),
    # Scott & Burgan (2005): dynamic
    _m("GR1", "short, sparse dry climate grass", "grass", (0.10, 0, 0, 0.30, 0), 2200, 2000, 9999, 0.4, 15, True),
    _m("GR2", "low load, dry climate grass", "grass", (0.10, 0, 0, 1.0, 0), 2000, 1800, 9999, 1.0, 15, True),
    _m("GR3", "low load, very coarse, humid climate grass", "grass", (0.10, 0.40, 0, 1.50, 0), 1500, 1300, 9999,
       2.0, 30, True),
    _m("GR4", "moderate load, dry climate grass", "grass", (0.25, 0, 0, 1.9, 0), 2000, 1800, 9999, 2.0, 15, True),
    _m("GS2", "moderate load, dry climate grass-shrub", "grass-shrub", (0.5, 0.5, 0, 0.6, 1.0), 2000, 1800, 1800,
       1.5, 15, True),
    _m("SH2", "moderate load dry climate shrub", "shrub", (1.35, 2.4, 0.75, 0, 3.85), 2000, 9999, 1600, 1.0, 15,
       True),
    _m("SH5", "high load, dry climate shrub", "shrub", (3.6, 2.1, 0, 0, 2.9), 750, 9999, 1600, 6.0, 15, True),
    _m("SH7", "very high load, dry climate shrub", "shrub", (3.5, 5.3, 2.2, 0, 3.4), 750, 9999, 1600, 6.0, 15, True),
    _m("TU1", "low load dry climate timber-grass-shrub", "timber understory", (0.2, 0.9, 1.5, 0.2, 0.9), 2000, 1800,
       1600, 0.6, 20, True),
    _m("TU5", "very high load, dry climate timber-shrub", "timber understory", (4.0, 4.0, 3.0, 0, 3.0), 1500, 9999,
       750, 1.0, 25, True),
    _m("TL1", "low load compact conifer litter", "timber litter", (1.0, 2.2, 3.6, 0, 0), 2000, 9999, 9999, 0.2, 30,
       True),
    _m("TL3", "moderate load conifer litter", "timber litter", (0.5, 2.2, 2.8, 0, 0), 2000, 9999, 9999, 0.3, 20,
       True),
    _m("TL8", "long-needle litter", "timber litter", (5.8, 1.4, 1.1, 0, 0), 1800, 9999, 9999, 0.3, 35, True),
]

FUEL_MODELS: dict[str, FuelModel] = {m.code: m for m in _MODELS}
NON_BURNABLE = "NB"  # roads, water, rock: no spread

# open (10 m) wind to midflame wind: unsheltered grass and shrub ~0.4, under a forest canopy ~0.15-0.2
# (Andrews 2012, GTR-266, table of wind adjustment factors)
WIND_ADJUSTMENT = {"grass": 0.36, "grass-shrub": 0.36, "shrub": 0.36, "slash": 0.36, "timber understory": 0.2,
                   "timber litter": 0.15}


def fuel_model(code: str) -> FuelModel:
    try:
        return FUEL_MODELS[code.upper()]
    except KeyError:
        raise ValueError(f"unknown fuel model {code!r}; known: {', '.join(FUEL_MODELS)} or {NON_BURNABLE}") from None
