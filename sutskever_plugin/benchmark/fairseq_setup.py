"""Both models through fairseq's own parser, task and Trainer, on synthetic batches."""
import io
from contextlib import redirect_stdout
from pathlib import Path

import torch
import torch.nn as nn
from fairseq import options, tasks
from fairseq.data import LanguagePairDataset
from fairseq.dataclass.utils import convert_namespace_to_omegaconf
from fairseq.modules import FairseqDropout
from fairseq.trainer import Trainer

from .config import CPU_RECIPE

PLUGIN = Path(__file__).resolve().parents[1]  # --user-dir


def model_flags(model, size, bf16=False):
    """Layers, sizes and dropout (embeddings as wide as the cells and no dropout unless
    the size says ``embed`` / ``dropout``). ``bf16``: with --autocast-bf16; the built-in
    (which has no such flag) as ``lstm_autocast``: the same model with that flag."""
    L, H = size["layers"], size["hidden"]
    E, p = size.get("embed", H), str(size.get("dropout", 0))
    common = ["--encoder-layers", str(L), "--decoder-layers", str(L),
              "--encoder-embed-dim", str(E), "--decoder-embed-dim", str(E),
              "--encoder-hidden-size", str(H), "--decoder-hidden-size", str(H),
              "--dropout", p]
    if bf16:
        common.append("--autocast-bf16")
    if model == "sutskever_lstm":
        return ["--arch", "sutskever_lstm", *common]
    return ["--arch", "lstm_autocast" if bf16 else "lstm", *common, "--decoder-attention", "0",
            "--decoder-out-embed-dim", str(H), "--encoder-dropout-in", p,
            "--encoder-dropout-out", p, "--decoder-dropout-in", p,
            "--decoder-dropout-out", p]


def make_cfg(datadir, model, size, batch, extra=(), device="cpu", bf16=False):
    parser = options.get_training_parser()
    argv = [str(datadir), "--user-dir", str(PLUGIN), "--task", "translation",
            "-s", "src", "-t", "tgt", *(["--cpu"] if device == "cpu" else []), "--seed", "1",
            "--optimizer", "sgd", "--lr", "0.7", "--criterion", "cross_entropy",
            "--sentence-avg", "--clip-norm", "5", "--batch-size", str(batch),
            "--disable-validation", "--no-save", "--log-format", "none",
            *model_flags(model, size, bf16), *extra]
    with redirect_stdout(io.StringIO()):
        args = options.parse_args_and_arch(parser, argv)
    return convert_namespace_to_omegaconf(args)


class Setup:
    """Task + dictionaries for one vocabulary size; builds models, trainers, batches."""

    def __init__(self, root, size, device="cpu"):
        self.size, self.device = size, device
        self.datadir = Path(root) / f"v{size['src_vocab']}_{size['tgt_vocab']}"
        self.datadir.mkdir(exist_ok=True)
        for lang, n in (("src", size["src_vocab"]), ("tgt", size["tgt_vocab"])):
            with open(self.datadir / f"dict.{lang}.txt", "w") as f:  # and fairseq's 4 specials
                f.writelines(f"w{i} {n - i}\n" for i in range(n - 4))
        cfg = make_cfg(self.datadir, "sutskever_lstm", size, size["batch"])
        self.task = tasks.setup_task(cfg.task)
        self.src_dict, self.tgt_dict = self.task.source_dictionary, self.task.target_dictionary
        assert len(self.src_dict) == size["src_vocab"] and len(self.tgt_dict) == size["tgt_vocab"]

    def trainer(self, model, batch, bf16=False, extra=(), recipe=CPU_RECIPE, torch_dropout=False):
        """A fairseq Trainer for one model. ``recipe``: ours' flags on CPU; ``extra``: more
        flags for both; ``torch_dropout``: ours with torch's dropout (:func:`with_torch_dropout`)."""
        ours = model == "sutskever_lstm"
        extra = (*extra, *(recipe if ours and self.device == "cpu" else ()))
        cfg = make_cfg(self.datadir, model, self.size, batch, extra, self.device, bf16)
        torch.manual_seed(1)
        m = self.task.build_model(cfg.model)
        if torch_dropout:
            with_torch_dropout(m)
        crit = self.task.build_criterion(cfg.criterion)
        return Trainer(cfg, self.task, m, crit)

    def batch(self, bsz, length, gen=None, jitter=2):
        """One fairseq batch of ``bsz`` pairs of similar length (paper: "batches of 128
        sentences of similar length"): words in [length - jitter, length + jitter], + EOS,
        sources left-padded as fairseq does."""
        gen = gen or torch.Generator().manual_seed(bsz * 1000 + length)
        samples = []
        for d, n in ((self.src_dict, len(self.src_dict)), (self.tgt_dict, len(self.tgt_dict))):
            lens = torch.randint(max(1, length - jitter), length + jitter + 1, (bsz,), generator=gen)
            samples.append([torch.cat([torch.randint(d.nspecial, n, (int(k),), generator=gen),
                                       torch.tensor([d.eos()])]) for k in lens])
        src, tgt = samples
        ds = LanguagePairDataset(src, [len(s) for s in src], self.src_dict,
                                 tgt, [len(t) for t in tgt], self.tgt_dict)
        return ds.collater([ds[i] for i in range(bsz)])


def with_torch_dropout(model):
    """Ours as it was before models/fast_dropout.py: fairseq's dropout modules and
    nn.LSTM's own dropout between layers (one mt19937 draw per element)."""
    for part in (model.encoder, model.decoder):
        for name in ("dropout_in_module", "dropout_out_module"):
            if hasattr(part, name):
                setattr(part, name, FairseqDropout(getattr(part, name).p,
                                                   module_name=type(part).__name__))
        # DropoutLSTM is nn.LSTM with another forward and no state of its own
        part.lstm.__class__ = nn.LSTM
    return model
