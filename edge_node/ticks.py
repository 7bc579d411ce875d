"""MicroPython's millisecond tick helpers, with CPython stand-ins so device code runs in tests."""

try:
    from time import sleep_ms, ticks_diff, ticks_ms
except ImportError:  # CPython: same names on the standard monotonic clock
    import time as _time

    def ticks_ms() -> int:  # type: ignore
        return int(_time.monotonic() * 1000)  # type: ignore

    def ticks_diff(a: int, b: int) -> int:  # type: ignore
        return a - b

    def sleep_ms(ms: int) -> None:  # type: ignore
        _time.sleep(ms / 1000)

__all__ = ["sleep_ms", "ticks_diff", "ticks_ms"]
