"""A small phrase-based statistical MT system standing in for the paper's baseline.

Sutskever et al. rescored the 1000-best lists of Schwenk's phrase-based (Moses) system
(Table 2). Those lists were distributed for WMT'14 only; for the small-scale reproduction
on Multi30k we build the same kind of system from its classic pieces
(``python -m sutskever_plugin.smt.build``), which writes Moses-format n-best lists.
"""
