"""sutskever-seq2seq: Sutskever, Vinyals & Le (2014) as a fairseq user-dir plugin.

fairseq: the official ``fairseq==0.12.2`` release does not import on Python >= 3.11
(dataclass ``mutable default`` error in ``CommonConfig``), and upstream has made no
release since.  ``ve-fairseq==0.12.3`` is a wheel build of upstream main with that one
dataclass fix, published for cp311/cp312; it installs the same ``fairseq`` package.
We therefore pick per interpreter (see docs/install.md, "Why two fairseq distributions").
"""
from setuptools import find_packages, setup

setup(
    name="sutskever-seq2seq",
    version="0.1.0",
    description="Sequence to Sequence Learning with Neural Networks (Sutskever et al., 2014) as a fairseq plugin",
    packages=find_packages(include=["sutskever_plugin", "sutskever_plugin.*"]),
    python_requires=">=3.10,<3.13",
    install_requires=[
        'fairseq==0.12.2; python_version < "3.11"',
        've-fairseq==0.12.3; python_version >= "3.11" and python_version < "3.13"',
        # 2.4: torch.is_autocast_enabled(device_type) and torch.get_autocast_dtype, which
        # the fused softmax calls (models/fused_softmax.py); the model, recipe, task and
        # checkpoint-averaging tests pass on torch 2.4.1; on 2.3.1 CPU training stopped
        # with a TypeError (the plugin now refuses to import there, saying so)
        "torch>=2.4",
        "numpy",
        "sacrebleu>=2.3",
        "sentencepiece",
        "sacremoses",
        "eflomal",  # word alignment for the SMT baseline (Table 2)
        "pandas",
        "tabulate",  # pandas.DataFrame.to_markdown
        "matplotlib",
    ],
    extras_require={"test": [
        "pytest",
        "hypothesis",
        "pytest-timeout",  # pytest.ini's per-test time limit
    ]},
)
