"""`check -j N`: files checked in worker processes, merged back in input order.

The parent cuts the file list into contiguous chunks. Each chunk is checked by a fresh
Checker built from the same Options in a worker process, so what it records (the files
checked, the rules seen in the order their packs were first used) is exactly what one
Checker records for those files; concatenated in chunk order they are what a single
process would have recorded, and `finish` prints the same report. Compiled rule packs
stay inside the worker that compiled them: only paths, Options, findings and errors
are pickled.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from .checker import Checker, Options
from .engine import Engine
from .errors import DomlintError, RuleError
from .findings import Finding
from .formats import CheckedFile, RuleInfo
from .record import field, record
from .rulepack import RuleErrors

if TYPE_CHECKING:
    # multiprocessing and concurrent.futures are imported only when -j starts workers:
    # together they cost a one-file run more than checking the file.
    import multiprocessing.context
    from concurrent.futures import ProcessPoolExecutor

# Chunks per process: several, so that one slow chunk does not leave the other processes idle.
CHUNKS_PER_JOB = 4

Outcome = list[Finding] | DomlintError


def parse_jobs(text: str) -> int:
    """The value of -j: a number of processes, with 0 or `auto` meaning one per CPU (argparse type)."""
    value = text.strip().lower()
    if value == "auto":
        return os.cpu_count() or 1
    if not re.fullmatch(r"[0-9]{1,6}", value):
        import argparse

        raise argparse.ArgumentTypeError(f"expected a number of processes, 0 or 'auto', got {text!r}")
    return int(value) or (os.cpu_count() or 1)


@record
class ChunkResult:
    """What checking one chunk gave: an outcome per file until a run-stopping error, and the Checker's records."""

    outcomes: list[Outcome]
    checked: list[CheckedFile]
    rules: dict[str, RuleInfo]
    # A rule pack that cannot be loaded stops the whole run; RuleErrors itself does not survive pickling.
    rule_errors: list[RuleError] = field(default_factory=list)


# Rule packs compiled in this worker process, shared by the chunks it checks during one run.
_ENGINES: dict[tuple[str, ...], Engine] = {}


def _start_worker(cwd: str, environ: dict[str, str]) -> None:
    # Ctrl-C is the parent's to handle: it stops the workers itself.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A forkserver child inherits the server's directory and environment, not the parent's current ones.
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(environ)


def check_chunk(options: Options, paths: list[str]) -> ChunkResult:
    """Check paths in order with a fresh Checker (runs in a worker process)."""
    checker = Checker(options, engines=_ENGINES)
    outcomes: list[Outcome] = []
    try:
        for path in paths:
            outcomes.append(checker.outcome(path))
    except RuleErrors as exc:
        return ChunkResult(outcomes, checker.checked, checker.rules, list(exc.errors))
    return ChunkResult(outcomes, checker.checked, checker.rules)


def chunks(paths: list[str], jobs: int) -> list[list[str]]:
    """paths cut into contiguous chunks of nearly equal length, in order."""
    count = min(len(paths), jobs * CHUNKS_PER_JOB)
    size = -(-len(paths) // count) if count else 1  # the ceiling, without importing math
    return [paths[i:i + size] for i in range(0, len(paths), size)]


def _context() -> multiprocessing.context.BaseContext:
    import multiprocessing

    # forkserver: workers fork from a clean server that has already imported domlint, which is
    # fast and, unlike fork from this process, safe with the executor's threads; spawn elsewhere.
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([__name__])
        return ctx
    return multiprocessing.get_context("spawn")


def _stop(pool: ProcessPoolExecutor) -> None:
    """End the pool now: pending chunks cancelled, running ones killed (they may be stuck on an input)."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14
    if terminate is not None:
        terminate()
        return
    # Before 3.14 the executor has no way to kill its workers; shutdown() forgets them, so take them first.
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.join(timeout=5)


def check_parallel(checker: Checker, paths: list[str], jobs: int,
                   work: Callable[[Options, list[str]], ChunkResult] = check_chunk) -> list[Outcome]:
    """Every path's outcome, in order, checked by up to jobs processes; records merged into checker."""
    # work: what a worker runs on each chunk (a module-level function, so that it can be pickled).
    from concurrent.futures import Future, ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    parts = chunks(paths, jobs)
    pool = ProcessPoolExecutor(min(jobs, len(parts)), mp_context=_context(), initializer=_start_worker,
                               initargs=(os.getcwd(), dict(os.environ)))
    try:
        futures: list[Future[ChunkResult]] = [pool.submit(work, checker.options, part) for part in parts]
        outcomes: list[Outcome] = []
        for part, future in zip(parts, futures, strict=True):
            try:
                result = future.result()
            except BrokenProcessPool:
                raise DomlintError(str(part[0]), None, f"a worker process died while checking this file or one of "
                                                       f"the {len(part) - 1} after it; -j 1 checks them "
                                                       f"in one process") from None
            if result.rule_errors:
                raise RuleErrors(result.rule_errors)
            outcomes.extend(result.outcomes)
            checker.checked.extend(result.checked)
            for rule_id, info in result.rules.items():
                checker.rules.setdefault(rule_id, info)
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown(wait=True)
    return outcomes
