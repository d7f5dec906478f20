"""How many threads fastops' kernels use inside a Dask task (never imports dask itself).

The rule: a task runs fastops with max(1, T // N) threads, where T is the setting in force
(fastops.get_num_threads(), which a config_context around `.compute()` also sets: Dask's
threaded scheduler carries context variables into its task threads) and N is the number of
tasks that may run at once beside it:

- Dask's threaded scheduler: N = the size of the thread pool running the task (dask's
  `num_workers`, by default the CPU count), so T = cores gives one fastops thread per task;
- a `distributed` worker: N = the worker's threads.  Its nanny also sets OMP_NUM_THREADS=1
  before the worker starts, which fastops reads at import, so T is already 1 there unless
  FASTOPS_NUM_THREADS says otherwise;
- anywhere else (the synchronous scheduler, plain code): N = 1, the setting unchanged.

Tasks then fill the cores with Dask's parallelism instead of each task starting a full team
of fastops threads on cores the other tasks already use.
"""
import sys
import threading

from . import _config


def _local_pool_size():
    """Threads of the dask.threaded pool that runs the calling thread, or None."""
    threaded = sys.modules.get("dask.threaded")
    if threaded is None:
        return None
    me = threading.current_thread()
    prefix = me.name.rsplit("_", 1)[0]
    pools = [threaded.default_pool]
    for by_size in list(threaded.pools.values()):
        pools.extend(by_size.values())
    for pool in pools:
        # A ThreadPoolExecutor names its threads '<prefix>_<i>' before starting them (it adds
        # them to _threads only after start, so a first task may not find itself there yet);
        # dask reads _max_workers too.
        if pool is not None and (prefix == getattr(pool, "_thread_name_prefix", None)
                                 or me in getattr(pool, "_threads", ())):
            return getattr(pool, "_max_workers", None)
    return None


def _worker_threads():
    """Threads of the distributed worker running the calling task, or None."""
    worker_mod = sys.modules.get("distributed.worker")
    if worker_mod is None:
        return None
    if getattr(worker_mod.thread_state, "key", None) is None:
        return None  # not inside a task (the worker's event loop, or no worker at all)
    try:
        worker = worker_mod.get_worker()
    except ValueError:
        return None
    state = getattr(worker, "state", worker)
    return getattr(state, "nthreads", None)


def concurrent_tasks():
    """How many Dask tasks may run at once beside the calling one (1 outside Dask)."""
    n = _worker_threads() or _local_pool_size()
    return max(1, int(n)) if n else 1


def task_threads():
    """Threads for fastops' kernels in the calling task: max(1, setting // concurrent tasks).

    Returns:
        int: the thread count the rule gives here (the setting itself outside Dask).

    Example:
        >>> with fastops.config_context(num_threads=task_threads()):
        ...     fastops.relu(block)
    """
    return max(1, _config.get_num_threads() // concurrent_tasks())


def in_task_threads():
    """A config_context with task_threads() in force (what every Dask block of fastops
    runs under)."""
    return _config.config_context(num_threads=task_threads())
