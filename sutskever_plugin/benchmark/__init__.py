"""The speed benchmark: ``sutskever_lstm`` against fairseq's built-in ``lstm``, side by side
(``python scripts/benchmark.py``, :mod:`.cli`; docs/speed.md)."""
