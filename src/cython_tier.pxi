# The Cython rung as a tier of the public kernels: which build runs, and on how many threads.

def cython_rung(int isa):
    """The pure-Cython rung's entries for ISA level `isa` (fastops._cython_kernels, imported
    on first use: the rung is only loaded by those who run it)."""
    from fastops import _cython_kernels
    return _cython_kernels.build_for(isa)


# The Cython rung's prange runs on libgomp, which has no fork handler: a child forked after
# its parent started an OpenMP team hangs in its first parallel region.  In such a child the
# rung runs on one thread, with a warning once.  (fastops' own kernels run on fastops' pool,
# which is fork-safe; docs/thread_pool.md.)
cdef bint _omp_team_started = False  # this process, or its parent, ran an OpenMP team
cdef bint _omp_unusable = False      # forked after that: one thread only
cdef bint _omp_warned = False


cdef int cython_threads(int nthreads) except -1:
    global _omp_team_started, _omp_warned
    if nthreads <= 1:
        return 1
    if _omp_unusable:
        if not _omp_warned:
            _omp_warned = True
            warnings.warn("fastops.cython: this process was forked after the Cython rung ran "
                          "on several OpenMP threads, and libgomp cannot start a team after "
                          "fork; the Cython rung runs on one thread here", RuntimeWarning,
                          stacklevel=3)
        return 1
    _omp_team_started = True
    return nthreads


def _omp_after_fork_in_child():
    global _omp_unusable
    if _omp_team_started:
        _omp_unusable = True


os.register_at_fork(after_in_child=_omp_after_fork_in_child)
