"""Spreading one `deblur run` batch over several devices (`--device cuda:0,cuda:1`): one worker process
per device, each with its own model, pulling photos from a shared queue so a fast device takes more."""

from __future__ import annotations

import multiprocessing
import os
import queue
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from ..engine.devices import resolve_device
from ..errors import DeblurError
from .jobs import Job, deblur_one, failure_reason
from .options import EngineOptions, OutputOptions

POLL_SECONDS = 0.5


def split_devices(spec: str) -> list[str]:
    """The devices a `--device` value names: "cuda:0,cuda:1" gives two; each must exist (DeviceError)."""
    names = [name.strip() for name in spec.split(",")]
    if any(not name for name in names):
        raise DeblurError(f"device list {spec!r} has an empty entry")
    for name in names:
        resolve_device(name)
    return names


@dataclass
class SpreadResult:
    """What the workers reported: photos done (by index into the job list) and failures with reasons."""

    done: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


def deblur_spread(jobs: list[Job], engine: EngineOptions, devices: list[str], output: OutputOptions,
                  views: tuple[str, ...], on_result: Callable[[int, str | None], None],
                  on_untrained: Callable[[], None]) -> SpreadResult:
    """Restore `jobs` with one worker per device; `on_result(index, failure or None)` follows each photo,
    `on_untrained()` comes once if the workers' network has no trained weights.

    A worker that cannot load the model leaves its share to the others; a worker that dies mid-photo fails
    that photo. Outputs are written atomically by the workers, so stopping leaves no partial file.
    """
    context = multiprocessing.get_context("spawn")  # CUDA cannot be used in a forked child
    tasks: Any = context.Queue()
    results: Any = context.Queue()
    for index, job in enumerate(jobs):
        tasks.put((index, job))
    for _ in devices:
        tasks.put(None)
    cpu_workers = sum(resolve_device(d).type == "cpu" for d in devices)
    threads = engine.threads or max(1, (os.cpu_count() or 1) // max(1, cpu_workers))
    workers = [
        context.Process(target=_worker, args=(replace(engine, device=device), output, views, threads, tasks,
                                              results), name=f"{device} (worker {number})", daemon=True)
        for number, device in enumerate(devices, 1)
    ]
    for worker in workers:
        worker.start()
    outcome = SpreadResult()
    warned = False
    started: dict[str, int] = {}  # worker name (unique) -> index of the photo it is on
    load_errors: list[str] = []
    try:
        while len(outcome.done) + len(outcome.failed) < len(jobs):
            try:
                kind, name, payload = results.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if not _reap_dead(workers, started, outcome, on_result):
                    break
                continue
            if kind == "ready":
                if payload and not warned:
                    warned = True
                    on_untrained()
            elif kind == "load-error":
                load_errors.append(f"{name}: {payload}")
            elif kind == "start":
                started[name] = payload
            else:
                index, reason = payload
                started.pop(name, None)
                _record(outcome, index, reason, on_result)
        else:
            return outcome
        reason = "no worker left to run it" + (f" ({'; '.join(load_errors)})" if load_errors else "")
        for index in range(len(jobs)):
            if index not in outcome.failed and index not in outcome.done:
                _record(outcome, index, f"{jobs[index].item.path}: {reason}", on_result)
        return outcome
    finally:
        tasks.cancel_join_thread()  # photos left unread must not keep this process from exiting
        for worker in workers:
            worker.join(timeout=0 if worker.exitcode is not None else 5)
            if worker.is_alive():
                worker.terminate()
                worker.join()


def _record(outcome: SpreadResult, index: int, reason: str | None,
            on_result: Callable[[int, str | None], None]) -> None:
    if reason is None:
        outcome.done.append(index)
    else:
        outcome.failed[index] = reason
    on_result(index, reason)


def _reap_dead(workers: list[multiprocessing.Process], started: dict[str, int], outcome: SpreadResult,
               on_result: Callable[[int, str | None], None]) -> bool:
    """Fail the photo a crashed worker was on; False once no worker is alive (nobody left to do the rest)."""
    for worker in workers:
        if worker.exitcode not in (None, 0) and worker.name in started:
            index = started.pop(worker.name)
            _record(outcome, index, f"the worker on {worker.name} died (exit code {worker.exitcode}) "
                    "while restoring it", on_result)
    return any(worker.is_alive() for worker in workers)


def _worker(engine: EngineOptions, output: OutputOptions, views: tuple[str, ...], threads: int,
            tasks: Any, results: Any) -> None:
    """One device's loop: load the model once, then restore photos from `tasks` until the end marker."""
    name = multiprocessing.current_process().name
    try:
        if resolve_device(engine.device).type == "cpu":
            torch.set_num_threads(threads)
        deblurrer = engine.load()
    except (DeblurError, ValueError) as exc:
        results.put(("load-error", name, " ".join(str(exc).split())))
        return
    except KeyboardInterrupt:
        return
    results.put(("ready", name, deblurrer.untrained))
    try:
        while (task := tasks.get()) is not None:
            index, job = task
            results.put(("start", name, index))
            try:
                deblur_one(job, deblurrer, output, views)
                reason = None
            except (DeblurError, ValueError, MemoryError, torch.cuda.OutOfMemoryError) as exc:
                reason = failure_reason(job.item.path, exc)
            results.put(("result", name, (index, reason)))
    except KeyboardInterrupt:
        return
