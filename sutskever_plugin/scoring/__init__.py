"""Scores: from what fairseq's command-line tools print to the numbers in the tables.

* :mod:`.bleu`            the project's one BLEU scorer (the paper's cased BLEU on
                          Moses-tokenized text, detokenized sacreBLEU beside it), sentence
                          and subset BLEU, and the summary every score JSON holds
* :mod:`.bleu_stats`      BLEU's sufficient statistics, for tuning weights over n-best
                          lists (SMT baseline, rescoring) at numpy speed
* :mod:`.fairseq_output`  reading fairseq-generate's hypotheses and fairseq-validate's loss
* :mod:`.score`           CLI: BLEU of one fairseq-generate output
                          (``python -m sutskever_plugin.scoring.score``)
* :mod:`.perplexity`      CLI: test perplexity from a fairseq-validate log
                          (``python -m sutskever_plugin.scoring.perplexity``)
"""
