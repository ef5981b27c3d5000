"""N-best rescoring with LSTM scores (the paper's Table 2, section 3.6); the command line
is :mod:`.rescore`, Table 2 itself :mod:`sutskever_plugin.reporting.table2`."""
