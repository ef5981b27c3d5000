"""Data preparation: Multi30k (small scale), WMT'14 (paper scale), user test sets;
command line ``python -m sutskever_plugin.data.prepare --help``.  Nothing here imports
fairseq (binarization runs fairseq-preprocess)."""
