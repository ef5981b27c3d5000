"""The paper's model analysis (section 3.7-3.8) for our models.

* Figure 2: 2-D PCA of the sentence vectors (the encoder's final (h, c) of every layer)
  of phrases that differ in word order and voice  (:mod:`.sentence_vectors`, :mod:`.pca`,
  :mod:`.phrases`);
* Figure 3: BLEU by source sentence length and by average word-frequency rank
  (:mod:`.buckets`);
* Table 3: the longest test sentences with our translation
  (:mod:`.table3`);
* ``analysis.md`` tying them together with the measured numbers
  (:mod:`.report`).

Command line: ``python -m sutskever_plugin.analysis --work work/small --out results``
(``scripts/analyze.sh`` wraps it).
"""
