"""`--workers` on a cluster: how many workers, and what each holds, for the resources Ray reports."""

from __future__ import annotations

import pytest

from deblur_cli.batch.cluster_plan import WorkerPlan, plan_workers


@pytest.mark.parametrize(("workers", "device", "node_cpus", "gpus", "expected"), [
    ("auto", "auto", [16, 16], 4, WorkerPlan(count=4, cpus=1, gpus=1, device="cuda")),
    ("2", "cuda", [16], 4, WorkerPlan(count=2, cpus=1, gpus=1, device="cuda")),
    ("auto", "cpu", [16, 16], 4, WorkerPlan(count=8, cpus=4, gpus=0, device="cpu")),
    ("cpu:8", "auto", [16, 12], 4, WorkerPlan(count=3, cpus=8, gpus=0, device="cpu")),
    ("auto", "auto", [2], 0, WorkerPlan(count=1, cpus=2, gpus=0, device="cpu")),
    ("1", "auto", [2], 0, WorkerPlan(count=1, cpus=2, gpus=0, device="cpu")),
    ("2", "auto", [2], 0, WorkerPlan(count=2, cpus=1, gpus=0, device="cpu")),
    ("3", "cpu", [4, 2], 0, WorkerPlan(count=3, cpus=2, gpus=0, device="cpu")),
    ("2", "cpu", [4, 2], 0, WorkerPlan(count=2, cpus=2, gpus=0, device="cpu")),  # 3 + 3 would not fit
])
def test_plans(workers: str, device: str, node_cpus: list[int], gpus: int, expected: WorkerPlan) -> None:
    assert plan_workers(workers, device, node_cpus, gpus, photos=100) == expected


def test_never_more_workers_than_photos() -> None:
    assert plan_workers("8", "cpu", [16], 0, photos=3) == WorkerPlan(count=3, cpus=2, gpus=0, device="cpu")


@pytest.mark.parametrize(("workers", "device", "gpus", "says"), [
    ("auto", "cuda", 0, "no GPU"),
    ("cpu:4", "cuda", 2, "CPU workers"),
    ("3", "cuda", 2, "3 GPUs"),
    ("9", "cpu", 0, "9 CPU cores"),
    ("auto", "cuda:1", 2, "use auto, cpu or cuda"),
    ("auto", "cpu,cpu", 0, "use auto, cpu or cuda"),
])
def test_requests_that_do_not_fit_the_cluster(workers: str, device: str, gpus: int, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        plan_workers(workers, device, [8], gpus, photos=10)
