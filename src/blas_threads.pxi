# OpenBLAS's parallel jobs on fastops' pool: the entry fastops/_blas_threads.py installs.

def blas_threads_entry():
    """Address of the C callback OpenBLAS's openblas_set_threads_callback_function takes, or 0
    where fastops has no thread pool."""
    return <size_t>fo_blas_threads_entry()


def blas_threads_counts():
    """(OpenBLAS calls run through the callback, those of them that started threads of their
    own because the pool was busy, jobs that moved off a CPU another job of the call started
    on)."""
    return fo_blas_threads_calls(), fo_blas_threads_spawning_calls(), fo_blas_threads_moves()
