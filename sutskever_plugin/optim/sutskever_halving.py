"""The paper's learning-rate schedule (section 3.4).

"We used stochastic gradient descent without momentum, with a fixed learning rate of
0.7. After 5 epochs, we begun halving the learning rate every half epoch. We trained
our models for a total of 7.5 epochs."

Epochs are counted in updates: --updates-per-epoch, or learned when the first epoch ends,
and saved with the scheduler state so that a resumed run halves at the same update. Not
in the paper: ``--warmup-updates N`` raises the lr linearly over the first N updates, as
fairseq's ``fixed`` scheduler does, for Adam at small scale (results/tuning_small/).
"""
from dataclasses import dataclass, field
from typing import List

from omegaconf import II

from fairseq.dataclass import FairseqDataclass
from fairseq.optim.lr_scheduler import FairseqLRScheduler, register_lr_scheduler

from ..errors import ConfigError


@dataclass
class SutskeverHalvingConfig(FairseqDataclass):
    halve_after_epochs: float = field(
        default=5.0, metadata={"help": "keep the lr fixed for this many epochs (paper: 5)"}
    )
    halve_every_epochs: float = field(
        default=0.5, metadata={"help": "then multiply it by --halve-factor every this many epochs (paper: 0.5)"}
    )
    halve_factor: float = field(default=0.5, metadata={"help": "paper: 0.5 (halving)"})
    warmup_updates: int = field(
        default=0, metadata={"help": "raise the lr linearly over this many first updates, as "
                             "fairseq's fixed scheduler (not in the paper; 0 = none)"}
    )
    updates_per_epoch: int = field(
        default=0, metadata={"help": "updates in one epoch; 0 = learn it when epoch 1 ends"}
    )
    lr: List[float] = II("optimization.lr")


def lr_at_update(num_updates, lr, updates_per_epoch, after, every, factor=0.5, warmup=0):
    """The learning rate in force after ``num_updates`` updates."""
    if warmup and num_updates < warmup:
        # the (num_updates + 1)-th update takes that many warmup-ths of the lr
        lr = lr * (num_updates + 1) / warmup
    if not updates_per_epoch:
        return lr
    start = round(after * updates_per_epoch)
    if num_updates < start:
        return lr
    period = max(1, round(every * updates_per_epoch))
    halvings = (num_updates - start) // period + 1
    return lr * factor ** halvings


@register_lr_scheduler("sutskever_halving", dataclass=SutskeverHalvingConfig)
class SutskeverHalvingSchedule(FairseqLRScheduler):
    def __init__(self, cfg: SutskeverHalvingConfig, optimizer):
        super().__init__(cfg, optimizer)
        if len(cfg.lr) > 1:
            raise ConfigError("--lr-scheduler sutskever_halving takes a single --lr value")
        if cfg.halve_after_epochs < 1 and cfg.updates_per_epoch <= 0:
            raise ConfigError(
                "--halve-after-epochs below 1 needs --updates-per-epoch: the epoch length "
                "is only learned when the first epoch ends"
            )
        if cfg.halve_every_epochs <= 0:
            raise ConfigError("--halve-every-epochs must be positive")
        if cfg.warmup_updates < 0:
            raise ConfigError(f"--warmup-updates must be 0 or more (got {cfg.warmup_updates})")
        self.lr = cfg.lr[0]
        self.updates_per_epoch = cfg.updates_per_epoch
        self._last_num_updates = 0
        self.optimizer.set_lr(self._lr_at(0))

    def state_dict(self):
        return {"best": self.best, "updates_per_epoch": self.updates_per_epoch}

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        if not self.cfg.updates_per_epoch:
            self.updates_per_epoch = state_dict.get("updates_per_epoch", 0)

    def step_begin_epoch(self, epoch):
        # Epochs have a fixed number of updates, so when epoch k > 1 begins every
        # update so far belongs to the k - 1 finished epochs.
        if not self.updates_per_epoch and epoch > 1 and self._last_num_updates > 0:
            self.updates_per_epoch = self._last_num_updates // (epoch - 1)
        return self.optimizer.get_lr()

    def step(self, epoch, val_loss=None):
        super().step(epoch, val_loss)
        return self.optimizer.get_lr()

    def step_update(self, num_updates):
        self._last_num_updates = num_updates
        lr = self._lr_at(num_updates)
        self.optimizer.set_lr(lr)
        return lr

    def _lr_at(self, num_updates):
        return lr_at_update(
            num_updates, self.lr, self.updates_per_epoch, self.cfg.halve_after_epochs,
            self.cfg.halve_every_epochs, self.cfg.halve_factor, self.cfg.warmup_updates,
        )
