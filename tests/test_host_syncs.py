"""No host-device synchronisation in the training forward beyond the one it needs.

On a GPU, reading a value of a device tensor on the host (``.item()``, ``bool(t)``,
``int(t)``, ``.tolist()``, ``.cpu()``, ``nonzero()``, ``equal()``) waits for every queued
kernel. Without a GPU (``torch.cuda.set_sync_debug_mode`` needs one), this test tracks
which tensors would live on the host in a GPU run (those made by ``.cpu()`` and whatever
is computed from them alone, or created without a device) and records every such read
of any other tensor made by the plugin's or fairseq's code during the model's training
forward, with its file and line. torch's own modules are left out: nn.LSTM reads the
packed sequence's ``batch_sizes``, a CPU tensor by design.

The one read left is the copy of the source lengths to the host in the encoder:
pack_padded_sequence takes its lengths on the CPU, and the split of the batch into a
fused head and a packed tail needs the shortest and longest lengths as ints.
"""
import os
import sys
import weakref

import pytest
import torch
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_leaves
from torch.utils._python_dispatch import TorchDispatchMode

import sutskever_plugin.models.sutskever_lstm as lstm_module
from test_model import build, padded

TORCH_DIR = os.path.dirname(torch.__file__)
HERE = os.path.abspath(__file__)
SYNC_METHODS = {"__bool__", "__int__", "__float__", "__index__", "item", "tolist", "numpy",
                "nonzero", "equal", "cpu"}


def _name(func):
    return getattr(func, "__name__", str(func))


def _to_cpu(func, args, kwargs):
    if _name(func) == "cpu":
        return True
    if _name(func) == "to":
        target = [a for a in list(args[1:]) + list(kwargs.values()) if isinstance(a, (str, torch.device))]
        return any(torch.device(t).type == "cpu" for t in target)
    return False


def _caller():
    """file:line of the first frame outside torch and this test."""
    f = sys._getframe(2)
    while f is not None:
        path = os.path.abspath(f.f_code.co_filename)
        if not path.startswith(TORCH_DIR) and path != HERE:
            return f"{os.path.basename(path)}:{f.f_lineno}", path
        if path.startswith(TORCH_DIR) and "/nn/" in path:
            return None, path  # inside torch's own modules (nn.LSTM, pack_padded_sequence)
        f = f.f_back
    return None, None


class SyncRecorder(TorchFunctionMode):
    def __init__(self):
        super().__init__()
        self.host = {}  # id -> weak reference (tensors compare by value, not identity)
        self.syncs = []

    def _is_host(self, t):
        ref = self.host.get(id(t))
        return ref is not None and ref() is t

    def _mark_host(self, t):
        self.host[id(t)] = weakref.ref(t)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        inputs = [t for t in tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)]
        name = _name(func)
        if inputs and not self._is_host(inputs[0]) and (name in SYNC_METHODS or _to_cpu(func, args, kwargs)):
            where, _ = _caller()
            if where is not None:
                self.syncs.append((name, where))
        out = func(*args, **kwargs)
        if _to_cpu(func, args, kwargs):
            host = True
        elif inputs:
            host = all(self._is_host(t) for t in inputs)
        else:
            host = "device" not in kwargs  # a factory without a device makes CPU tensors
        if host:
            for t in tree_leaves(out):
                if isinstance(t, torch.Tensor):
                    self._mark_host(t)
        return out


class HiddenReads(TorchDispatchMode):
    """Reads that bypass Python methods (a tensor used as a size, ...): aten's scalar read."""

    def __init__(self, recorder):
        super().__init__()
        self.recorder, self.count = recorder, 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is torch.ops.aten._local_scalar_dense.default and not self.recorder._is_host(args[0]):
            where, _ = _caller()
            if where is not None:
                self.count += 1
        return func(*args, **(kwargs or {}))


def training_forward_syncs(model, src, tgt_in):
    rec = SyncRecorder()
    with rec, HiddenReads(rec) as hidden:
        out, _ = model(src, src.ne(model.encoder.padding_idx).sum(1), tgt_in)
        out.sum().backward()
    return rec.syncs, hidden.count


def batch(kind, pad):
    seqs = {"left padded, unsorted": ([[12, 2], [5, 6, 7, 8, 9, 2], [10, 11, 2]], True),
            "right padded, sorted": ([[5, 6, 7, 8, 9, 2], [10, 11, 2], [12, 2]], False),
            "no padding": ([[5, 6, 7, 2], [8, 9, 10, 2]], True)}[kind]
    return padded(seqs[0], pad, left=seqs[1])


@pytest.mark.parametrize("kind", ["left padded, unsorted", "right padded, sorted", "no padding"])
def test_training_forward_reads_only_the_source_lengths_on_the_host(kind, monkeypatch):
    # the GPU path: the fused softmax (fused_dtype) is a CPU-only path and returns None on CUDA
    monkeypatch.setattr(lstm_module, "fused_dtype", lambda x, training: None)
    torch.manual_seed(0)
    model = build().train()
    src = batch(kind, model.encoder.padding_idx)
    tgt_in = torch.tensor([[2, 5, 6], [2, 7, 8], [2, 9, 10]])[: src.size(0)]
    syncs, hidden = training_forward_syncs(model, src, tgt_in)
    line = next(i for i, text in enumerate(open(lstm_module.__file__), 1) if "lengths_host = lengths.cpu()" in text)
    assert syncs == [("cpu", f"sutskever_lstm.py:{line}")], syncs
    assert hidden == 0


def test_the_recorder_sees_the_reads_it_is_meant_to_catch():
    # it can fail: fairseq's convert_padding_direction (which the encoder used before)
    # asks the device twice whether and where there is padding
    from fairseq import utils
    src = padded([[5, 6, 2], [7, 2]], 1, left=True)
    rec = SyncRecorder()
    with rec:
        utils.convert_padding_direction(src, 1, left_to_right=True)
        src.max().item()
        lengths_host = src.ne(1).sum(1).cpu()
        int(lengths_host.max())  # a host tensor: not a synchronisation
    names = [n for n, _ in rec.syncs]
    assert names == ["__bool__", "__bool__", "item", "cpu"], rec.syncs
