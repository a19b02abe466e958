# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The corner study: how many points until the net reconstructs the whole cube?
#
# **The claim.** This study comes from the authors' code; the versions of the paper we have do not
# describe it (it may belong to one of the figures we could not recover). Train an MLP to
# reconstruct $N$ points drawn uniformly from the cube $[0,1]^d$ and ask how well it reconstructs the
# inputs farthest from the data's bulk, the $2^d$ corners $c$ of the cube. The measure is the **maximum
# corner loss**
#
# $$\max_{c \in \{0,1\}^d} \; \frac{1}{d} \sum_{j=1}^{d} \bigl(f(c)_j - c_j\bigr)^2 .$$
#
# The authors' plot for $d = 2$ falls from about $0.5$ at $N = 1$ to about $0$ for $N \ge 128$, and more
# slowly for $d = 4$. A net trained on one point maps every input close to that point (the
# over-generalization of {doc}`Figure 2 </book/fig02_single_point_1d>`), so the far corners are
# reconstructed badly; with more points it must reproduce more of the cube. The code says nothing about
# larger $d$: here we also measure $d = 8$ and $d = 16$, where the cube has 256 and 65,536 corners.
#
# **The setting (paper profile).** For every $d \in \{1, 2, 4, 8, 16\}$ and
# $N \in \{1, 2, 4, \dots, 2048\}$: MLPs $\mathbb{R}^d \to \mathbb{R}^d$ with `depth = 6` hidden layers of
# $H = 50$ ReLU units and a Sigmoid output; this is the authors' "7 layers" network, which counts Linear
# layers (our `depth` counts hidden layers, see {doc}`the introduction </book/intro>`). Adam, learning rate
# $10^{-3}$, full batch, the loss of Eq. 1. Each seed draws its **own** $N$ training points and its own
# initialisation, so the spread over seeds covers both.
#
# **One deviation.** The authors train for 10,000 epochs; the paper profile trains for **1,000**, so that
# the whole grid (60 settings × 10 seeds, 600 networks) runs in about ten minutes on two CPU cores; 10,000
# epochs would take about ten times longer. The training loss each setting reaches is reported below,
# and `epochs = 10000` restores the authors' value.

# %%
import math
import time

import matplotlib.pyplot as plt
import torch
from tqdm import tqdm

import kaleido_lib as kl
from kaleido_lib.ensemble import train_ensemble

CHAPTER = "corner_study"
PAPER = dict(
    seed=0, n_seeds=10, device="auto", depth=6, width=50, out_act="sigmoid", epochs=1000, lr=1e-3,
    ns=[2**k for k in range(12)], dims=[1, 2, 4, 8, 16], threshold=0.01, coarse_threshold=0.1,
    high_start=0.25, n_claim=128,
    fit_loss=1e-4, num_threads=None, out_dir=None,
)
PROFILES = {  # the ci profile differs from the paper profile only in these values
    "paper": PAPER,
    "ci": dict(
        PAPER,
        n_seeds=3, device="cpu", epochs=300, ns=[1, 8, 128], dims=[1, 2, 4], num_threads=1,
    ),
}
_t0 = time.perf_counter()
_before = set(globals())

# %% tags=["parameters"]
profile = "paper"  # "ci" (CPU seconds) or "paper" (the authors' settings, fewer epochs)
seed = None  # first seed; seeds are seed, seed+1, ..., seed+n_seeds-1 (each draws its own points)
n_seeds = None  # independently drawn data sets and initialisations per setting
device = None  # "auto" (CUDA when available), "cpu" or "cuda"
depth = None  # hidden layers; the authors' "7 layers" network has 6
width = None  # hidden units per layer; the authors: 50
out_act = None  # output bound: "sigmoid" (0, 1), "tanh" (-1, 1) or "none"
epochs = None  # full-batch Adam steps; the authors: 10000 (the paper profile: 1000)
lr = None  # Adam learning rate; the authors: 1e-3
ns = None  # numbers N of training points, increasing; the authors: 1, 2, 4, ..., 2048
dims = None  # dimensions d of the cube, increasing, at most 20; the authors: 1, 2, 4, 8, 16
threshold = None  # a max corner loss at most this counts as 'about 0'
coarse_threshold = None  # a max corner loss at most this counts as 'mostly reconstructed'
high_start = None  # a max corner loss at N 1 of at least this counts as 'about 0.5'
n_claim = None  # the claim for d 2: about 0 for every N from this one on; the authors' plot: 128
fit_loss = None  # a net counts as trained when its training loss is at most this
num_threads = None  # CPU threads for training (1 is robust when other work shares the cores; None: torch's default)
out_dir = None  # where results/ and figures/ go (None: the book folder)

# %%
cfg = kl.config.resolve(
    globals(), PROFILES, before=_before,
    extra={
        "ns": kl.config.int_list(1), "dims": kl.config.int_list(1),
        "threshold": kl.config.number(0.0, strict=True), "coarse_threshold": kl.config.number(0.0, strict=True),
        "high_start": kl.config.number(0.0, strict=True),
        "n_claim": kl.config.integer(1), "fit_loss": kl.config.number(0.0, strict=True),
        "num_threads": kl.config.integer(1, optional=True),
    },
)
if cfg.ns[0] != 1 or cfg.ns[-1] < cfg.n_claim:
    raise ValueError(f"parameter 'ns': allowed a list starting at 1 and reaching n_claim ({cfg.n_claim}); "
                     f"got {cfg.ns}")
if not {2, 4} <= set(cfg.dims) or cfg.dims[-1] > 20:
    raise ValueError(f"parameter 'dims': allowed a list holding 2 and 4 (the claims compare them), "
                     f"each at most 20; got {cfg.dims}")
dev = kl.utils.get_device(cfg.device)
seeds = kl.config.seeds(cfg)
print(f"profile={cfg.profile}  device={dev}  seeds={seeds[0]}..{seeds[-1]}  depth={cfg.depth} "
      f"width={cfg.width} out_act={cfg.out_act}  epochs={cfg.epochs}  ns={cfg.ns}  dims={cfg.dims}")

# %% [markdown]
# ## Training every setting
#
# One call of `kaleido_lib.ensemble.train_ensemble` per $(d, N)$ trains the `n_seeds` networks of that
# setting at once, member $i$ on its own points (an $(E, N, d)$ tensor); each member is the network a
# lone `train_manifold` run from its seed gives, and keeps the weights with the lowest training loss
# seen. After training we record, per seed: the max corner loss of the net, the training loss reached,
# the max corner loss of the map that sends every input to its *nearest training point* (a pure
# "memorise and snap to the data" map), and, over the corners, the median of the share of its distance to
# the data that a corner keeps through the net, $\operatorname{dist}(f(c), X) / \operatorname{dist}(c, X)$:
# $1$ for the identity, $0$ for a net that maps the corner onto its data.

# %%
shape = (len(cfg.dims), cfg.n_seeds, len(cfg.ns))
corner = torch.full(shape, math.nan, dtype=torch.float64)
train_loss, snap, kept, late_gain = corner.clone(), corner.clone(), corner.clone(), corner.clone()
settings = [(i, d, j, n) for i, d in enumerate(cfg.dims) for j, n in enumerate(cfg.ns)]
for i, d, j, n in tqdm(settings, desc="settings (d, N)"):
    X = kl.measures.uniform_cube_sets(seeds, n, d)
    res = train_ensemble(X, seeds, depth=cfg.depth, width=cfg.width, out_act=cfg.out_act,
                         epochs=cfg.epochs, lr=cfg.lr, device=cfg.device, num_threads=cfg.num_threads)
    f = lambda x: res.forward(x.to(dev)).cpu()  # noqa: E731 - all members at once, (n, d) -> (E, n, d)
    corner[i, :, j] = kl.measures.max_corner_loss(f, d).double()
    train_loss[i, :, j] = res.best_loss.cpu()
    first_half = res.losses[:, : max(1, cfg.epochs // 2)].double().nan_to_num(math.inf).amin(dim=1).cpu()
    late_gain[i, :, j] = first_half.clamp_min(cfg.fit_loss) / res.best_loss.cpu().double().clamp_min(cfg.fit_loss)
    snap[i, :, j] = kl.measures.nearest_point_corner_loss(X).double()
    kept[i, :, j] = kl.measures.distance_kept(f, kl.measures.cube_corners(d), X).double().median(dim=-1).values

# %% [markdown]
# ## The max corner loss against the number of points
#
# One curve per $d$: the median over seeds, the band between the quartiles. Left on a linear scale as in
# the authors' plot, right on a log scale to show how close to $0$ the curves get.

# %%
curves = {f"d = {d}": corner[i] for i, d in enumerate(cfg.dims)}
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
for ax, logy in zip(axes, (False, True)):
    kl.plots.log2_curves(ax, cfg.ns, curves, ylabel="max corner loss", threshold=cfg.threshold, logy=logy)
axes[0].set_title("max over the $2^d$ corners of $(f(c) - c)^2$, averaged over coordinates")
axes[1].set_title("the same, log scale")
axes[0].legend(fontsize=8)
kl.plots.savefig(fig, CHAPTER, "corner_loss", cfg.out_dir)
plt.show()

# %%
def table(values: torch.Tensor, fmt: str, mean: bool = False) -> None:
    """Print the median (or the mean) over seeds per (d, N), a row per d."""
    print("   d \\ N " + "".join(f"{n:>9}" for n in cfg.ns))
    for i, d in enumerate(cfg.dims):
        row = values[i].nanmean(dim=0) if mean else values[i].nanmedian(dim=0).values
        print(f"{d:>8} " + "".join(f"{float(v):>9{fmt}}" for v in row))


print("median max corner loss over seeds:")
table(corner, ".3f")

# %% [markdown]
# ## Is the corner loss measured on trained nets?
#
# An untrained net reconstructs nothing, so a high corner loss means something only if the training
# points themselves are reconstructed. Per setting: the training loss reached (median over seeds), the
# share of seeds reaching `fit_loss`, and how much the loss still fell over the second half of training
# (a factor well above 1 means that more epochs, up to the authors' 10,000, would fit the data better,
# and would likely lower the corner loss too).

# %%
print("median training loss reached:")
table(train_loss, ".1e")
trained = train_loss <= cfg.fit_loss
print(f"\nshare of seeds with training loss at most {cfg.fit_loss:g}:")
table(trained.double(), ".1f", mean=True)
print(f"\nmedian factor by which the best training loss fell over the second half of the epochs "
      f"(losses below {cfg.fit_loss:g} count as {cfg.fit_loss:g}):")
table(late_gain, ".1f")

# %%
fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
kl.plots.log2_curves(ax, cfg.ns, {f"d = {d}": train_loss[i].clamp_min(1e-16) for i, d in enumerate(cfg.dims)},
                     ylabel="training loss reached (best over epochs)", threshold=cfg.fit_loss,
                     threshold_label="fit_loss", logy=True)
ax.set_title(f"Training loss after {cfg.epochs} epochs")
ax.legend(fontsize=8)
kl.plots.savefig(fig, CHAPTER, "training_loss", cfg.out_dir)
plt.show()

# %% [markdown]
# ## What the net does at the corners
#
# Per $d$, top: the net's max corner loss (solid) against that of the nearest-training-point map
# (dashed). Bottom: the share of its distance to the data that a corner keeps through the net,
# $\operatorname{dist}(f(c), X) / \operatorname{dist}(c, X)$, median over corners: $1$ for the identity,
# $0$ for a net that maps the corner onto its data. (For $d = 1$ and large $N$ a training point lies
# within a hair of each corner, so this ratio divides by almost nothing and is noisy.)

# %%
fig, axes = plt.subplots(2, len(cfg.dims), figsize=(3.2 * len(cfg.dims), 6), layout="constrained",
                         squeeze=False)
for i, d in enumerate(cfg.dims):
    kl.plots.log2_curves(axes[0, i], cfg.ns, {"net": corner[i], "nearest point": snap[i]},
                         ylabel="max corner loss" if i == 0 else "", threshold=cfg.threshold,
                         styles={"nearest point": dict(ls="--", color="0.4")})
    axes[0, i].set_title(f"d = {d} ({2**d} corners)")
    kl.plots.log2_curves(axes[1, i], cfg.ns, {"net": kept[i]},
                         ylabel="distance to the data kept, dist(f(c), X) / dist(c, X)" if i == 0 else "")
    axes[1, i].set_ylim(bottom=0)
axes[0, 0].legend(fontsize=7)
kl.plots.savefig(fig, CHAPTER, "corners_vs_nearest_point", cfg.out_dir)
plt.show()

# %% [markdown]
# ## The number of points needed
#
# For one curve, $N^*$ is the smallest $N$ of the grid from which on the max corner loss stays at or below
# a threshold (infinite, "not reached", when the grid never gets there). We use two thresholds:
# `threshold` ("about 0", the authors' claim for $d = 2$) and `coarse_threshold` ("mostly
# reconstructed", a level every $d$ but the largest reaches on the grid). We compute $N^*$ for the median
# curve of each $d$ and for every seed's own curve; seed $s$ of one $d$ is compared with seed $s$ of
# another (same label, each with its own data and initialisation).

# %%
def needed(level: float) -> tuple[torch.Tensor, dict[int, float]]:
    """N* per (d, seed) and N* of each d's median curve, for one threshold."""
    per_seed = torch.tensor([[kl.measures.n_needed(cfg.ns, corner[i, k], level) for k in range(cfg.n_seeds)]
                             for i in range(len(cfg.dims))], dtype=torch.float64)  # inf = not reached
    median = {d: kl.measures.n_needed(cfg.ns, corner[i].nanmedian(dim=0).values, level)
              for i, d in enumerate(cfg.dims)}
    return per_seed, median


n_star, n_star_median = needed(cfg.threshold)
n_coarse, n_coarse_median = needed(cfg.coarse_threshold)
show = lambda v: "not reached" if math.isinf(v) else f"{v:g}"  # noqa: E731
for level, per_seed, median in ((cfg.threshold, n_star, n_star_median),
                                (cfg.coarse_threshold, n_coarse, n_coarse_median)):
    print(f"N* for the max corner loss to stay at most {level:g}:")
    for i, d in enumerate(cfg.dims):
        print(f"  d = {d:>2}: median curve {show(median[d]):>11};  per seed: {[show(float(v)) for v in per_seed[i]]}")
last = len(cfg.ns) - 1
print(f"\nat the largest N = {cfg.ns[-1]}, median over seeds:")
for i, d in enumerate(cfg.dims):
    print(f"  d = {d:>2} ({2**d:>5} corners): max corner loss {float(corner[i, :, last].median()):.3f} "
          f"(nearest-point map {float(snap[i, :, last].median()):.3f}), distance to the data kept "
          f"{float(kept[i, :, last].median()):.2f}, training loss {float(train_loss[i, :, last].median()):.1e}")

# %% [markdown]
# **Reading the figures (paper profile).** Until $N$ is large enough, the max corner loss stays near its
# $N = 1$ level, and the corners keep only a small share of their distance to the data: the net maps the
# far corners close to its training points, the over-generalization of the paper, seen here far from the
# data. The loss falls once the data reach out far enough towards the corners, and the $N$ this takes
# grows steeply with $d$: there are $2^d$ corners, and $N$ uniform points leave them ever farther from the
# data as $d$ grows (the dashed nearest-point curves). For $d = 8$ and $16$ the net does worse than even
# the nearest-point map over a range of $N$: it moves a corner farther than the distance to its closest
# training point, inwards, towards the bulk of the data, without landing on a training point (see the
# share of the distance to the data the corners keep, printed above). At $d = 16$, with 2,048 points for
# 65,536 corners, the max corner loss is still far from $0$ at the end of the grid. Note that there, and
# for $d \ge 4$ at large $N$, the nets have not finished fitting their own points in 1,000 epochs (the
# training-loss tables), so the authors' 10,000 epochs would change these numbers, most likely lowering
# them; for the same reason the $d = 4$ curve levels off close to $0.01$, so that its $N^*$ at that
# threshold lies at the end of the grid or beyond it ("not reached").

# %% [markdown]
# The numbers the tests pin down (rounded so they repeat from run to run on a CPU):

# %%
# NBVAL_CHECK_OUTPUT
# Key numbers against the stored ci reference (kaleido_lib.check); tolerances from the spread measured under
# thread counts, vector kernels, MKL paths and oneDNN off (tests/reference/spread.json). N* is not checked: it
# is where the checked median curve crosses 0.01, and at d = 2 that curve ends at 0.008, close to the cut-off.
ci_check = kl.check.Checker(CHAPTER, cfg)
for i, d in enumerate(cfg.dims):
    ci_check.close(f"d={d}: nets trained", int(trained[i].sum()), atol=1,
                   why="a count of nets under a loss cut-off: one may cross it on another CPU (none did when measured)")
    ci_check.exact(f"d={d}: nets in the grid", trained[i].numel())
    ci_check.close(f"d={d}: median max corner loss per N", corner[i].nanmedian(dim=0).values, atol=0.01, rtol=0.05,
                   why="largest measured spread 0.0019 at 0.14 (1.3 %) and 0.0007 at 0.020 (3.5 %), vector kernels")
ci_check.report()

# %% [markdown]
# ## Verdicts
#
# Claims (i) and (ii) are the authors' plot; (iii) is this book's own finding for larger $d$. Each is
# judged per seed: a claim *holds* when at least 90 % of the seeds meet it.

# %%
verdict = kl.results.verdict_from_share
i2, i4 = cfg.dims.index(2), cfg.dims.index(4)
late = torch.tensor([n >= cfg.n_claim for n in cfg.ns])
pass_i = (corner[i2, :, 0] >= cfg.high_start) & (corner[i2][:, late].amax(dim=1) <= cfg.threshold)
pass_ii = (n_star[i4] > n_star[i2]) & torch.isfinite(n_star[i2])
from_2 = [i for i, d in enumerate(cfg.dims) if d >= 2]
pass_iii = torch.stack([(n_coarse[b] > n_coarse[a]) & torch.isfinite(n_coarse[a])
                        for a, b in zip(from_2, from_2[1:])]).all(dim=0)
fit_share = lambda i: f"{float(trained[i].double().mean()):.0%}"  # noqa: E731
finite = lambda v: torch.where(torch.isinf(v), math.nan, v)  # noqa: E731 - 'not reached' counts as NaN
stars = lambda med: ", ".join(f"d={d}: {show(med[d])}" for d in cfg.dims)  # noqa: E731
top = from_2[-1]
claims = [
    kl.results.Claim(
        id="d2_falls_to_zero",
        claim=f"For d = 2 the max corner loss falls from about 0.5 at N = 1 to about 0 for every N >= {cfg.n_claim}",
        paper="(the authors' code, corner study plot) d = 2: about 0.5 at N = 1, about 0 from N = 128 on",
        measure=f"d = 2, max corner loss at N >= {cfg.n_claim} (worst N of the grid), per seed",
        measured=kl.results.spread(corner[i2][:, late].amax(dim=1)),
        criterion=f"at N = 1 >= {cfg.high_start:g} and at every N >= {cfg.n_claim} <= {cfg.threshold:g}",
        share_pass=float(pass_i.double().mean()), verdict=verdict(float(pass_i.double().mean())),
        notes=f"d = 2 at N = 1: {kl.results.spread(corner[i2, :, 0]).text()}. {cfg.epochs} epochs (the authors: "
              f"10000); {fit_share(i2)} of the d = 2 nets reach a training loss <= {cfg.fit_loss:g}.",
        extra={"ns": cfg.ns, "median_curve_d2": corner[i2].nanmedian(dim=0).values}),
    kl.results.Claim(
        id="d4_slower_than_d2",
        claim="The max corner loss falls more slowly for d = 4 than for d = 2",
        paper="(the authors' code, corner study plot) d = 4 falls more slowly than d = 2",
        measure=f"N* for d = 4: smallest N from which the loss stays <= {cfg.threshold:g} (NaN = not reached)",
        measured=kl.results.spread(finite(n_star[i4])),
        criterion="per seed, N* for d = 4 > N* for d = 2, the latter reached",
        share_pass=float(pass_ii.double().mean()), verdict=verdict(float(pass_ii.double().mean())),
        notes=f"N* of the median curves: {stars(n_star_median)}. {cfg.epochs} epochs (the authors: 10000); "
              f"training loss <= {cfg.fit_loss:g} reached by {fit_share(i2)} of the d = 2 and {fit_share(i4)} "
              f"of the d = 4 nets.",
        extra={"n_star_per_seed": {str(d): [show(float(v)) for v in n_star[i]] for i, d in enumerate(cfg.dims)}}),
    kl.results.Claim(
        id="more_points_needed_as_d_grows",
        claim=f"(this book's finding) The N needed for a max corner loss <= {cfg.coarse_threshold:g} grows with d, "
              f"from d = 2 to d = {cfg.dims[top]}",
        paper="(not in the paper; the authors' code lists d = 8 and 16, but what is known of its results covers "
              "d = 2 and 4 only)",
        measure=f"max corner loss at N = {cfg.ns[-1]}, d = {cfg.dims[top]}",
        measured=kl.results.spread(corner[top, :, last]),
        criterion=f"per seed, N* at {cfg.coarse_threshold:g} strictly larger for each d than for the one before "
                  f"(d >= 2; 'not reached' is larger than any N, but two 'not reached' in a row fail)",
        share_pass=float(pass_iii.double().mean()), verdict=verdict(float(pass_iii.double().mean())),
        notes=f"N* at {cfg.coarse_threshold:g} of the median curves: {stars(n_coarse_median)}; grid up to "
              f"N = {cfg.ns[-1]}. Training loss at N = {cfg.ns[-1]}, d = {cfg.dims[top]}: "
              f"{kl.results.spread(train_loss[top, :, last]).text()} after {cfg.epochs} epochs.",
        extra={"n_star_coarse_per_seed": {str(d): [show(float(v)) for v in n_coarse[i]]
                                          for i, d in enumerate(cfg.dims)}}),
]
for c in claims:
    print(kl.results.claim_line(c))

# %%
runtime = time.perf_counter() - _t0
path = kl.results.write_results(
    CHAPTER, "The corner study: how many points until the net reconstructs the whole cube?", claims,
    profile=cfg.profile, parameters=vars(cfg), runtime_s=round(runtime, 1), out=cfg.out_dir)
print(f"results written to {path.name}; this chapter ran in {runtime:.0f} s (profile {cfg.profile}, device {dev})")
