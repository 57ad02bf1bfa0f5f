"""Where runs execute: how many workers, how they start, and how they stop.

One place for the process rules that ensembles, sweeps and calibration share: workers ignore
Ctrl-C (the parent stops them and keeps what they finished) and die with their parent, even when
the parent is killed outright (on Linux, by the kernel's parent-death signal).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading


def default_workers() -> int:
    """The cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def worker_init() -> None:
    """Run in every worker as it starts: leave Ctrl-C to the parent; die with the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform == "linux":
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
        if os.getppid() == 1:  # the parent died before the line above: go now
            os._exit(1)


def worker_context() -> multiprocessing.context.BaseContext:
    """How worker processes start: ready to run at once wherever that is safe.

    On Linux they are forked from this process, which has already imported the model, as long as
    it has no other threads yet (forking a threaded process can deadlock); elsewhere a fork server
    imports the model once (spawn, on Windows).
    """
    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in multiprocessing.get_all_start_methods():
        forkserver = multiprocessing.get_context("forkserver")
        forkserver.set_forkserver_preload(["sim.runner"])
        return forkserver
    return multiprocessing.get_context("spawn")
