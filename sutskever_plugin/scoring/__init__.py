"""Scores: from what fairseq's command-line tools print to the numbers in the tables
(:mod:`.bleu` is the project's one BLEU scorer)."""
