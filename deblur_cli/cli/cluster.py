"""`deblur run --cluster ADDRESS`: one batch spread over a Ray cluster (docs/cluster.md). The photo list
goes into Ray Data, a pool of `PhotoDeblurrer` actors restores it, and this process, the driver, draws one
bar over all photos and fills the same summary as a local run. Ray is imported only here and only when
asked for, so the tool works without the `ray` extra."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Protocol

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .cluster_plan import WorkerPlan, check_workers, plan_workers
from .cluster_worker import PhotoDeblurrer, TryCounter, photo_row
from .console import Terminal
from .jobs import Job
from .options import EngineOptions, OutputOptions, warn_untrained

if TYPE_CHECKING:
    from types import ModuleType

#: Photos go into at most this many dataset blocks; Ray retries a lost worker's block as a whole, so small
#: blocks keep a retry short (photos an earlier try wrote are not redone).
MAX_BLOCKS = 10_000
INSTALL_HINT = "pip install 'deblur-cli[ray]' (in a checkout: pip install -e '.[ray]')"


def _check_workers(value: str) -> str:
    try:
        return check_workers(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


ClusterOption = Annotated[str | None, typer.Option(
    "--cluster", metavar="ADDRESS", help="Spread the photos over a Ray cluster: auto (the running one), "
    "local (start one here) or its address; OUT must be on storage every node sees (docs/cluster.md).")]
WorkersOption = Annotated[str, typer.Option(
    "--workers", callback=_check_workers, help="With --cluster: auto (one per GPU, else one per 4 CPU "
    "cores), a number of workers, or cpu:N (one per N CPU cores).")]


@dataclass(frozen=True)
class ClusterTarget:
    """Where to run (`--cluster`) and how many workers to start there (`--workers`)."""

    address: str
    workers: str = "auto"


class Tally(Protocol):
    """The part of `deblur run`'s summary a cluster run fills in."""

    done: list[Path]
    failed: list[tuple[Path, str]]


def deblur_on_cluster(todo: list[Job], engine: EngineOptions, output: OutputOptions, views: tuple[str, ...],
                      term: Terminal, tally: Tally, cluster: ClusterTarget, *, untrained_means: str) -> bool:
    """Restore `todo` on the Ray cluster at `cluster.address`, adding each photo to `tally` as it finishes
    and ending with a line of photos per second; an untrained network gets the warning `untrained_means`.
    False (after one error line) when Ray is missing or the cluster cannot be reached. A cluster started
    here (`local`) is stopped at the end; a connection this process already has is used as it is.

    Raises:
        typer.BadParameter: --workers or --device do not fit the cluster.
    """
    try:
        import ray
        import ray.data
        import ray.exceptions
    except ImportError:
        term.error(f"--cluster needs Ray, the `ray` extra: {INSTALL_HINT}")
        return False
    started_here = not ray.is_initialized()
    if started_here:
        try:
            _connect(ray, cluster.address, term)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            term.error(f"cannot reach the Ray cluster at {cluster.address}: {' '.join(str(exc).split())}")
            return False
    try:
        plan = _plan(ray, cluster.workers, engine.device, len(todo))
        _restore_all(ray, todo, replace(engine, device=plan.device), output, views, plan, term, tally,
                     untrained_means)
    finally:
        if started_here:
            ray.shutdown()
    return True


def _connect(ray: ModuleType, address: str, term: Terminal) -> None:
    """Start a cluster on this machine (`local`) or join a running one; Ray's own chatter only with -v."""
    level = logging.INFO if term.verbose else logging.ERROR
    if address == "local":
        ray.init(include_dashboard=False, log_to_driver=term.verbose > 0, logging_level=level)
    else:
        ray.init(address=address, log_to_driver=term.verbose > 0, logging_level=level)


def _plan(ray: ModuleType, workers: str, device: str, photos: int) -> WorkerPlan:
    node_cpus = [int(node["Resources"].get("CPU", 0)) for node in ray.nodes() if node["Alive"]]
    gpus = int(ray.cluster_resources().get("GPU", 0))
    try:
        return plan_workers(workers, device, node_cpus, gpus, photos)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _restore_all(ray: ModuleType, todo: list[Job], engine: EngineOptions, output: OutputOptions,
                 views: tuple[str, ...], plan: WorkerPlan, term: Terminal, tally: Tally,
                 untrained_means: str) -> None:
    """Run the dataset through the actor pool and record each photo as its result streams back."""
    ray.data.DataContext.get_current().enable_progress_bars = False  # ours is the one bar
    if not term.verbose:  # Ray Data's notes on each execution (its log file keeps them)
        logging.getLogger("ray.data").setLevel(logging.ERROR)
    rows = [photo_row(index, job) for index, job in enumerate(todo)]
    counter = ray.remote(num_cpus=0)(TryCounter).remote()
    results = ray.data.from_items(rows, override_num_blocks=min(len(rows), MAX_BLOCKS)).map_batches(
        PhotoDeblurrer, batch_size=1, compute=ray.data.ActorPoolStrategy(size=plan.count),
        num_cpus=plan.cpus, num_gpus=plan.gpus,
        fn_constructor_kwargs={"engine": engine, "output": output, "views": views, "threads": plan.cpus,
                               "counter": counter})
    kind = "GPU" if plan.gpus else f"{plan.cpus}-core"
    recorded: set[int] = set()
    warned = False
    start = time.perf_counter()
    with _progress(term) as bar:
        photos = bar.add_task(f"deblurring on {plan.count} {kind} worker{'s' * (plan.count > 1)}",
                              total=len(todo))
        try:
            for row in results.iter_rows():
                if row["untrained"] and not warned:
                    warned = True
                    warn_untrained(engine, term, untrained_means)
                index = int(row["index"])
                recorded.add(index)
                _record(todo[index], str(row["failure"]), term, tally)
                bar.advance(photos)
        except ray.exceptions.RayError as exc:
            term.error(f"the cluster run stopped: {str(exc).strip().splitlines()[0]}")
        for index in sorted(set(range(len(todo))) - recorded):
            _record(todo[index], f"{todo[index].item.path}: not restored, the cluster run stopped", term,
                    tally)
    seconds = time.perf_counter() - start
    term.say(f"{len(recorded)} photos in {seconds:.1f} s: {len(recorded) / seconds:.2f} photos/s "
             f"on {plan.count} {kind} worker{'s' * (plan.count > 1)}")


def _record(job: Job, failure: str, term: Terminal, tally: Tally) -> None:
    """Add one photo's outcome; its reason names the photo as the user did, not by its absolute path."""
    if failure:
        failure = failure.replace(str(job.item.path.absolute()), str(job.item.path))
        tally.failed.append((job.item.path, failure))
        term.error(failure)
    else:
        tally.done.append(job.item.path)
        term.detail(f"wrote {job.target}")


def _progress(term: Terminal) -> Progress:
    """One bar over all photos on stderr, shown only on a terminal and without -q."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=term.err, disable=term.quiet or not term.err.is_terminal)
