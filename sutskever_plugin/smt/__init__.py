"""A small phrase-based statistical MT system standing in for the paper's baseline.

Sutskever et al. rescored the 1000-best lists of Schwenk's phrase-based (Moses) system
(Table 2). Those lists were distributed for WMT'14 only; for the small-scale reproduction on
Multi30k we build the same kind of system from its classic pieces: eflomal word
alignment symmetrized with grow-diag-final-and (:mod:`.align`), phrase extraction with
Moses' four translation features (:mod:`.phrase_table`), a modified Kneser-Ney n-gram
LM (:mod:`.lm`), a stack decoder with distance-based reordering and Moses-style n-best
extraction (:mod:`.decoder`, run in parallel processes by :mod:`.translate`), and
MERT-like weight tuning on valid (:mod:`.tune`). ``python -m sutskever_plugin.smt.build``
runs it all (:mod:`.build`) and writes Moses-format n-best lists.
"""
