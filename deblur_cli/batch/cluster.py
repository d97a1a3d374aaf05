"""One batch spread over a Ray cluster (`deblur run --cluster`, docs/cluster.md). The photo list goes into
Ray Data, a pool of `PhotoDeblurrer` actors restores it, and this process, the driver, reports each photo
as its result streams back. Ray is imported only here and only when asked for, so the tool works without
the `ray` extra."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..errors import DeblurError
from .cluster_plan import WorkerPlan, plan_workers
from .cluster_worker import PhotoDeblurrer, TryCounter, photo_row
from .events import OnEvent, PhotoDone, PhotoFailed, Started, Stopped, Throughput, Untrained, one_line
from .options import EngineOptions, OutputOptions
from .plan import Job

if TYPE_CHECKING:
    from types import ModuleType

#: Photos go into at most this many dataset blocks; Ray retries a lost worker's block as a whole, so small
#: blocks keep a retry short (photos an earlier try wrote are not redone).
MAX_BLOCKS = 10_000
INSTALL_HINT = "pip install 'deblur-cli[ray]' (in a checkout: pip install -e '.[ray]')"


@dataclass(frozen=True)
class ClusterTarget:
    """Where to run (`--cluster`), how many workers to start there (`--workers`), and whether Ray's own
    logs are shown."""

    address: str
    workers: str = "auto"
    verbose: bool = False


def deblur_on_cluster(todo: list[Job], engine: EngineOptions, output: OutputOptions, cluster: ClusterTarget,
                      on_event: OnEvent) -> None:
    """Restore `todo` on the Ray cluster at `cluster.address`, reporting each photo as it finishes and
    ending with the photos per second. A cluster started here (`local`) is stopped at the end; a
    connection this process already has is used as it is.

    Raises:
        DeblurError: Ray is not installed, or the cluster cannot be reached.
        ValueError: --workers or --device do not fit the cluster.
    """
    try:
        import ray
        import ray.data
        import ray.exceptions
    except ImportError:
        raise DeblurError(f"--cluster needs Ray, the `ray` extra: {INSTALL_HINT}") from None
    started_here = not ray.is_initialized()
    if started_here:
        try:
            _connect(ray, cluster)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise DeblurError(f"cannot reach the Ray cluster at {cluster.address}: {one_line(exc)}") from None
    try:
        node_cpus = [int(node["Resources"].get("CPU", 0)) for node in ray.nodes() if node["Alive"]]
        gpus = int(ray.cluster_resources().get("GPU", 0))
        plan = plan_workers(cluster.workers, str(engine.device), node_cpus, gpus, len(todo))
        # Each worker runs on the cores Ray reserved for it, no more.
        _restore_all(ray, todo, replace(engine, device=plan.device, threads=plan.cpus), output, plan, cluster,
                     on_event)
    finally:
        if started_here:
            ray.shutdown()


def _connect(ray: ModuleType, cluster: ClusterTarget) -> None:
    """Start a cluster on this machine (`local`) or join a running one; Ray's own chatter only if verbose."""
    level = logging.INFO if cluster.verbose else logging.ERROR
    if cluster.address == "local":
        ray.init(include_dashboard=False, log_to_driver=cluster.verbose, logging_level=level)
    else:
        ray.init(address=cluster.address, log_to_driver=cluster.verbose, logging_level=level)


def _restore_all(ray: ModuleType, todo: list[Job], engine: EngineOptions, output: OutputOptions,
                 plan: WorkerPlan, cluster: ClusterTarget, on_event: OnEvent) -> None:
    """Run the dataset through the actor pool and report each photo as its result streams back."""
    ray.data.DataContext.get_current().enable_progress_bars = False  # the caller draws the one bar
    if not cluster.verbose:  # Ray Data's notes on each execution (its log file keeps them)
        logging.getLogger("ray.data").setLevel(logging.ERROR)
    rows = [photo_row(index, job) for index, job in enumerate(todo)]
    counter = ray.remote(num_cpus=0)(TryCounter).remote()
    results = ray.data.from_items(rows, override_num_blocks=min(len(rows), MAX_BLOCKS)).map_batches(
        PhotoDeblurrer, batch_size=1, compute=ray.data.ActorPoolStrategy(size=plan.count),
        num_cpus=plan.cpus, num_gpus=plan.gpus,
        fn_constructor_kwargs={"engine": engine, "output": output, "counter": counter})
    kind = "GPU" if plan.gpus else f"{plan.cpus}-core"
    where = f"{plan.count} {kind} worker{'s' * (plan.count > 1)}"
    recorded: set[int] = set()
    warned = False
    start = time.perf_counter()
    on_event(Started(len(todo), where))
    try:
        for row in results.iter_rows():
            if row["untrained"] and not warned:
                warned = True
                on_event(Untrained(engine.model))
            index = int(row["index"])
            recorded.add(index)
            on_event(_outcome(todo[index], str(row["failure"])))
    except ray.exceptions.RayError as exc:
        on_event(Stopped(f"the cluster run stopped: {str(exc).strip().splitlines()[0]}"))
    for index in sorted(set(range(len(todo))) - recorded):
        on_event(_outcome(todo[index], f"{todo[index].item.path}: not restored, the cluster run stopped"))
    on_event(Throughput(len(recorded), time.perf_counter() - start, where))


def _outcome(job: Job, failure: str) -> PhotoDone | PhotoFailed:
    """One photo's outcome; its reason names the photo as the user did, not by its absolute path."""
    if failure:
        return PhotoFailed(job.item.path, failure.replace(str(job.item.path.absolute()), str(job.item.path)))
    return PhotoDone(job)
