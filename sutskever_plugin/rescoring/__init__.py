"""N-best rescoring with LSTM scores (the paper's Table 2, section 3.6).

* :mod:`.nbest`        Moses n-best lists: streaming reader (strict, errors name file:line)
                       and writer
* :mod:`.lstm_scorer`  log p(hypothesis | source) under a fairseq model or ensemble, with
                       fairseq's own loading, task dataset, batching and SequenceScorer
* :mod:`.combine`      the paper's even average of baseline and LSTM scores, or a weight
                       tuned on dev; re-ranking (CLI: re-combine a rescored list)
* :mod:`.oracle`       the sentence-BLEU-best hypothesis of each list (CLI)
* :mod:`.rescore`      the command line: ``python -m sutskever_plugin.rescoring.rescore``
* :mod:`.table2`       results/table2.{csv,md} from a reproduce_table2.sh run
* :mod:`.bleu_stats`, :mod:`.report`  BLEU statistics for tuning and the tables' BLEU
                       summaries, both through the project's one scorer
"""
