"""The simulated CUDA device raises where real CUDA would and computes what the CPU computes (run in a subprocess:
it changes torch for the whole process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]  # tests/, where simulated_cuda.py lives

SCRIPT = r"""
import sys
sys.path.insert(0, sys.argv[1])
import simulated_cuda as sim
sim.install()
import numpy as np
import torch
from kaleido_lib import measures, models, sampling, train

def raises(fn, kind):
    try:
        fn()
    except kind:
        return True
    return False

x = torch.rand(6, 3).to("cuda")
cpu = torch.rand(6, 3)
print("mix", raises(lambda: x + cpu, sim.DeviceMixError))
print("scalar", float((x * torch.tensor(2.0)).sum()) > 0)  # a 0-dim CPU tensor may join, as on CUDA
print("generator", raises(lambda: torch.randn(3, device="cuda", generator=torch.Generator()), sim.DeviceMixError))
print("fill", raises(lambda: x.normal_(generator=torch.Generator()), sim.DeviceMixError))
print("numpy", raises(lambda: np.asarray(x), TypeError))
print("setitem", raises(lambda: x.__setitem__(0, cpu[0]), sim.DeviceMixError))
print("cpu copy", type(x.cpu()).__name__, torch.equal(x.cpu(), x.cpu()))
g = torch.Generator().manual_seed(0)
torch.manual_seed(0)
a = models.make_mlp(3, 2, 8, "sigmoid")
torch.manual_seed(0)
b = models.make_mlp(3, 2, 8, "sigmoid").to("cuda")
X = torch.rand(40, 3, generator=g) * 0.8 + 0.1
za = sampling.iterate(a, X, 40, eps=0.01, generator=torch.Generator().manual_seed(2))
zb = sampling.iterate(b, X.to("cuda"), 40, eps=0.01, generator=torch.Generator().manual_seed(2))
print("same sampling", all(torch.equal(p, q.cpu()) for p, q in zip(za, zb)))
# Adam's fused kernel runs on the CPU only here (the simulated device takes the foreach one): close, not equal
ra = train.train_steps(a, X, steps=150, lr=1e-2, batch_size=8, generator=torch.Generator().manual_seed(1))
rb = train.train_steps(b, X.to("cuda"), steps=150, lr=1e-2, batch_size=8, generator=torch.Generator().manual_seed(1))
print("same training", bool(torch.allclose(ra.losses, rb.losses, rtol=1e-4, atol=1e-6)), len(rb.losses) == 150)
grid = torch.linspace(0, 1, 11).reshape(-1, 1)
print("flat interval", measures.flat_interval_1d(grid.to("cuda"), torch.zeros(11).to("cuda"), 0.5) == (0.0, 1.0))
sys.stdout.flush()
import os
os._exit(0)  # the process leaves without tearing the simulation down
"""


def test_the_simulated_device_raises_where_cuda_would_and_computes_as_the_cpu():
    root = HERE.parent
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(HERE)],
        capture_output=True,
        text=True,
        cwd=root,
        env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "KALEIDO_ROOT": str(root)},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in proc.stdout.strip().splitlines())
    assert lines == {
        "mix": "True",
        "scalar": "True",
        "generator": "True",
        "fill": "True",
        "numpy": "True",
        "setitem": "True",
        "cpu": "copy Tensor True",
        "same": lines["same"],
        "flat": "interval True",
    }
    assert "same training True True" in proc.stdout and "same sampling True" in proc.stdout
