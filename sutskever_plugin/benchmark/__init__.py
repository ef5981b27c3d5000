"""The speed benchmark: ``sutskever_lstm`` against fairseq's built-in ``lstm``, side by side.

Run by ``bash scripts/benchmark.sh`` / ``python scripts/benchmark.py`` (flags in
:mod:`.cli`, which also says what is measured and how). One module per piece:

* :mod:`.config`: the models, ours' CPU recipe, the sizes of each mode, the CSV columns;
* :mod:`.fairseq_setup`: both models through fairseq's parser, task and ``Trainer``;
* :mod:`.timing`: the timed, interleaved training and beam-search loops;
* :mod:`.flops`: FLOPs counted per training step, and the measured ``torch.mm`` peak;
* :mod:`.memory`: the resident-set-size sampler;
* :mod:`.cpu`: the CPU measurements (fp32, bf16, recipe pieces, generation, scaling);
* :mod:`.allocator`: the fp32 measurement again with glibc keeping freed memory;
* :mod:`.cuda`: training on one GPU per precision (``--device cuda``);
* :mod:`.profiling`: torch.profiler tables (``--profile``).

The tables (``results/benchmark.{md,csv}``, ``benchmark_gpu.{md,csv}``) are written by
:mod:`.report`.
"""
