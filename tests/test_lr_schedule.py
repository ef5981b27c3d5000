"""The paper's schedule: lr 0.7 for 5 epochs, then halved every half epoch."""
import pytest
import torch

from fairseq.optim.sgd import SGD

import sutskever_plugin  # noqa: F401
from sutskever_plugin.optim.sutskever_halving import (
    SutskeverHalvingConfig, SutskeverHalvingSchedule, lr_at_update,
)
from sutskever_plugin.job import updates_for_epochs

UPE = 10  # updates per epoch in this simulation


def make(**kw):
    params = [torch.nn.Parameter(torch.zeros(1))]
    opt = SGD(type("C", (), {"lr": [0.7], "momentum": 0.0, "weight_decay": 0.0})(), params)
    cfg = SutskeverHalvingConfig(lr=[0.7], **kw)
    sched = SutskeverHalvingSchedule(cfg, opt)
    sched.step_update(0)  # as fairseq's Trainer does right after building it
    return sched, opt


def run_epochs(sched, opt, first_epoch, last_epoch, start_update, seen):
    """Replays the calls fairseq's trainer makes; records the lr used by each update."""
    n = start_update
    for epoch in range(first_epoch, last_epoch + 1):
        sched.step_begin_epoch(epoch)
        sched.step_update(n)
        for _ in range(UPE):
            seen[n + 1] = opt.get_lr()  # the lr the (n+1)-th update is made with
            n += 1
            sched.step_update(n)
        sched.step(epoch, val_loss=1.0)
        sched.step_update(n)
    return n


def test_paper_schedule_at_chosen_updates():
    sched, opt = make()
    seen = {}
    run_epochs(sched, opt, 1, 8, 0, seen)
    assert sched.updates_per_epoch == UPE  # learned when epoch 1 ended
    # updates 1..50 are the first 5 epochs at 0.7
    assert {seen[u] for u in range(1, 51)} == {0.7}
    assert seen[51] == pytest.approx(0.35)      # "after 5 epochs we begun halving"
    assert seen[55] == pytest.approx(0.35)
    assert seen[56] == pytest.approx(0.175)     # every half epoch
    assert seen[61] == pytest.approx(0.0875)
    assert seen[75] == pytest.approx(0.7 / 32)  # 7.5 epochs: 5 halvings in all


def test_state_survives_a_restart():
    sched, opt = make()
    seen = {}
    n = run_epochs(sched, opt, 1, 5, 0, seen)
    state = sched.state_dict()
    # a new process: scheduler rebuilt, state loaded, updates restored (Trainer order)
    sched2, opt2 = make()
    sched2.load_state_dict(state)
    sched2.step_update(n)
    seen2 = {}
    run_epochs(sched2, opt2, 6, 8, n, seen2)
    uninterrupted = {}
    sched3, opt3 = make()
    run_epochs(sched3, opt3, 1, 8, 0, uninterrupted)
    assert seen2 == {u: uninterrupted[u] for u in seen2}


def test_warmup_is_fairseqs_fixed_schedulers_then_the_paper_schedule():
    # the small-scale recipe's lr is fixed within its epochs: with --warmup-updates it must
    # be made with the very lrs of fairseq's fixed scheduler and the same flag
    from fairseq.optim.lr_scheduler.fixed_schedule import FixedLRSchedule, FixedLRScheduleConfig
    sched, opt = make(warmup_updates=15, halve_after_epochs=5)
    params = [torch.nn.Parameter(torch.zeros(1))]
    fopt = SGD(type("C", (), {"lr": [0.7], "momentum": 0.0, "weight_decay": 0.0})(), params)
    fixed = FixedLRSchedule(FixedLRScheduleConfig(lr=[0.7], warmup_updates=15), fopt)
    fixed.step_update(0)
    ours, theirs = {}, {}
    run_epochs(sched, opt, 1, 8, 0, ours)
    run_epochs(fixed, fopt, 1, 5, 0, theirs)
    assert ours[1] == pytest.approx(0.7 / 15) and ours[15] == pytest.approx(0.7)
    assert [ours[u] for u in range(1, 51)] == pytest.approx([theirs[u] for u in range(1, 51)])
    # then the paper's halving, at the same updates as without warm-up
    plain, popt = make(halve_after_epochs=5)
    unwarmed = {}
    run_epochs(plain, popt, 1, 8, 0, unwarmed)
    assert {u: ours[u] for u in range(16, 81)} == {u: unwarmed[u] for u in range(16, 81)}
    assert ours[51] == pytest.approx(0.35)


def test_a_restart_within_the_warmup_continues_it():
    sched, opt = make(warmup_updates=25)
    seen = {}
    n = run_epochs(sched, opt, 1, 1, 0, seen)  # 10 updates: still warming up
    sched2, opt2 = make(warmup_updates=25)
    sched2.load_state_dict(sched.state_dict())
    sched2.step_update(n)
    resumed, uninterrupted = {}, {}
    run_epochs(sched2, opt2, 2, 4, n, resumed)
    sched3, opt3 = make(warmup_updates=25)
    run_epochs(sched3, opt3, 1, 4, 0, uninterrupted)
    assert resumed == {u: uninterrupted[u] for u in resumed}
    assert resumed[11] == pytest.approx(0.7 * 11 / 25)


def test_helpers():
    assert lr_at_update(49, 0.7, 10, 5, 0.5) == 0.7
    assert lr_at_update(50, 0.7, 10, 5, 0.5) == pytest.approx(0.35)
    assert lr_at_update(100, 0.7, 0, 5, 0.5) == 0.7  # epoch length not known yet
    # 12M sentences in batches of 128 for 7.5 epochs: the paper's ~700k updates
    assert updates_for_epochs(12_000_000, 128, 7.5) == 703_125
    assert updates_for_epochs(29_000, 128, 7.5) == 1703


def test_bad_flags():
    with pytest.raises(ValueError, match="--updates-per-epoch"):
        make(halve_after_epochs=0.5)
    with pytest.raises(ValueError, match="positive"):
        make(halve_every_epochs=0)
    with pytest.raises(ValueError, match="--warmup-updates must be 0 or more"):
        make(warmup_updates=-1)
