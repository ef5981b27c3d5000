"""--sentence-avg --clip-norm 5 is the paper's gradient rule, checked on fairseq's Trainer.

Section 3.4: "we computed s = ||g||_2, where g is the gradient divided by 128 [the
batch size in sentences]. If s > 5, we set g = 5g/s."  One SGD step of fairseq's own
Trainer must move the parameters by exactly -lr * that g.
"""
import pytest
import torch

from fairseq import options, tasks
from fairseq.criterions.cross_entropy import CrossEntropyCriterion
from fairseq.dataclass.utils import convert_namespace_to_omegaconf
from fairseq.trainer import Trainer

from conftest import PLUGIN


# fairseq's SGD and cross-entropy; the plugin's, with the embedding tables' gradients
# sparse and the loss computed inside the output softmax
OPTIMIZERS = {"sgd": ["--optimizer", "sgd"],
              "sutskever_sgd": ["--optimizer", "sutskever_sgd", "--sparse-embedding-grads",
                                "--criterion", "sutskever_cross_entropy"]}


def trainer_for(data, clip, optimizer="sgd"):
    parser = options.get_training_parser()
    args = options.parse_args_and_arch(parser, [
        str(data), "--user-dir", str(PLUGIN), "--task", "translation_reversed",
        "--arch", "sutskever_lstm_tiny", *OPTIMIZERS[optimizer], "--lr", "0.7",
        "--lr-scheduler", "sutskever_halving", "--batch-size", "16", "--sentence-avg",
        "--clip-norm", str(clip), "--cpu", "--seed", "3"])
    cfg = convert_namespace_to_omegaconf(args)
    task = tasks.setup_task(cfg.task)
    task.load_dataset("train")
    model = task.build_model(cfg.model)
    criterion = task.build_criterion(cfg.criterion)
    return Trainer(cfg, task, model, criterion), task, model, criterion


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("clip", [5.0, 0.05])
def test_one_update_is_the_papers_rule(multi30k_bin, clip, optimizer):
    trainer, task, model, criterion = trainer_for(multi30k_bin / "bin", clip, optimizer)
    itr = trainer.get_train_iterator(epoch=1).next_epoch_itr(shuffle=False)
    sample = next(iter(itr))
    before = {n: p.detach().clone() for n, p in model.named_parameters()}

    # the reference: summed token NLL, divided by the number of sentences, clipped at s
    ref = type(model).build_model(trainer.cfg.model, task)
    ref.load_state_dict(model.state_dict())
    ref.train()
    loss, _, _ = CrossEntropyCriterion(task, sentence_avg=True)(ref, sample)  # fairseq's own
    loss.backward()
    nsent = sample["nsentences"]
    sparse = {n for n, p in ref.named_parameters() if p.grad.is_sparse}
    assert sparse == ({"encoder.embed_tokens.weight", "decoder.embed_tokens.weight"}
                      if optimizer == "sutskever_sgd" else set())
    # a sparse gradient lists a row once per occurrence; to_dense sums the repeats
    grads = {n: p.grad.to_dense() / nsent for n, p in ref.named_parameters()}
    s = torch.sqrt(sum((g ** 2).sum() for g in grads.values()))
    scale = min(1.0, clip / s.item())

    trainer.train_step([sample])
    for n, p in model.named_parameters():
        expected = before[n] - 0.7 * scale * grads[n]
        torch.testing.assert_close(p.detach(), expected, atol=1e-6, rtol=1e-4)
    if clip < 1:
        assert s.item() > clip  # the clipping branch really was exercised
    assert type(criterion).__name__ == ("SutskeverCrossEntropyCriterion"
                                        if optimizer == "sutskever_sgd" else "CrossEntropyCriterion")
