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
# # Generalization measures against the kaleidoscope's over-generalization
#
# **The companion work.** "Fantastic Generalization Measures" {cite:p}`jiang2020fantastic` trained more than 10,000
# convolutional networks on CIFAR-10 and SVHN, varying 7 hyper-parameters over 3 values each, and asked which of more
# than 40 complexity measures predicts the generalization gap. Its scores are Kendall's rank correlation $\tau$
# between a measure and the gap over all networks, and the **granulated** $\tau$: vary one hyper-parameter at a time,
# with the others fixed, average $\tau$ over the fixed values of the others, then over the hyper-parameters. Its
# findings: sharpness and **PAC-Bayes flatness** measures, the magnitude-aware one above all, predict best;
# **norm-based** measures correlate poorly or even negatively, the **spectral product** worst of all: depth raises it
# while deeper networks generalize better.
#
# **The question here.** The kaleidoscope's sampler works because its networks *over-generalize*: they map unseen
# inputs onto the training data (see {doc}`the attractors chapter </book/attractors_synthetic>`). Which of the
# companion work's measures, computed from the weights alone, predicts how strongly a network does that? This chapter
# trains a grid of $x \to x$ networks on a 2D set, computes seven measures per network and three over-generalization
# targets, and correlates each measure with each target by both scores.
#
# :::{admonition} Findings of this run
# :class: tip
# By mean $|\Psi|$ over the three over-generalization targets the best predictor is {glue:text}`best`; the flatness
# measures rank {glue:text}`flat_ranks` of seven. {glue:text}`n_fit` of {glue:text}`n_nets` networks reached the
# target loss. Verdicts: {glue:text}`verdicts`.
#
# ```{glue:md} findings_table
# :format: myst
# ```
# :::
#
# ```{glue:figure} tau_heatmap
# :name: gen-heatmap
# :alt: Two heatmaps of correlations between seven complexity measures and three over-generalization targets.
#
# Kendall's $\tau$ over all networks (left) and the granulated $\Psi$ over depth, width and seed (right), each measure
# against each target; red: the measure rises with the target.
# ```
#
# **The networks (paper profile).** The 16 points of the regular $4 \times 4$ grid $\{0.1, 0.367, 0.633, 0.9\}^2$ (the
# `grid16` set of the attractors chapter), sigmoid output; depth $L \in \{2, 4, 6, 8, 10\}$ hidden layers × width
# $H \in \{8, 32, 128\}$ × 5 seeds: 75 networks. Adam, learning rate $10^{-3}$, full batch, the mean squared error of
# $f(X)$ against $X$; each network trains at least 1000 epochs and stops once its loss is $\le 10^{-6}$, or after 4000
# epochs, keeping its best weights. The networks of one $(L, H)$ train together
# (`kaleido_lib.ensemble.train_ensemble`, all seeds at once). Networks that miss the target loss are counted and kept
# in every correlation. The four-corner set of Figure 5b can be chosen instead (`data = "fig5b"`); it is not the
# default because its targets hardly vary: in a trial of 10 networks ($L = 2, H = 8$ and $L = 10, H = 128$, 5 seeds
# each) every network captured every start and every training point attracted, which leaves a rank correlation nothing
# to rank.
#
# **The measures** (`kaleido_lib.complexity`; $W_i$ the weight matrices, $W_i^0$ their initial values, $\theta$ all
# parameters, biases included):
#
# | measure | definition | in the tables |
# |---|---|---|
# | spectral product | $\prod_i \lVert W_i \rVert_2^2$ | its log |
# | Frobenius product | $\prod_i \lVert W_i \rVert_F^2$ | its log |
# | distance to initialisation | $\sum_i \lVert W_i - W_i^0 \rVert_F^2$ | as is |
# | parameter norm | $\sum_i \lVert W_i \rVert_F^2$ | as is |
# | path-norm | $\sum_j f_{\theta^2}(\mathbb{1})_j$: every parameter squared, the all-ones input forwarded, outputs summed | its log |
# | PAC-Bayes flatness | $1/\sigma^2$, $\sigma$ the largest standard deviation of noise $\mathcal{N}(0, \sigma^2)$ on every parameter that raises the training MSE by at most $\tau_{\text{flat}}$ | as is |
# | magnitude-aware flatness | $1/\sigma'^2$, the same with noise $\mathcal{N}(0, \sigma'^2\theta_k^2 + \epsilon^2)$ on parameter $\theta_k$, $\epsilon = 10^{-3}$ | as is |
#
# The path-norm is evaluated without the output bound: with squared parameters and a positive input every ReLU passes
# its input unchanged, and the sigmoid would squash the sum into $(0, 1)$. A network with a reconstruction loss has no
# margin and no error rate, so the flatness criterion is a rise of the training MSE: the mean over 16 noise draws may
# exceed the network's own training MSE by at most $\tau_{\text{flat}} = 0.01$ (a root-mean-square error of 0.1 per
# coordinate). $\sigma$ is found by bisection in $\log\sigma$ on $[10^{-5}, 10]$ (16 steps: $\sigma$ to within 0.03
# %); the draws are seeded by the network's seed and serve every $\sigma$, which makes $\sigma$ non-decreasing in
# $\tau_{\text{flat}}$. The number of parameters is shown as a baseline, not a candidate.
#
# **Initial weights.** `train_ensemble` starts member $i$ from exactly the network
# `seed_everything(seeds[i]); make_mlp(...)` builds; `kaleido_lib.complexity.initial_member` rebuilds it from the seed
# (with torch's generator forked, so no other random stream moves). The chapter checks this on one shape below: after
# a single epoch the kept weights are the initial ones.
#
# **The over-generalization targets** (as defined in the attractors chapter):
# - *share attracting*: the share of a network's training points with Jacobian spectral radius $\rho(J_f(x_i)) < 1$,
#   from the exact $2 \times 2$ Jacobian and its eigenvalues (what `kaleido_lib.attractors.spectral_radius` does in
#   low dimension; the Jacobian here comes from two backward passes, `kaleido_lib.complexity.jacobian_rows`);
# - *capture*: of 2000 uniform starts in $[0, 1]^2$ (the same for every network), the share that ends within 0.02 of a
#   training point after 100 applications of $f$ ($1 -$ nowhere of `kaleido_lib.attractors.basins`);
# - *mean Jacobian norm*: the mean spectral norm $\lVert J_f(x) \rVert_2$ over a $21 \times 21$ grid of $[0, 1]^2$. A
#   map that sends whole regions onto the data is flat there, so one expects *stronger* over-generalization to come
#   with a *smaller* value, while the first two targets rise with it; the chapter prints how the three targets rank
#   the networks among themselves, which tests that expectation.
#
# **Scores.** Kendall's $\tau$-b over all networks, and the granulated $\Psi$ over the three hyper-parameters depth,
# width and seed: $\psi_L$ is the mean of $\tau$ over the 15 groups (width, seed) in which only the depth varies,
# $\psi_H$ and $\psi_{\text{seed}}$ likewise, and $\Psi$ their mean (a group whose target is constant is left out; one
# whose measure is constant while the target varies counts $\tau = 0$, since the measure cannot rank those networks).
# A measure *predicts* a target the better, the larger $|\Psi|$; its overall score is the mean of $|\Psi|$ over the
# three targets. Both are implemented with torch and numpy (`kaleido_lib.stats.kendall_tau`, `granulated_tau`).
#
# **Where this departs from the companion work.** A small 2D reconstruction task instead of image classification;
# three hyper-parameters (depth, width, seed) instead of seven; targets that measure over-generalization, not a
# generalization gap; losses trained to $10^{-6}$ MSE instead of cross-entropy 0.01; no conditional-independence test;
# a subset of the measures (those above). The companion work's scale (thousands of networks) is out of reach here;
# this grid grows with the seeds (here {glue:text}`cfg_n_seeds`), the depths (here {glue:text}`cfg_depths`) and the
# widths (here {glue:text}`cfg_widths`). The code is folded (each cell's toggle shows it); `kaleido_lib/chapters/generalization_measures.py` holds what only this chapter uses.
# %%
import numpy as np
import torch

import kaleido_lib as kl
from kaleido_lib.chapters import generalization_measures as here

torch.set_num_threads(
    1
)  # tiny nets: one CPU thread is fastest, and the numbers do not depend on the core count
# No `device` parameter: this chapter runs on the CPU alone. Its nets have at most a few hundred weights and its
# measures (sharpness by random perturbations, Hessian traces) are many tiny products, where a GPU only adds transfer
# time.
_before = set(globals())

# %% tags=["parameters"]
profile = "paper"  # "ci" (CPU seconds) or "paper" (the paper's settings)
seed = None  # first seed; seeds are seed, seed+1, ..., seed+n_seeds-1 (one net per seed and shape)
n_seeds = None  # independently initialised networks per (depth, width)
data = None  # training set: grid16 (16 points on a 4x4 grid) or fig5b (the four corners of Figure 5b)
depths = None  # hidden layers L (increasing, at least two)
widths = None  # hidden units per layer H (increasing)
epochs = None  # at most this many epochs (full batch: one Adam step each)
min_epochs = None  # at least this many epochs
target_loss = None  # stop once the training loss is at most this (after min_epochs)
lr = None  # Adam learning rate
n_starts = None  # uniform random starts in the unit square for the capture
n_steps = None  # applications of f from every start before its end is labelled
tol = None  # an end within this distance of a training point ends at it
grid_size = None  # grid points per axis for the mean Jacobian norm
flat_tol = None  # flatness: the largest allowed rise of the mean training MSE under weight noise
n_draws = None  # flatness: noise draws per noise level (seeded, shared by every level)
n_iter = None  # flatness: bisection steps in log sigma
out_dir = None  # where results/ and figures/ go (None: the book folder)

# %%
ch = kl.book.chapter.start(here.CHAPTER, here.TITLE, globals(), here.Settings, before=_before)
cfg = ch.cfg
seeds = kl.book.config.seeds(cfg)
X = torch.tensor(here.DATA[cfg.data])
print(here.settings(cfg, X, seeds))

# %% [markdown]
# ## Training the grid and measuring every network
#
# First the initial weights of the ensemble's members: one epoch of `train_ensemble` keeps the weights before the
# first update (the best seen), and they must be the weights `initial_member` rebuilds from each seed. Then the grid;
# {numref}`gen-depth`: the median over seeds per (depth, width); dots are the single networks (open: missed the target
# loss).

# %%
same_init = here.initial_weights_agree(X, seeds, cfg)
rows = here.measure_grid(X, seeds, cfg)
col = here.columns(rows)
fit = col("fit").astype(bool)
print(here.fit_report(rows, col, fit, cfg))
ch.glue("n_fit", int(fit.sum()))
ch.glue("n_nets", len(rows))
ch.show(here.depth_figure(col, fit, cfg), "measures_vs_depth")

# %% [markdown]
# ```{glue:figure} measures_vs_depth
# :name: gen-depth
# :alt: Ten small panels, each a measure or a target against depth, one coloured line per width.
#
# The seven measures and the three targets against the depth: the median over seeds per (depth, width), one line per
# width; dots: single networks (open: missed the target loss).
# ```
#
# ## Kendall's $\tau$ and the granulated $\Psi$
#
# {numref}`gen-heatmap` (at the top of the page), left: $\tau$ over all networks; right: the granulated $\Psi$ (mean
# over depth, width and seed of the within-group $\tau$). Red: the measure rises with the target. Capture and share
# attracting rise with over-generalization, the mean Jacobian norm is expected to fall with it. In the table below,
# *mean|tau| fit* is the mean $|\tau|$ over the networks that reached the target loss only, and the *signed* $\Psi$ is
# the mean of $\Psi$ (capture), $\Psi$ (share attracting) and $-\Psi$ (Jacobian norm): positive when the measure rises
# as the network over-generalizes more, near zero when the targets disagree. {numref}`gen-scatter`: every measure
# against every target, one dot per network, coloured by depth, shaped by width (open markers: the network missed the
# target loss). **Per seed** (printed last): the same correlations within each seed (Kendall's $\tau$ over that seed's
# depth × width networks) give the spread over seeds that the claims below report.

# %%
K = here.correlations(col, fit)
ch.show(here.heatmaps(K.tau, K.psi), "tau_heatmap")
print(here.correlation_tables(K))
ch.show(here.scatter_figure(col, fit, K.tau, K.psi, cfg), "scatter")
per_seed_score, best_per_seed = here.per_seed(col, seeds)

# %% [markdown]
# ```{glue:figure} scatter
# :name: gen-scatter
# :alt: A grid of scatter plots, each complexity measure against each over-generalization target.
#
# Each measure (rows) against each target (columns), one dot per network, coloured by depth and shaped by width; open
# markers: the network missed the target loss. Each panel's title gives its $\tau$ and $\Psi$.
# ```

# %%
# NBVAL_CHECK_OUTPUT
# Key numbers against the stored ci reference (kaleido_lib.book.check); tolerances from the spread measured under
# thread counts, vector kernels, MKL paths and oneDNN off (tests/reference/spread.json).
ci_check = kl.book.check.Checker(here.CHAPTER, cfg)
med_by_depth = lambda k: [float(np.median(col(k)[col("L") == L])) for L in cfg.depths]
ci_check.close(
    "nets reaching the target",
    int(fit.sum()),
    atol=1,
    why="a count of nets under a loss cut-off: one may cross it on another CPU (none did when measured)",
)
ci_check.exact("nets measured", len(rows))
ci_check.close(
    "median log spectral product per depth",
    med_by_depth("log_spectral_product"),
    rtol=0.01,
    why="measured spread 0.02 % (vector kernels); 1 %",
)
ci_check.close(
    "median share attracting per depth",
    med_by_depth("share_attr"),
    atol=0.13,
    why="no spread measured; a median of shares of 16 points, so one point crossing rho = 1 moves it 0.0625",
)
ci_check.close("median capture per depth", med_by_depth("capture"), atol=0.05, why="no spread measured")
ci_check.close(
    "median mean Jacobian norm per depth",
    med_by_depth("jac_norm"),
    rtol=0.01,
    why="measured spread 0.08 % (vector kernels); 1 %",
)
ci_check.report()

# %% [markdown]
# ## Verdicts
#
# 1. **Flatness predicts best.** Rank the seven measures by their mean $|\Psi|$ over the three targets. **Holds** when
#    a flatness measure ranks first, **partly** when one ranks second, **fails** otherwise. Spread: per seed, the mean
#    $|\tau|$ of the better flatness measure; share passing: the seeds in which a flatness measure has the largest
#    mean $|\tau|$.
# 2. **Norm-based measures correlate poorly.** A norm-based measure (the five above) passes when its mean $|\Psi|$ is
#    below 0.2; **holds** when at least 90 % of the five pass, **partly** when at least half do. Spread: per seed, the
#    mean $|\tau|$ over the five measures and the targets.
# 3. **Depth raises the spectral product.** Per (width, seed), Kendall's $\tau$ of the log spectral product with the
#    depth; a column passes when $\tau > 0$; **holds** for at least 90 % of the columns, **partly** for at least half.
#
# Alternatives (fixed before this run, added after the first paper run): (1) the ranking by plain Kendall's $\tau$ over all networks and over the
# networks that fit, and the seeds' reading by the share rule; (2) the cut-off at 0.1 and 0.4, and plain $\tau$ for
# $\Psi$; (3) $\tau > 0.5$, the deepest network above the shallowest, and the networks that fit only.
#
# Verdicts of this run: {glue:text}`verdicts`. Before them, what the numbers show, in lines written from this run's
# numbers.

# %%
claims = here.claims(
    col,
    fit,
    rows,
    K.score,
    K.psi,
    K.signed,
    K.tau,
    K.tau_fit,
    K.gran,
    per_seed_score,
    best_per_seed,
    seeds,
    cfg,
)
ch.glue_verdicts(claims)
for name, value in here.findings_glue(K.score).items():
    ch.glue(name, value)
print(here.summary(K, col, fit, seeds, cfg.widths))
ch.finish(claims, origins={})

# %% [markdown]
# ```{glue:md} verdicts_table
# :format: myst
# ```
