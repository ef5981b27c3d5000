"""N-best rescoring with LSTM scores (the paper's Table 2, section 3.6).

* :mod:`.lstm_scorer`  log p(hypothesis | source) under a fairseq model or ensemble, with
                       fairseq's own loading, task dataset, batching and SequenceScorer
* :mod:`.token_scores` one model's token log-probabilities of the lists, saved once;
                       an ensemble combined from its members' files as fairseq combines it
* :mod:`.combine`      the paper's even average of baseline and LSTM scores, or a weight
                       tuned on dev; re-ranking (CLI: re-combine a rescored list)
* :mod:`.oracle`       the sentence-BLEU-best hypothesis of each list (CLI)
* :mod:`.rescore`      the command line: ``python -m sutskever_plugin.rescoring.rescore``

The n-best lists are read and written by :mod:`sutskever_plugin.data.nbest` (the SMT
baseline writes them). Table 2 itself is written by :mod:`sutskever_plugin.reporting.table2`; every BLEU,
and the BLEU statistics that tuning uses, come from :mod:`sutskever_plugin.scoring`.
"""
