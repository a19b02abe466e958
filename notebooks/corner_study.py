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
# :::{admonition} Findings of this run
# :class: tip
# For $d = 2$ the median max corner loss goes from {glue:text}`d2_first:.2f` at $N = 1$ to
# {glue:text}`d2_last:.3f` at $N =$ {glue:text}`n_last`; the $N$ from which it stays at or below
# {glue:text}`threshold` ($N^*$ of the median curves): {glue:text}`n_star_medians`. Verdicts: {glue:text}`verdicts`.
#
# ```{glue:md} findings_table
# :format: myst
# ```
# :::
#
# ```{glue:figure} corner_loss
# :name: corner-loss
# :alt: Curves of the max corner loss falling with the number of points, later for larger d, on linear and log axes.
#
# The max corner loss (the largest over the $2^d$ corners $c$ of $(f(c) - c)^2$, averaged over the coordinates)
# against the number $N$ of training points, one curve per dimension $d$ (the median over seeds, the band between
# the quartiles), on a linear scale as in the authors' plot (left) and a log scale
# (right); the dashed line is the threshold {glue:text}`cfg_threshold` for "about 0".
# ```
#
# **The setting (paper profile).** For every $d \in \{1, 2, 4, 8, 16\}$ and
# $N \in \{1, 2, 4, \dots, 2048\}$: MLPs $\mathbb{R}^d \to \mathbb{R}^d$ with `depth = 6` hidden layers of
# $H = 50$ ReLU units and a Sigmoid output; this is the authors' "7 layers" network, which counts Linear
# layers (our depth counts hidden layers, see {doc}`the introduction </book/intro>`). Adam, learning rate
# $10^{-3}$, full batch, the loss of Eq. 1. Each seed draws its **own** $N$ training points and its own
# initialisation, so the spread over seeds covers both.
#
# **Two deviations.** The authors train for 10,000 epochs; the paper profile trains for **1,000**, so that
# the whole grid (60 settings × 10 seeds, 600 networks) runs in about ten minutes on two CPU cores; 10,000
# epochs would take about ten times longer. The training loss each setting reaches is reported below,
# and `epochs = 10000` restores the authors' value. And the authors' code trains on mini-batches of
# `min(1000, N)` points, so for $N = 1024$ and $2048$ an epoch is two or three Adam steps on random batches of
# 1000; here every epoch is one full-batch step, which gives the largest $N$ fewer, exact-gradient steps. The code is
# folded (each cell's toggle shows it); `kaleido_lib/chapters/corner_study.py` holds its settings, its claims as
# declared and what only this chapter uses.

# %%
import kaleido_lib as kl
from kaleido_lib.chapters import corner_study as here

_before = set(globals())

# %% tags=["parameters"]
profile = "paper"  # "ci" (CPU seconds) or "paper" (the paper's settings)
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
num_threads = None  # CPU threads for training (1 is robust when the cores are shared; None: torch's default)
out_dir = None  # where results/ and figures/ go (None: the book folder)

# %%
ch = kl.book.chapter.start(here.CHAPTER, here.TITLE, globals(), here.Settings, before=_before)
cfg = ch.cfg
dev = kl.utils.get_device(cfg.device)
seeds = kl.book.config.seeds(cfg)
print(here.settings(cfg, dev, seeds))

# %% [markdown]
# ## Training every setting
#
# One batched training per $(d, N)$ trains the {glue:text}`cfg_n_seeds` networks of that setting at once,
# member $i$ on its own points (an $(E, N, d)$ tensor); each member is the network a lone training run from
# its seed gives, and keeps the weights with the lowest training loss seen. After training we record, per seed: the max corner loss of the net, the training
# loss reached, the max corner loss of the map that sends every input to its *nearest training point* (a pure
# "memorise and snap to the data" map), and, over the corners, the median of the share of its distance to
# the data that a corner keeps through the net, $\operatorname{dist}(f(c), X) / \operatorname{dist}(c, X)$:
# $1$ for the identity, $0$ for a net that maps the corner onto its data.

# %%
grid = here.train_grid(cfg, seeds, dev)

# %% [markdown]
# ## The max corner loss against the number of points
#
# {numref}`corner-loss` shows one curve per $d$.

# %%
ch.show(here.corner_loss_figure(grid, cfg), "corner_loss")
print("median max corner loss over seeds:")
print(here.table(grid.corner, cfg.ns, cfg.dims, ".3f"))

# %% [markdown]
# ## Is the corner loss measured on trained nets?
#
# An untrained net reconstructs nothing, so a high corner loss means something only if the training
# points themselves are reconstructed. Per setting: the training loss reached (median over seeds, and
# {numref}`corner-training`), the share of seeds reaching {glue:text}`cfg_fit_loss`, and how much the loss still fell over the
# second half of training (a factor well above 1 means that more epochs, up to the authors' 10,000, would fit
# the data better, and would likely lower the corner loss too).

# %%
trained = grid.train_loss <= cfg.fit_loss
print(here.training_tables(grid, trained, cfg))
ch.show(here.training_loss_figure(grid, cfg), "training_loss")
ch.glue("epochs", cfg.epochs)

# %% [markdown]
# ```{glue:figure} training_loss
# :name: corner-training
# :alt: Training loss reached against the number of points, one curve per dimension, on a log axis.
#
# The training loss each setting reached after {glue:text}`epochs` epochs (the best over epochs; median and
# quartiles over seeds); the dashed line is {glue:text}`cfg_fit_loss`.
# ```
#
# ## What the net does at the corners
#
# {numref}`corner-nearest`, a row per $d$, left: the net's max corner loss (solid) against that of the
# nearest-training-point map (dashed). Right: the share of its distance to the data that a corner keeps through
# the net, $\operatorname{dist}(f(c), X) / \operatorname{dist}(c, X)$, median over corners: $1$ for the identity,
# $0$ for a net that maps the corner onto its data. (For $d = 1$ and large $N$ a training point lies within a hair
# of each corner, so this ratio divides by almost nothing and is noisy.)

# %%
ch.show(here.corners_figure(grid, cfg), "corners_vs_nearest_point")

# %% [markdown]
# ```{glue:figure} corners_vs_nearest_point
# :name: corner-nearest
# :alt: Per dimension, the net's corner loss beside the nearest-point map's, and the share of distance kept.
#
# A row per $d$. Left: the net's max corner loss (solid) and the nearest-training-point map's (dashed). Right: the
# median share of a corner's distance to the data that the net keeps, $\operatorname{dist}(f(c), X) /
# \operatorname{dist}(c, X)$.
# ```
#
# ## The number of points needed
#
# For one curve, $N^*$ is the smallest $N$ of the grid from which on the max corner loss stays at or below
# a threshold (infinite, "not reached", when the grid never gets there). We use two thresholds:
# {glue:text}`cfg_threshold` ("about 0", the authors' claim for $d = 2$) and {glue:text}`cfg_coarse_threshold`
# ("mostly reconstructed", a level every $d$ but the largest reaches on the grid). We compute $N^*$ for the median
# curve of each $d$ and for every seed's own curve; seed $s$ of one $d$ is compared with seed $s$ of
# another (same label, each with its own data and initialisation).

# %%
nd = here.needed_both(grid, cfg)
print(here.needed_report(grid, nd, cfg))
for name, value in here.findings(grid, nd, cfg).items():
    ch.glue(name, value)

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

# %%
# NBVAL_CHECK_OUTPUT
# Key numbers against the stored ci reference (kaleido_lib.book.check); tolerances from the spread measured under
# thread counts, vector kernels, MKL paths and oneDNN off (tests/reference/spread.json). N* is not checked: it
# is where the checked median curve crosses 0.01, and at d = 2 that curve ends at 0.008, close to the cut-off.
ci_check = kl.book.check.Checker(here.CHAPTER, cfg)
for i, d in enumerate(cfg.dims):
    ci_check.close(
        f"d={d}: nets trained",
        int(trained[i].sum()),
        atol=1,
        why="a count of nets under a loss cut-off: one may cross it on another CPU (none did when measured)",
    )
    ci_check.exact(f"d={d}: nets in the grid", trained[i].numel())
    ci_check.close(
        f"d={d}: median max corner loss per N",
        grid.corner[i].nanmedian(dim=0).values,
        atol=0.01,
        rtol=0.05,
        why="largest measured spread 0.0019 at 0.14 (1.3 %) and 0.0007 at 0.020 (3.5 %), vector kernels",
    )
ci_check.report()

# %% [markdown]
# ## Verdicts
#
# Claims (i) and (ii) are the authors' plot; (iii) is this book's own finding for larger $d$. Each is judged per seed:
# a claim *holds* when at least 90 % of the seeds meet it and a sign test says more do than a coin would. Each also
# carries its verdict under alternative definitions, fixed in the code before this run (added after the first paper
# run): for (i) the threshold halved and doubled and the seeds whose $d = 2$ nets fit; for (ii) $N^*$ at twice the
# threshold and at the coarse threshold {glue:text}`cfg_coarse_threshold`, and a tie counted as slower; for (iii) the coarse threshold halved and doubled,
# and the largest $d$ against $d = 2$ alone. Verdicts of this run: {glue:text}`verdicts`.

# %%
claims = here.claims(ch, grid, nd.n_star, nd.n_star_median, nd.n_coarse, nd.n_coarse_median, trained)
ch.glue_verdicts(claims)
ch.finish(claims, origins={})

# %% [markdown]
# ```{glue:md} verdicts_table
# :format: myst
# ```
