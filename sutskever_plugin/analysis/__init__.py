"""The paper's model analysis (section 3.7-3.8) for our models: Figures 2 and 3, Table 3
and ``analysis.md`` (``python -m sutskever_plugin.analysis``, run by scripts/analyze.sh)."""
