"""glibc's allocator told to keep freed memory, and the fp32 training measured again under it."""
import gc

from .cpu import measure_training, train_samples
from .fairseq_setup import Setup


def keep_freed_memory():
    """glibc: serve every allocation from the heap and never give freed memory back, so
    the big per-step tensors (logits, log-probs and their gradients) reuse pages that are
    already mapped instead of page-faulting fresh zeroed ones in at every step. Returns
    False where that is not possible (not glibc). Process-wide and one-way: run last."""
    import ctypes
    try:
        libc = ctypes.CDLL("libc.so.6")
        M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
        return bool(libc.mallopt(M_MMAP_MAX, 0)) and bool(libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1))
    except (OSError, AttributeError):
        return False


def bench_allocator(root, names, sizes, log):
    """The fp32 training measurement of every size again, with freed memory kept (see
    keep_freed_memory): how much of a step is page faults of fresh allocations. This is
    how scripts/reproduce_table1.sh runs its CPU trainings (MALLOC_MMAP_MAX_=0)."""
    if not keep_freed_memory():
        log("[allocator] mallopt not available (not glibc): skipped")
        return []
    log("[allocator] freed memory kept in the heap from now on (MALLOC_MMAP_MAX_=0)")
    rows = []
    for n in names:
        setup = Setup(root, sizes[n])
        r, trainers, models = measure_training("train_keep_memory", n, sizes[n], setup,
                                               train_samples(setup, sizes[n]), log)
        for row in r:
            row["allocator"] = "MALLOC_MMAP_MAX_=0"
        rows += r
        del trainers, models
        gc.collect()
    return rows
