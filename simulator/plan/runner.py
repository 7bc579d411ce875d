"""Run a plan's Monte Carlo scenarios on Dask: a local cluster by default, or a scheduler's address.

Each scenario is one task (simulator.plan.trial.run_trial); results come back as they finish, so a
progress bar can follow them. `workers=0` runs them here, one after another, without Dask.
"""

import sys
import time
from collections.abc import Callable, Iterator


class PlanRunError(RuntimeError):
    """The parallel engine could not be started or reached."""


def _local(specs: list[dict]) -> Iterator[dict]:
    from simulator.plan.trial import run_trial

    for spec in specs:
        yield run_trial(spec)


def _dask(specs: list[dict], workers: int, scheduler: str | None) -> Iterator[dict]:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:
        raise PlanRunError("emberwatch plan needs Dask: pip install 'dask[distributed]' (or --workers 0)") from exc
    from simulator.plan.trial import run_trial

    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout="5s")
        else:
            # processes, one thread each: a scenario is single-threaded numpy and Python
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=40)
            client = Client(cluster)
    except OSError as exc:
        if cluster is not None:
            cluster.close()
        raise PlanRunError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from exc
    try:
        futures = client.map(run_trial, specs, pure=False)
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_trials(specs: list[dict], workers: int = 2, scheduler: str | None = None,
               progress: Callable[[int, int, float], None] | None = None) -> list[dict]:
    """All results, in the order given; progress(done, total, elapsed_s) after each one."""
    started = time.monotonic()
    source = _local(specs) if workers == 0 and not scheduler else _dask(specs, workers, scheduler)
    results = []
    for result in source:
        results.append(result)
        if progress is not None:
            progress(len(results), len(specs), time.monotonic() - started)
    order = {(s["spacing_m"], s["seed"]): k for k, s in enumerate(specs)}
    return sorted(results, key=lambda r: order[(r["spacing_m"], r["seed"])])


def text_progress(quiet: bool = False) -> Callable[[int, int, float], None]:
    """A bar on a terminal, a line per tenth in a log."""
    interactive = sys.stderr.isatty()
    shown = [-1]

    def show(done: int, total: int, elapsed_s: float) -> None:
        fraction = done / total
        if quiet or (not interactive and int(fraction * 10) == shown[0]):
            return
        shown[0] = int(fraction * 10)
        rate = done / elapsed_s * 60 if elapsed_s > 0 else 0.0
        bar = "#" * int(fraction * 30)
        print(f"{chr(13) if interactive else ''}[plan] [{bar:<30}] {done}/{total} scenarios  {elapsed_s:6.1f} s  "
              f"{rate:5.1f}/min", end="" if interactive and done < total else "\n", file=sys.stderr, flush=True)
    return show
