"""Makes fairseq's launcher see two devices on a machine without GPUs, so that
``fairseq-train --distributed-world-size 2 --cpu`` takes the path a two-GPU machine
takes: ``infer_init_method`` picks a tcp:// address and ``call_main`` starts the
workers with ``torch.multiprocessing.spawn``. Only the count is faked: CUDA stays
unavailable, so the workers run on the CPU (``--cpu``, gloo). Put this directory on
PYTHONPATH of the command under test (tests/test_distributed.py); the spawned workers
inherit it."""
import torch

torch.cuda.device_count = lambda: 2
