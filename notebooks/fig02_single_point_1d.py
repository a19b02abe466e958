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
# # Figure 2: a single training point in 1D
#
# > "the output values observed of the MLP for the entire range of input values, is close to 0.5 … The model
# > is progressively applied 1 → 3 times and the samples obtained are close to the training input"
# > (the paper, Figure 2)
#
# **The claim.** Train an MLP to reconstruct one point, $x = 0.5$, and it *over-generalizes*: its output
# is close to $0.5$ for **every** input in $(0, 1)$, not only at the training point. The map is
# many-to-one, so iterating it from noise (Kaleidoscopic sampling) lands on the training point within
# a few runs.
#
# :::{admonition} Findings of this run
# :class: tip
# {glue:text}`n_trained` of {glue:text}`n_seeds` networks reached the target loss. Over the whole input range
# the output stays within {glue:text}`max_dev_median:.3f` of the training point (median over networks; an
# identity map would stay within 0.5), and after {glue:text}`n_steps` runs every one of
# {glue:text}`n_samples` noise points lies {glue:text}`dist_end_words`. The slope at the
# point is {glue:text}`slope_median:.2g` (median): {glue:text}`slope_words`. Verdicts:
# {glue:text}`verdicts`.
#
# ```{glue:md} findings_table
# :format: myst
# ```
# :::
#
# ```{glue:figure} figure2
# :name: fig02-main
# :alt: Five panels: the loss is zero only at 0.5; the output is flat near 0.5 over the whole range; red noise points move onto the training point within three runs.
#
# The paper's Figure 2 for the first seed. (a) The loss $(x - f(x))^2$ over the input range, lowest at the
# training point (the dashed black line). (b) The output $f(x)$: flat near $0.5$ everywhere (the dotted line is the identity;
# the inset zooms on the training point). (c)–(e) The {glue:text}`n_plot_samples` noise points (red) and the
# samples (green) after 1, 2 and 3 applications of $f$, drawn on the loss curve.
# ```
#
# **The setting (paper profile).** One point $X = \{0.5\}$; an MLP with $L = 2$ hidden layers of
# $H = 5$ ReLU units and a Sigmoid output (this book's depth setting counts hidden layers, so `depth=2`; see
# {doc}`the introduction </book/intro>`); Adam, learning rate $10^{-3}$, full batch, the loss of Eq. 1,
#
# $$\min_f \frac{1}{M D} \sum_{i=1}^{M} \lVert X_i - f(X_i) \rVert^2 ,$$
#
# trained until the loss is $\le 10^{-8}$ and at least 1000 epochs have run. Sampling follows Eq. 2,
# $x^0 = z,\; x^k = f(x^{k-1})$, from 10 noise points $z \sim \mathcal{N}(0.5, 0.5^2)$ clipped to
# $[0, 1]$, for 3 runs. The paper shows one trained network; here every claim is measured over
# {glue:text}`cfg_n_seeds` independently initialised networks, and failed trainings are counted, not dropped. The code
# is folded: each cell's toggle shows it, and `kaleido_lib/chapters/fig02_single_point_1d.py` holds its
# settings, its claims as declared and what only this chapter uses.

# %%
import torch

import kaleido_lib as kl
from kaleido_lib import stats
from kaleido_lib.chapters import fig02_single_point_1d as here

_before = set(globals())

# %% tags=["parameters"]
profile = "paper"  # "ci" (CPU seconds) or "paper" (the paper's settings)
seed = None  # first seed; seeds are seed, seed+1, ..., seed+n_seeds-1
n_seeds = None  # independently initialised networks per claim
device = None  # device: "auto" (CUDA when available), "cpu" or "cuda"
points = None  # training points; the paper: [0.5]
depth = None  # hidden layers (the paper's L); the paper: 2
width = None  # hidden units per layer (the paper's H); the paper: 5
out_act = None  # output bound: "sigmoid" (0, 1), "tanh" (-1, 1) or "none"
epochs = None  # at most this many epochs (full batch: one Adam step each)
min_epochs = None  # at least this many epochs; the paper: 1000
target_loss = None  # stop once the training loss is at most this (after min_epochs); the paper: 1e-8
lr = None  # Adam learning rate
batch_size = None  # None: full batch
n_samples = None  # noise points used to measure the sampling claim
n_plot_samples = None  # noise points drawn in panels (c)-(e); the paper: 10
n_steps = None  # sampling runs (applications of f); the paper: 3
eps = None  # noise re-injected at each sampling run (0: plain Eq. 2, as in the paper's synthetic runs)
noise = None  # start noise: "normal" or "uniform"
eps_noise = None  # kind of re-injected noise (see kaleido_lib.sampling)
tol = None  # a sample counts as 'at the training point' within this distance
tol_output = None  # output counts as close when max over x of |f(x) - x_train| is at most this
grid_size = None  # inputs on [low, high] for panels (a) and (b)
out_dir = None  # where results/ and figures/ go (None: the book folder)

# %%
ch = kl.book.chapter.start(here.CHAPTER, here.TITLE, globals(), here.Settings, before=_before)
cfg = ch.cfg
dev = kl.utils.get_device(cfg.device)
X = torch.tensor(cfg.points, device=dev)
seeds = kl.book.config.seeds(cfg)
print(here.settings(cfg, dev, seeds))

# %% [markdown]
# ## Manifold learning over seeds
#
# Each seed initialises a fresh network and trains it (`kaleido_lib/train.py`), keeping the weights with the
# lowest training loss seen. {numref}`fig02-loss` shows every seed's loss.

# %%
runs = here.train_seeds(cfg, X, seeds, dev)
for name, value in here.training_numbers(runs, seeds).items():
    ch.glue(name, value)
ch.show(here.training_figure(runs, cfg.target_loss), "training_loss")

# %% [markdown]
# ```{glue:figure} training_loss
# :name: fig02-loss
# :alt: Training loss against epochs on a log scale, one line per seed, falling to the dotted target line.
#
# Training loss of each of the {glue:text}`n_seeds` networks (epochs run: {glue:text}`epochs_run`); the
# dotted line is the target $10^{-8}$.
# ```
#
# ## The paper's panels, for the first seed
#
# {numref}`fig02-main` (at the top of the page) redraws the paper's five panels from the first seed's network.

# %%
grid, spacing = here.input_grid(cfg, dev)
traj_plot = here.plot_samples(runs[0].model.eval(), cfg, dev)
ch.show(here.figure2(runs[0].model, X, grid, traj_plot, cfg.out_act), "figure2")

# %% [markdown]
# ## The claims, measured on every seed
#
# For each network: the largest deviation of the output from the training point over the whole input grid,
# where the loss is lowest, how far the {glue:text}`cfg_n_samples` noise points still are from the training
# point after {glue:text}`cfg_n_steps` runs, and the slope $f'(0.5)$: a fixed point of $f$ attracts its neighbourhood when
# $|f'| < 1$, which is the mechanism behind panels (c)–(e).

# %%
ch.glue("n_plot_samples", cfg.n_plot_samples)
M = here.measure_all(runs, X, grid, seeds, cfg)
passes = here.passes(M, cfg, spacing)
for name, value in here.findings(M, cfg).items():
    ch.glue(name, value)

# %%
# NBVAL_CHECK_OUTPUT
# Key numbers against the stored ci reference (kaleido_lib.book.check); tolerances from the spread measured under
# thread counts, vector kernels, MKL paths and oneDNN off (tests/reference/spread.json).
ci_check = kl.book.check.Checker(here.CHAPTER, cfg)
one_seed = 1 / len(seeds) + 1e-9  # a seed's pass/fail may flip on another CPU when it sits at a cut-off
ci_check.close(
    "seeds reaching the target loss",
    int(passes["trained"].sum()),
    atol=1,
    why="a count of nets under a loss cut-off: one net may cross it on another CPU (none did when measured)",
)
ci_check.close(
    "median max |f(x) - x_train|",
    float(stats.median(M["max_dev"])),
    atol=0.01,
    why="no spread measured; a Xeon printed 0.01 for 0.0057 (two decimals); the cut-off is 0.05",
)
ci_check.close(
    "share of seeds passing, per claim",
    {k: float(v.double().mean()) for k, v in passes.items()},
    atol=one_seed,
    why="shares of 3 seeds: one seed may cross a cut-off on another CPU; none did when measured",
)
ci_check.report()

# %% [markdown]
# ## Verdicts
#
# A claim *holds* when at least 90 % of the networks pass its criterion and a sign test says more pass than a coin
# would, *partly* when at least half do and the sign test agrees (with four networks or fewer: too few units). Each
# claim also carries its verdict under alternative definitions (fixed before this run, added after the first paper
# run): the loss target ten and a hundred times looser; the output deviation's and the grid-step cut-offs halved and
# doubled; the sampling tolerance doubled and 90 % of the samples near the point instead of all; $|f'| < 0.5$; and,
# for the four claims about a trained net, the nets that reach the target loss only. Verdicts of this run:
# {glue:text}`verdicts`.

# %%
claims = here.claims(ch, M, passes, spacing, float(X[0, 0]))
ch.glue_verdicts(claims)
ch.finish(claims, origins={})

# %% [markdown]
# ```{glue:md} verdicts_table
# :format: myst
# ```
