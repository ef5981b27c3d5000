"""fairseq-train in this process, with hooks around its Trainer's steps: how the recipe
tuning (scripts/tune_small.py) logs the CPU seconds of every epoch and validation."""
import sys


def _wrap(original, hook):
    return lambda *args, **kwargs: hook(original, *args, **kwargs)


def run_fairseq_train(fairseq_args, train_step=None, begin_epoch=None, validate=None):
    """``fairseq-train FAIRSEQ_ARGS`` (no program name) in this process. Each hook given is
    called as ``hook(original, *args, **kwargs)`` in place of ``Trainer.train_step``,
    ``Trainer.begin_epoch`` or fairseq_cli.train's ``validate``; all three and sys.argv are
    restored afterwards, also when the training raises."""
    import fairseq_cli.train as fs_train
    from fairseq.trainer import Trainer

    saved = Trainer.train_step, Trainer.begin_epoch, fs_train.validate, sys.argv
    try:
        if train_step:
            Trainer.train_step = _wrap(saved[0], train_step)
        if begin_epoch:
            Trainer.begin_epoch = _wrap(saved[1], begin_epoch)
        if validate:
            fs_train.validate = _wrap(saved[2], validate)
        sys.argv = ["fairseq-train", *fairseq_args]
        fs_train.cli_main()
    finally:
        Trainer.train_step, Trainer.begin_epoch, fs_train.validate, sys.argv = saved
