"""A/B of the global attention layout: the NCHW version at commit b271ca2 against the pixel-major one,
each with the network in NCHW and in channels_last, alternating with DMPHN 1-2-4 at 512x512 (2 threads).

    git show b271ca2:deblur_cli/model/global_attention.py > /tmp/old_ga.py
    python benchmarks/ab_attention_layout.py /tmp/old_ga.py
"""

import importlib.util
import statistics
import sys
import time

import torch

sys.path.insert(0, "benchmarks")
import deblur_cli.model.global_attention as ga
from deblur_cli.model import create_model
from deblur_cli.model.dmphn import DMPHN124

torch.set_num_threads(2)
spec = importlib.util.spec_from_file_location("deblur_cli.model.old_ga", sys.argv[1])
old = importlib.util.module_from_spec(spec)
spec.loader.exec_module(old)
new_fwd, old_fwd = ga.GlobalAttention.forward, old.GlobalAttention.forward
x = torch.rand(1, 3, 512, 512)
xcl = x.contiguous(memory_format=torch.channels_last)
d = DMPHN124().eval()
s = create_model("saphnet-s").eval()
scl = create_model("saphnet-s").eval().to(memory_format=torch.channels_last)
scl.load_state_dict(s.state_dict())


def with_fwd(f, fn):
    def run():
        ga.GlobalAttention.forward = f
        return fn()

    return run


runs = {
    "dmphn": lambda: d(x),
    "s_old_nchw": with_fwd(old_fwd, lambda: s(x)),
    "s_new_nchw": with_fwd(new_fwd, lambda: s(x)),
    "s_old_cl": with_fwd(old_fwd, lambda: scl(xcl)),
    "s_new_cl": with_fwd(new_fwd, lambda: scl(xcl)),
}
with torch.inference_mode():
    for f in runs.values():
        f()
    t = {k: [] for k in runs}
    for _ in range(3):
        for k, f in runs.items():
            a = time.perf_counter()
            f()
            t[k].append(time.perf_counter() - a)
m = {k: statistics.median(v) for k, v in t.items()}
print({k: (round(v, 3), round(v / m["dmphn"], 2)) for k, v in m.items()})
