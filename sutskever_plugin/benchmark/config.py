"""What the benchmark measures: the two models, ours' CPU recipe, the sizes of each mode,
the paper's training set, and the CSV's columns."""
import shlex
from pathlib import Path

MODELS = ("sutskever_lstm", "builtin_lstm")
# On CPU ours trains as the plugin's paper recipe does (reproduce_table1.sh): the paper's
# SGD from the plugin, which takes sparse embedding gradients, and cross-entropy computed
# inside the output softmax (the same updates). The built-in keeps fairseq's sgd and
# cross_entropy. Ours is also measured with each piece back to fairseq's (AB_KINDS). Not on
# a GPU: fairseq's --fp16 cannot take sparse gradients, and the fused loss is CPU-only.
SPARSE_GRADS = ("--optimizer", "sutskever_sgd", "--sparse-embedding-grads")
FUSED_LOSS = ("--criterion", "sutskever_cross_entropy")
CPU_RECIPE = SPARSE_GRADS + FUSED_LOSS
AB_KINDS = {"train_dense_embed": FUSED_LOSS, "train_stock_loss": SPARSE_GRADS}


def small_recipe(path=Path(__file__).resolve().parents[2] / "scripts" / "recipe_small.sh"):
    """The SMALL_* settings of scripts/recipe_small.sh (the small recipe's one home): plain
    ``NAME=VALUE`` assignments, which shell quoting rules (shlex) read as bash does."""
    words = shlex.split(path.read_text(), comments=True)
    return dict(w.split("=", 1) for w in words if w.startswith("SMALL_") and "=" in w)


# The small-scale main job's recipe (scripts/recipe_small.sh), ours with each piece that
# speeds it up and does not change its updates back to what it was, against the built-in
# with fairseq's adam and label-smoothed loss: at Multi30k's vocabularies (the dictionaries
# `data.prepare --dataset multi30k --scale small` writes: en 6232 / fr 6568), batches of
# the recipe's sentences of their mean length (13 words), in fp32 and in bf16 autocast.
# Four trainers take turns step by step, 12 rounds: a step is ~0.5 s, and one busy moment
# of the shared machine moves a 4-step sum by 10-20% (seen in a first run).
_SMALL = small_recipe()
MAIN_JOB = {
    "full": dict(layers=int(_SMALL["SMALL_LAYERS"]), hidden=int(_SMALL["SMALL_HIDDEN"]),
                 embed=int(_SMALL["SMALL_EMBED"]), dropout=float(_SMALL["SMALL_DROPOUT"]),
                 src_vocab=6232, tgt_vocab=6568, batch=int(_SMALL["SMALL_BATCH"]), length=13,
                 rounds=12, steps=1),
    "quick": dict(layers=2, hidden=64, embed=32, dropout=float(_SMALL["SMALL_DROPOUT"]),
                  src_vocab=1_000, tgt_vocab=1_000, batch=32, length=10, rounds=2, steps=1),
}
MAIN_JOB_FLAGS = ("--optimizer", "adam", "--lr", _SMALL["SMALL_LR"],  # both models
                  "--adam-betas", _SMALL["SMALL_ADAM_BETAS"],
                  "--criterion", "label_smoothed_cross_entropy",
                  "--label-smoothing", _SMALL["SMALL_LABEL_SMOOTHING"])
# ours: the same updates, stepped by torch's fused Adam, the loss inside the output softmax
FUSED_SMOOTHED_LOSS = ("--criterion", "sutskever_label_smoothed_cross_entropy")
MAIN_JOB_RECIPE = ("--optimizer", "fused_adam", *FUSED_SMOOTHED_LOSS)
# kind -> (ours' recipe flags, torch's own dropout instead of models/fast_dropout.py)
MAIN_JOB_AB = {"main_fairseq_adam": (FUSED_SMOOTHED_LOSS, False),
               "main_torch_dropout": (MAIN_JOB_RECIPE, True)}

SIZES = {
    "full": {
        "small": dict(layers=4, hidden=256, src_vocab=10_000, tgt_vocab=10_000,
                      batch=128, length=20, gen_batch=32, rounds=4, steps=1),
        "medium": dict(layers=4, hidden=500, src_vocab=30_000, tgt_vocab=20_000,
                       batch=128, length=20, gen_batch=32, rounds=3, steps=1),
        # the paper's model: 4 x 1000, 160k / 80k words. Batch 64 instead of the paper's 128
        # and one timed step after one warm-up step per model: a step is ~10 CPU-seconds
        # here, and the matrices are large enough that words/s barely depend on the batch.
        "paper": dict(layers=4, hidden=1000, src_vocab=160_000, tgt_vocab=80_000,
                      batch=64, length=20, gen_batch=8, rounds=1, steps=1, gen_reps=1),
    },
    "quick": {
        "tiny": dict(layers=2, hidden=64, src_vocab=1_000, tgt_vocab=1_000,
                     batch=32, length=10, gen_batch=8, rounds=2, steps=1, gen_reps=1),
        "small-q": dict(layers=4, hidden=128, src_vocab=2_000, tgt_vocab=2_000,
                        batch=32, length=10, gen_batch=8, rounds=2, steps=1, gen_reps=1),
    },
}


def paper_epochs_days(src_tgt_words_per_s):
    """Days the paper's 7.5 epochs (section 3.4) over its 348M French + 304M English words
    (section 3.2) would take at this speed."""
    return 7.5 * (348e6 + 304e6) / src_tgt_words_per_s / 86400

# One CUDA GPU (issue 7, item 3): the paper's batch of 128 sentences, and sentences as long
# as WMT'14's on average ((348M + 304M) words / 12M pairs / 2 sides = 27 words).
GPU_SIZES = {
    "medium": dict(layers=4, hidden=500, src_vocab=30_000, tgt_vocab=20_000,
                   batch=128, length=27, rounds=3, steps=5),
    "paper": dict(layers=4, hidden=1000, src_vocab=160_000, tgt_vocab=80_000,
                  batch=128, length=27, rounds=3, steps=5),
}
# fairseq's own flags per precision on CUDA (its --bf16 means TPU in this fairseq), and
# ours with sparse embedding gradients (fairseq's lstm has no such flag; --fp16 / --amp
# cannot take sparse gradients): on an H200 the same update, no faster step (results/gpu/).
GPU_PRECISIONS = {"fp32": (), "fp16": ("--fp16",), "amp": ("--amp",), "fp32_sparse": SPARSE_GRADS}

# how time grows: measured at the first size of the mode
SCALING = {
    "full": dict(lengths=(10, 20, 40, 80), batches=(16, 32, 64, 128, 256), beams=(1, 2, 4, 8, 12, 24),
                 len_batch=64, batch_length=20, beam_batch=16, beam_length=20),
    "quick": dict(lengths=(5, 10), batches=(8, 16), beams=(1, 4),
                  len_batch=16, batch_length=8, beam_batch=4, beam_length=8),
}

CSV_FIELDS = ["kind", "size", "model", "precision", "layers", "hidden", "src_vocab", "tgt_vocab",
              "batch", "src_len", "tgt_len", "beam", "allocator", "steps", "wall_s", "cpu_s",
              "words_per_s", "words_per_cpu_s", "src_tgt_words_per_s", "src_tgt_words_per_cpu_s",
              "sents_per_s", "sents_per_cpu_s", "ms_per_step",
              "cpu_ms_per_step", "gflop_per_step", "gflop_per_s", "gflop_per_cpu_s", "mfu_wall",
              "mfu_cpu", "mfu_wall_local", "mfu_cpu_local", "mm_gflop_per_s", "mm_gflop_per_cpu_s",
              "peak_rss_mb", "rss_delta_mb",
              "peak_gpu_mb", "device_name", "paper_epochs_days",
              "load1", "sparse_dense_max_abs_diff", "update_max_abs"]
