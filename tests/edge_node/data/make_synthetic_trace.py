"""Writes synthetic_trace.csv: 8 hours of one node at 60 s, quiet with a day drift and noise,
then a fire arriving in the last 40 minutes (heat up, humidity down, MOX resistance down).

Integer-only and seeded, so the committed CSV is reproducible:
    python tests/edge_node/data/make_synthetic_trace.py
"""

from pathlib import Path


def lcg(seed: int):
    state = seed
    while True:
        state = (state * 1103515245 + 12345) % (1 << 31)
        yield state


def rows() -> list[tuple[int, int, int, int, int]]:
    noise = lcg(2026)
    out = []
    t0_s = 1_780_000_000
    for i in range(480):
        jitter = next(noise) % 21 - 10
        drift = (i * 300) // 480  # +3 degC over the morning
        temp_cc = 1800 + drift + jitter
        rh_cp = 5500 - drift + (next(noise) % 41 - 20)
        gas = 180_000 + (next(noise) % 4001 - 2000)
        if i >= 440:  # the fire: +60 cc and -1 %RH per minute, gas resistance falls 6 % a minute
            k = i - 439
            temp_cc += 60 * k
            rh_cp = max(500, rh_cp - 100 * k)
            for _ in range(k):
                gas = gas * 94 // 100
        out.append((t0_s + 60 * i, temp_cc, rh_cp, gas, -1))
    return out


if __name__ == "__main__":
    path = Path(__file__).with_name("synthetic_trace.csv")
    lines = ["t_s,temp_cc,rh_cp,gas_raw,gas_sign"] + [",".join(str(v) for v in r) for r in rows()]
    path.write_text("\n".join(lines) + "\n")
    print("wrote", path)
