"""How many `PhotoDeblurrer`s a cluster gets and what each one holds (`--workers`): a pure function of the
request and the cluster's resources, so it is tested without Ray."""

from __future__ import annotations

from dataclasses import dataclass, replace

#: CPU cores per worker when `--workers auto` runs on CPUs: torch gains little from more threads per photo.
DEFAULT_CORES = 4


@dataclass(frozen=True)
class WorkerPlan:
    """The actor pool: `count` workers, each reserving `cpus` cores and `gpus` GPUs, running on `device`."""

    count: int
    cpus: int
    gpus: int
    device: str


def check_workers(value: str) -> str:
    """Validate a `--workers` value: auto, a count N, or cpu:N (one worker per N CPU cores)."""
    count = value.removeprefix("cpu:")
    if value != "auto" and not (count.isdigit() and int(count) > 0):
        raise ValueError(f"{value!r} is not auto, a number of workers, or cpu:N (one worker per N cores)")
    return value


def plan_workers(workers: str, device: str, node_cpus: list[int], gpus: int, photos: int) -> WorkerPlan:
    """The pool for `--workers` and `--device` on a cluster whose nodes have `node_cpus` cores and `gpus`
    GPUs in all, to restore `photos` photos (never more workers than photos).

    On GPUs (`--device cuda`, or auto on a cluster that has them) each worker takes one GPU and one core;
    auto means one per GPU. On CPUs, cpu:N means one worker per N cores of each node, a count N gives each
    worker the most cores with which all N fit on the nodes, and auto is cpu:4. A worker never asks for
    more cores than the largest node has.

    Raises:
        ValueError: the request does not fit the cluster (more workers than GPUs or cores, cpu:N with
            --device cuda, a device Ray cannot hand out).
    """
    plan = _plan(check_workers(workers), device, node_cpus, gpus)
    return replace(plan, count=max(1, min(plan.count, photos)))


def _plan(workers: str, device: str, node_cpus: list[int], gpus: int) -> WorkerPlan:
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"--device {device} on a cluster: use auto, cpu or cuda (Ray gives each worker its "
                         "GPU)")
    on_cpu = workers.startswith("cpu:")
    if device == "cuda" and on_cpu:
        raise ValueError(f"--workers {workers} asks for CPU workers but --device is cuda")
    if device == "cuda" and gpus == 0:
        raise ValueError("--device cuda, but the cluster has no GPU")
    if device == "cuda" or (device == "auto" and gpus > 0 and not on_cpu):
        count = gpus if workers == "auto" else int(workers)
        if count > gpus:
            raise ValueError(f"{count} GPU workers need {count} GPUs; the cluster has {gpus}")
        return WorkerPlan(count=count, cpus=1, gpus=1, device="cuda")
    if workers.isdigit():
        count = int(workers)
        fits = [c for c in range(1, sum(node_cpus) // count + 1) if sum(n // c for n in node_cpus) >= count]
        if not fits:
            raise ValueError(f"{count} workers need {count} CPU cores; the cluster has {sum(node_cpus)}")
        return WorkerPlan(count=count, cpus=max(fits), gpus=0, device="cpu")
    cores = min(max([*node_cpus, 1]), int(workers.removeprefix("cpu:")) if on_cpu else DEFAULT_CORES)
    return WorkerPlan(count=max(1, sum(n // cores for n in node_cpus)), cpus=cores, gpus=0, device="cpu")
