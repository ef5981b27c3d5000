"""torch.profiler tables of one training step and one beam search per model (``--profile``)."""
import torch

from .config import MODELS
from .fairseq_setup import Setup
from .timing import generator


def profile(root, size_name, size, log):
    from torch.profiler import ProfilerActivity, profile as tprofile
    setup = Setup(root, size)
    sample = setup.batch(size["batch"], size["length"])
    gsample = setup.batch(size["gen_batch"], size["length"], torch.Generator().manual_seed(5))
    for m in MODELS:
        tr = setup.trainer(m, size["batch"])
        tr.train_step([sample])
        with tprofile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
            tr.train_step([sample])
        log(f"===== train step, {m} ({size_name})")
        log(prof.key_averages(group_by_input_shape=True).table(
            sort_by="self_cpu_time_total", row_limit=25, max_name_column_width=34,
            max_shapes_column_width=60))
        gen = generator(tr.model, setup.tgt_dict, 12, size["length"])
        tr.model.eval()
        gen.generate([tr.model], gsample)
        with tprofile(activities=[ProfilerActivity.CPU]) as prof:
            gen.generate([tr.model], gsample)
        log(f"===== generate beam 12, {m} ({size_name})")
        log(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=20,
                                      max_name_column_width=34))
