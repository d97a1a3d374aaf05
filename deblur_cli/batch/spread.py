"""Spreading one batch over several devices (`--device cuda:0,cuda:1`): one worker process per device, each
with its own model, pulling photos from a shared queue so a fast device takes more."""

from __future__ import annotations

import multiprocessing
import os
import queue
from dataclasses import replace
from typing import Any

import torch

from ..engine.devices import resolve_device
from ..errors import DeblurError
from .events import OnEvent, PhotoDone, PhotoFailed, Started, Untrained, failure_reason, one_line
from .options import EngineOptions, OutputOptions
from .photo import PHOTO_ERRORS, deblur_one
from .plan import Job

POLL_SECONDS = 0.5


def split_devices(spec: str) -> list[torch.device]:
    """The devices a `--device` value names: "cuda:0,cuda:1" gives two; each must exist (DeviceError)."""
    names = [name.strip() for name in spec.split(",")]
    if any(not name for name in names):
        raise DeblurError(f"device list {spec!r} has an empty entry")
    return [resolve_device(name) for name in names]


def deblur_spread(jobs: list[Job], engine: EngineOptions, devices: list[torch.device], output: OutputOptions,
                  on_event: OnEvent) -> None:
    """Restore `jobs` with one worker per device, reporting each photo as it finishes and `Untrained` once
    if the workers' network has no trained weights.

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
    cpu_share = max(1, (os.cpu_count() or 1) // max(1, sum(d.type == "cpu" for d in devices)))
    workers = [
        context.Process(target=_worker, args=(_engine_on(engine, device, cpu_share), output, tasks, results),
                        name=f"{device} (worker {number})", daemon=True)
        for number, device in enumerate(devices, 1)
    ]
    on_event(Started(len(jobs), ", ".join(map(str, devices))))
    for worker in workers:
        worker.start()
    finished: set[int] = set()
    warned = False
    started: dict[str, int] = {}  # worker name (unique) -> index of the photo it is on
    load_errors: list[str] = []

    def record(index: int, reason: str | None) -> None:
        finished.add(index)
        job = jobs[index]
        on_event(PhotoDone(job) if reason is None else PhotoFailed(job.item.path, reason))

    try:
        while len(finished) < len(jobs):
            try:
                kind, name, payload = results.get(timeout=POLL_SECONDS)
            except queue.Empty:
                for worker in workers:  # fail the photo a crashed worker was on
                    if worker.exitcode not in (None, 0) and worker.name in started:
                        record(started.pop(worker.name), f"the worker on {worker.name} died (exit code "
                               f"{worker.exitcode}) while restoring it")
                if not any(worker.is_alive() for worker in workers):
                    break
                continue
            if kind == "ready":
                if payload and not warned:
                    warned = True
                    on_event(Untrained(engine.model))
            elif kind == "load-error":
                load_errors.append(f"{name}: {payload}")
            elif kind == "start":
                started[name] = payload
            else:
                index, reason = payload
                started.pop(name, None)
                record(index, reason)
        reason = "no worker left to run it" + (f" ({'; '.join(load_errors)})" if load_errors else "")
        for index in sorted(set(range(len(jobs))) - finished):
            record(index, f"{jobs[index].item.path}: {reason}")
    finally:
        tasks.cancel_join_thread()  # photos left unread must not keep this process from exiting
        for worker in workers:
            worker.join(timeout=0 if worker.exitcode is not None else 5)
            if worker.is_alive():
                worker.terminate()
                worker.join()


def _engine_on(engine: EngineOptions, device: torch.device, cpu_share: int) -> EngineOptions:
    """The settings of one device's worker: a CPU worker takes its share of the cores unless --threads."""
    threads = (engine.threads or cpu_share) if device.type == "cpu" else engine.threads
    return replace(engine, device=device, threads=threads)


def _worker(engine: EngineOptions, output: OutputOptions, tasks: Any, results: Any) -> None:
    """One device's loop: load the model once, then restore photos from `tasks` until the end marker."""
    name = multiprocessing.current_process().name
    try:
        deblurrer = engine.load()
    except (DeblurError, ValueError) as exc:
        results.put(("load-error", name, one_line(exc)))
        return
    except KeyboardInterrupt:
        return
    results.put(("ready", name, deblurrer.untrained))
    try:
        while (task := tasks.get()) is not None:
            index, job = task
            results.put(("start", name, index))
            try:
                deblur_one(job, deblurrer, output)
                reason = None
            except PHOTO_ERRORS as exc:
                reason = failure_reason(job.item.path, exc)
            results.put(("result", name, (index, reason)))
    except KeyboardInterrupt:
        return

