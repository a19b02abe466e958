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
# # Injectivity of ReLU layers, and where the kaleidoscope's nets lose rank
#
# **The companion result.** A ReLU layer without bias, $x \mapsto \mathrm{ReLU}(Wx)$ with
# $W \in \mathbb{R}^{m \times n}$, is injective exactly when, at every $x$, the rows $w_i$ with
# $\langle w_i, x\rangle \ge 0$ span $\mathbb{R}^n$ {cite:p}`puthawala2022globally`. Since
# $\#\{i : \langle w_i, x\rangle > 0\} + \#\{i : \langle w_i, -x\rangle > 0\} = m$ for a generic $x$, an injective
# layer needs an **expansivity** $\alpha = m/n \ge 2$, and $W = [B; -B]$ with $B$ invertible shows that 2 suffices.
# For an i.i.d. Gaussian $W$, injectivity with high probability needs $\alpha$ between **3.4** and **10.5**; later
# work {cite:p}`maillard2023injectivity` proves the upper bound $\approx$ **7.65** and predicts a sharp threshold at
# $\approx$ **6.7** as $n \to \infty$. The kaleidoscope, in contrast, is built from layers of expansivity 1
# ($H \to H$), with biases, and *works* by mapping many inputs to few outputs. This chapter measures both sides:
# the phase transition of Gaussian layers, and where the trained nets of Figures 3 and 5b **lose rank**.
#
# :::{admonition} Findings of this run
# :class: tip
# The share of injective Gaussian layers reaches one half (its 50 % point in $\alpha$) at {glue:text}`a50` (exact;
# the companion run: {glue:text}`a50_companion`), and at least at {glue:text}`lb50` (heuristic lower bound). Our
# shares agree with the companion run's within two standard errors at {glue:text}`n_agree` of
# {glue:text}`n_compared` points. Median share of the domain where the trained nets are flat, per depth: Figure 3
# (1D) {glue:text}`flat_1d`; Figure 5b (2D) {glue:text}`flat_2d`. Their hidden layers are many-to-one on their own
# input space at a median {glue:text}`deficient:.0%` of the inputs. Verdicts: {glue:text}`verdicts`.
#
# ```{glue:md} findings_table
# :format: myst
# ```
# :::
#
# ```{glue:figure} phase_transition
# :name: inj-phase
# :alt: Share of injective Gaussian ReLU layers against the expansivity, per input dimension, with published thresholds.
#
# Share of injective layers against the expansivity $m/n$: exact for small $n$ (solid, bars: ±1 binomial standard
# error) and, for larger $n$, the heuristic **upper bound** on that share (dashed); crosses: the companion run;
# dotted: the published expansivities 2, 3.4, 6.7, 7.65 and 10.5. 50 % points of this run: {glue:text}`a50`.
# ```
#
# **The setting.** *Exact test*: the rows cut $\mathbb{R}^n$ into open chambers; the **depth** is
# the least number of strictly positive rows over the chambers. Depth $\ge n$ is necessary, and for rows in general
# position (true with probability 1 for a Gaussian $W$) sufficient; it is found on the $\binom{m}{n-1}$ rays
# orthogonal to $n - 1$ rows. Degenerate matrices such as $[B; -B]$ go to a slower exact recursion. *Heuristic
# bound* for larger $n$: a local search from ray to ray (tabu list, random restarts) gives an
# **upper bound on the depth**, hence an upper bound on the share of injective layers and a **lower bound** on its
# 50 % point. *Rank with biases*: near an input, $h \mapsto \mathrm{ReLU}(W_k h + b_k)$ is the linear
# map $D_k W_k$ ($D_k$ keeps the strictly active units); the network is **flat** at $x$ (a segment of inputs goes
# to one output) when its Jacobian $J_f(x)$ has rank below $D$.
#
# *The nets* (paper profile): the settings of {doc}`Figure 3 </book/fig03_two_points_1d>` (points $\{0.2, 0.8\}$,
# $H = 5$) and {doc}`Figure 5b </book/fig05_two_d>` (the four corners, $H = 50$), sigmoid output, $L \in \{2, 4, 7,
# 10\}$, 8 seeds, Adam at $10^{-3}$, full batch, 1000 to 5000 (1D) / 4000 (2D) epochs, stopping at loss
# $\le 10^{-8}$; nets that miss it or die (a constant output) are counted and kept. Each is measured on a grid over
# $[0, 1]^D$: the *contracting share* (largest singular value of $J_f$ below 0.5) and the *capture* (grid starts
# ending within 0.01 (1D) / 0.02 (2D) of a training point after 100 applications of $f$). **Deviations.** The
# companion run does not state its number of matrices: it is taken equal to ours. The heuristic runs 100 ($n = 10$)
# and 20 ($n = 20$) matrices per point, not the exact test's 200, to run in minutes (this run:
# {glue:text}`cfg_bound_trials` for $n$ = {glue:text}`cfg_bound_ns`).
# The code is folded; `kaleido_lib/injectivity.py` holds the tests of injectivity and the rank signal, and
# `kaleido_lib/chapters/injectivity.py` what only this chapter uses.

# %%
import torch
from IPython.display import Markdown, display

import kaleido_lib as kl
from kaleido_lib.chapters import injectivity as here

# small batched problems and tiny nets: one CPU thread, numbers independent of the cores
torch.set_num_threads(1)
_before = set(globals())

# %% tags=["parameters"]
profile = "paper"  # "ci" (CPU seconds) or "paper" (the paper's settings)
seed = None  # seed of the Gaussian matrices and the heuristic; the nets use seeds seed, ..., seed+n_seeds-1
device = None  # must stay "cpu": the injectivity tests run on the CPU in float64
exact_ns = None  # input dimensions n tested exactly (increasing, each at least 2)
alphas = None  # expansivities m/n of the exact test (m is round(alpha*n); increasing)
trials = None  # Gaussian matrices per (n, alpha) point of the exact test
exact_budget = None  # largest C(m, n-1)*m per matrix of the exact test; points above it are left out, listed
n_boot = None  # bootstrap resamples for the spread of the 50 % points
bound_ns = None  # input dimensions n of the heuristic bound (increasing)
bound_alphas = None  # expansivities of the heuristic bound (increasing)
bound_trials = None  # matrices per point of the heuristic, one number per entry of bound_ns
restarts = None  # random restarts of the local search per matrix
patience = None  # a search stops after this many steps without improvement
check_trials = None  # matrices per point where the heuristic is checked against the exact test (largest n)
n_seeds = None  # trained nets per (setting, depth)
depths = None  # hidden layers L of the trained nets (increasing, at least two)
width_1d = None  # hidden units of the 1D nets (Figure 3: 5)
width_2d = None  # hidden units of the 2D nets (Figure 5b: 50)
epochs_1d = None  # at most this many epochs, 1D
epochs_2d = None  # at most this many epochs, 2D
min_epochs = None  # at least this many epochs
target_loss = None  # stop once the training loss is at most this (after min_epochs)
lr = None  # Adam learning rate
grid_1d = None  # grid points on [0, 1] for the 1D measures
grid_2d = None  # grid points per axis on [0, 1]^2 for the 2D measures
n_steps = None  # applications of f from every grid start for the capture
tol_1d = None  # a 1D end within this distance of a training point is captured
tol_2d = None  # the same in 2D
slope_threshold = None  # contracting where the largest singular value of J_f is below this
fit_tol = None  # a net fits when every training point is reconstructed within this (largest coordinate error)
out_dir = None  # where results/ and figures/ go (None: the book folder)

# %%
ch = kl.book.chapter.start(here.CHAPTER, here.TITLE, globals(), here.Settings, before=_before)
cfg = ch.cfg
seeds = kl.book.config.seeds(cfg)
print(
    f"profile={cfg.profile}; exact n {cfg.exact_ns}; heuristic n {cfg.bound_ns}; L {cfg.depths}; seeds {seeds}"
)

# %% [markdown]
# ## The designed cases
#
# First, the exact test on matrices whose answer is known: $[B; -B]$ (expansivity 2, injective, *not* in general
# position), then three that are not injective: it without one row, rows in one half-space, and $m < 2n$.

# %%
designed = here.designed_cases(cfg.seed)
display(Markdown(here.designed_table(designed)))

# %% [markdown]
# ## The phase transition
#
# For every $n$ and $\alpha$, {glue:text}`cfg_trials` Gaussian matrices ($m = \mathrm{round}(\alpha n)$ rows) are tested exactly;
# the scan stops at the first chamber with fewer than $n$ positive rows. Points costing more than
# {glue:text}`cfg_exact_budget` steps ($\binom{m}{n-1} m$ per matrix) are left out (this run: {glue:text}`skipped`). For larger $n$ the heuristic bound runs instead; on the matrices
# of $n$ = {glue:text}`check_n` it decided like the exact test on {glue:text}`check_agree:.1%` of
# {glue:text}`check_matrices`, and it can never refute an injective layer (checked). The 50 % point is the $\alpha$
# at which a curve first reaches one half, by linear interpolation, with {glue:text}`cfg_n_boot` bootstrap resamples of
# the matrices; {numref}`inj-phase` shows the curves.

# %%
exact = here.exact_points(cfg)
check = here.heuristic_check(exact, cfg)
bound = here.bound_points(cfg)
fif = here.fifty(exact, bound, cfg)
print(exact.table(cfg.exact_ns), bound.table(cfg.bound_ns) + "  (upper bounds)", fif.text(), sep="\n")
ch.show(here.phase_figure(exact, bound, cfg), "phase_transition")

# %% [markdown]
# ## Against the companion run
#
# At every $(n, \alpha)$ the companion run lists: our share, the difference, and its binomial standard error
# $\sqrt{2\bar p (1 - \bar p) / N}$ ($\bar p$ the mean of the two shares, $N$ our number of matrices). A point
# agrees when the difference is at most two standard errors: {glue:text}`n_agree` of {glue:text}`n_compared` do.

# %%
cmp_rows = here.against_companion(exact)
display(Markdown(here.companion_table(cmp_rows)))

# %% [markdown]
# ## Where the kaleidoscope's nets lose rank
#
# Every net is measured on its grid: the strictly active units of every layer, whether they span the layer's input
# space, the rank of $J_f$, the contracting share and the capture. Of {glue:text}`n_nets` nets per setting,
# {glue:text}`fits_1d` fit in 1D ({glue:text}`dead_1d` died) and {glue:text}`fits_2d` in 2D ({glue:text}`dead_2d`
# died). In {numref}`inj-flat`, the median share of the line where the 1D nets are flat (every path through the net
# switched off) is, per depth, {glue:text}`flat_1d`; the flat inputs are a median {glue:text}`flat_of_contracting:.0%`
# of the contracting ones, and the rank is first lost at {glue:text}`where_lost` (1: the first hidden layer).

# %%
nets = here.train_and_measure(cfg, seeds)
print(nets.text())
ch.show(here.flat_regions_figure(nets, cfg), "flat_regions")

# %% [markdown]
# ```{glue:figure} flat_regions
# :name: inj-flat
# :alt: One net per depth: the 1D output with flat inputs in red, and 2D maps of the smallest singular value.
#
# One net per depth ({glue:text}`example_choice`). Top, 1D: $f(x)$ with the flat inputs
# ($f' = 0$, red) and the contracting ones ($|f'| < 0.5$, shaded). Bottom, 2D: $\log_{10}$ of the smallest
# singular value of $J_f$ on the square (white dots: rank below 2; crosses: training points). Median flat share
# per depth, 1D: {glue:text}`flat_1d`; 2D: {glue:text}`flat_2d`.
# ```
#
# ## Against depth
#
# {numref}`inj-depth` puts every net's four shares against $L$. Median contracting share, 2D:
# {glue:text}`contracting_2d`; median capture, 2D: {glue:text}`capture_2d`, 1D: {glue:text}`capture_1d`. A median
# {glue:text}`collapse:.0%` of the flat inputs land within {glue:text}`cfg_tol_1d` of a training point in one step. Spearman
# tests: does the full-rank share fall with $L$, and do the 1D flat and contracting shares rise together?

# %%
ch.show(here.rank_vs_depth_figure(nets, cfg), "rank_vs_depth")
tr = here.trends(nets, cfg)
print(tr.text())

# %% [markdown]
# ```{glue:figure} rank_vs_depth
# :name: inj-depth
# :alt: Flat, contracting, captured and rank-deficient shares of every net against depth, per setting.
#
# Per setting (rows) against the hidden layers $L$: the flat share, the contracting share, the capture and the
# share of inputs at which some layer's strictly active rows do not span its input space (dots: seeds; open dots:
# nets that do not fit; line: median). That last share has a median of {glue:text}`deficient:.0%`.
# ```

# %%
# NBVAL_CHECK_OUTPUT
# Key numbers against the stored ci reference (kaleido_lib.book.check); tolerances from the spread measured under
# thread counts, vector kernels, MKL paths and oneDNN off (tests/reference/spread.json): none moved.
ci_check = kl.book.check.Checker(here.CHAPTER, cfg)
ci_check.close(
    "exact share injective per n",
    {n: exact.shares(n)[1] for n in cfg.exact_ns},
    atol=0.01,
    why="no spread measured: random matrices from a seeded generator and an exact combinatorial test",
)
ci_check.close(
    "50 % points", fif.a50, rtol=0.01, why="no spread measured; interpolated from the shares above"
)
ci_check.close(
    "heuristic upper bound on the share",
    {n: bound.shares(n)[1] for n in cfg.bound_ns},
    atol=0.01,
    why="no spread measured",
)
ci_check.close(
    "heuristic agrees with the exact test", float(check.agree.mean()), atol=0.01, why="no spread measured"
)
ci_check.close(
    "median flat share per depth",
    {s: nets.stack(s, "flat").nanquantile(0.5, dim=1) for s in here.KSETS},
    atol=0.05,
    why="no spread measured; a share of grid points under a slope cut-off",
)
ci_check.close(
    "nets that fit",
    {s: int(nets.stack(s, "fits").sum()) for s in here.KSETS},
    atol=1,
    why="counts of nets under a tolerance: one may cross it on another CPU (none did when measured)",
)
ci_check.exact("nets per set", len(cfg.depths) * len(seeds))
ci_check.report()

# %% [markdown]
# ## Verdicts
#
# 1. **Expansivity 2 is necessary**: every exact point with $\alpha \le 2$ has share 0 (a point passes at 0).
# 2. **Injective with high probability above 10.5**: a point with $\alpha \ge 10.5$ passes at a share $\ge 0.95$.
# 3. **Rare below 3.4 as $n$ grows**: the share at $\alpha = 3$ falls with $n$ and is $\le 0.05$ at the largest
#    exact $n$ (**holds**); falls only (**partly**).
# 4. **The 50 % point rises with $n$**: the share of bootstrap resamples where it rises from each exact $n$ on.
# 5. **The companion run's shares** agree within two standard errors at $\ge 90$ % of the points.
# 6. **The 50 % point keeps rising beyond the exact $n$**: the heuristic lower bound at every larger $n$ exceeds
#    the exact 50 % point of the largest exact $n$, per bootstrap resample.
# 7. **Deeper nets lose rank on more of the domain** (1D): Spearman's $\rho < 0$ with $p < 0.05$ and a median
#    that never rises with $L$ (**holds**); the first alone (**partly**).
# 8. The same for the 2D nets.
# 9. **Flat nets over-generalize more** (1D): $\rho > 0$ with $p < 0.05$ (**holds**), $\rho > 0$ (**partly**).
# 10. **Hidden layers are not injective where the nets work**: a net passes when some layer's active rows fail
#     to span at $\ge 99$ % of its grid.
#
# A claim judged on a share **holds** at $\ge 90$ % and **partly** at $\ge 50$ % passing. Declared alternatives: the
# cut-off on either side (claim 1: $\le 0.05$ and $< 0.5$; 2: $\ge 0.9$ and $0.975$; 3: $0.025$ and $0.1$; 5: one and
# three standard errors; 10: $0.98$ and $0.995$, and the nets that fit alone), the ends instead of every step and the
# point estimates (4, 6), the deepest against the shallowest $L$ per seed and $p < 0.01$ (7, 8), $p < 0.01$ and $0.1$
# (9). *Uncertainty*: a Wilson interval over the units (points: 1, 2, 5; $n$: 3; bootstrap resamples: 4, 6; nets: 9;
# seeds: 7, 8, 10), and the verdict's stability with the matrices redrawn (1-6) or the nets or seeds resampled. This
# run: {glue:text}`verdicts`. *What would change them.* Claim 2 needs exact points at $\alpha \ge 10.5$; more
# matrices per point (this run: {glue:text}`cfg_trials`) sharpen claims 4 and 6; claims 7 to 9 need nets that lose rank at all, and more seeds.

# %%
claims = here.claims(exact, fif, cmp_rows, check, nets, tr, designed, cfg)
ch.glue_verdicts(claims)
for name, value in here.findings(exact, fif, cmp_rows, check, nets, cfg).items():
    ch.glue(name, value)
ch.finish(claims, origins={})

# %% [markdown]
# ```{glue:md} verdicts_table
# :format: myst
# ```
