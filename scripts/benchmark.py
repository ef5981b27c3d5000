#!/usr/bin/env python
"""Speed of ``sutskever_lstm`` against fairseq's built-in ``lstm`` (sutskever_plugin/benchmark/cli.py):
full run 6-10 min on 2 busy cores, ``--quick`` < 60 s; ``--help`` lists every flag."""
import logging
import sys
import warnings
from pathlib import Path

# Run as a file, Python puts scripts/ first on sys.path, not the repository: import this
# checkout's plugin, not another one installed in the environment.
REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

# Before fairseq is imported (importing the plugin imports it): its import-time warnings
# and INFO lines would interleave with the benchmark's own report lines.
warnings.filterwarnings("ignore", category=UserWarning)  # hydra / omegaconf deprecations
warnings.filterwarnings("ignore", category=FutureWarning)  # torch.cuda.amp in fairseq
logging.basicConfig(level=logging.WARNING)
logging.getLogger("fairseq").setLevel(logging.ERROR)  # and every fairseq.* logger below it

from sutskever_plugin.benchmark.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
