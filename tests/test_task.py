"""translation_reversed: the source is read backwards, EOS stays last, target untouched."""
import torch

from fairseq import options, tasks

import sutskever_plugin  # noqa: F401
from sutskever_plugin.tasks.translation_reversed import reverse_source


def test_reverse_source_keeps_eos_last():
    assert reverse_source(torch.tensor([4, 5, 6, 2]), eos=2).tolist() == [6, 5, 4, 2]
    assert reverse_source(torch.tensor([4, 5, 6]), eos=2).tolist() == [6, 5, 4]
    assert reverse_source(torch.tensor([2]), eos=2).tolist() == [2]


def setup(task_name, data):
    parser = options.get_generation_parser()
    args = options.parse_args_and_arch(
        parser, [str(data), "--task", task_name, "--source-lang", "en", "--target-lang", "fr"])
    return tasks.setup_task(args)


def test_every_split_is_reversed_with_padding(multi30k_bin):
    fwd = setup("translation", multi30k_bin / "bin")
    rev = setup("translation_reversed", multi30k_bin / "bin")
    for split in ("train", "valid", "test"):
        fwd.load_dataset(split)
        rev.load_dataset(split)
        df, dr = fwd.dataset(split), rev.dataset(split)
        for i in (0, 7, len(df) - 1):
            src = df[i]["source"]
            assert dr[i]["source"].tolist() == src[:-1].flip(0).tolist() + [src[-1].item()]
            assert src[-1].item() == fwd.source_dictionary.eos()
            assert dr[i]["target"].tolist() == df[i]["target"].tolist()
    # a collated (left-padded) batch: each row is the reversed sentence, padding untouched
    idx = [0, 1, 2, 3]
    bf = df.collater([df[i] for i in idx])
    br = dr.collater([dr[i] for i in idx])
    pad = fwd.source_dictionary.pad()
    assert torch.equal(bf["id"], br["id"])
    for row_f, row_r in zip(bf["net_input"]["src_tokens"], br["net_input"]["src_tokens"]):
        tok_f, tok_r = row_f[row_f.ne(pad)], row_r[row_r.ne(pad)]
        assert tok_r.tolist() == tok_f[:-1].flip(0).tolist() + [tok_f[-1].item()]
        assert row_r.eq(pad).sum() == row_f.eq(pad).sum()
    assert torch.equal(bf["target"], br["target"])


def test_inference_input_is_reversed(multi30k_bin):
    rev = setup("translation_reversed", multi30k_bin / "bin")
    d = rev.source_dictionary
    tokens = [d.encode_line("a man is walking", add_if_not_exist=False).long()]
    ds = rev.build_dataset_for_inference(tokens, [t.numel() for t in tokens])
    got = d.string(ds[0]["source"])
    assert got == "walking is man a"
