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
# # Figure 3: two training points in 1D, a shallow and a deep net
#
# > "the MLP learns many-to-one mapping, as evident by the flat regions around the points {0.2, 0.8} … The burn-in
# > period is roughly around B=5 … As compared to (b), in (h) we can find an increase in the flat region around input
# > values 0.2 and 0.8, which in turn makes the curve connecting the flat regions more steeper and thus our sampling
# > procedure works faster" (the paper, Figure 3)
#
# **The claims.** Train an MLP to reconstruct two points, $X = \{0.2, 0.8\}$, and its output is *flat* around each
# point (many inputs map to the same output), so Kaleidoscopic sampling from noise reaches the two points after a
# short burn-in, "$B \approx 5$" runs. Between the points the loss is flat and samples starting there converge more
# slowly. A deeper net has wider flat regions around the points, a steeper output between them and samples faster.
#
# :::{admonition} Findings of this run
# :class: tip
# Of {glue:text}`n_seeds` seeds, {glue:text}`fits_shallow` shallow ($L = 2$) and {glue:text}`fits_deep` deep ($L = 7$)
# networks fit the data; the others died or stalled (counted in the trainability claims; the other claims are judged
# on the nets that fit). Median burn-in $B$ (90 % of the samples within 0.05 of a point): {glue:text}`burn_shallow`
# runs for $L = 2$ and {glue:text}`burn_deep` for $L = 7$, against the paper's "about 5"; the median sample settles by
# run {glue:text}`settle_shallow` and {glue:text}`settle_deep`. Verdicts: {glue:text}`verdicts`.
#
# ```{glue:md} findings_table
# :format: myst
# ```
# :::
#
# ```{glue:figure} figure3_shallow
# :name: fig03-shallow
# :alt: The shallow net: loss with a flat stretch between the points, an output with flat regions at 0.2 and 0.8, and samples reaching the two points.
#
# Panels (a)–(f), the shallow net ($L = 2$, seed {glue:text}`seed_shallow`). (a) The loss $(x - f(x))^2$ over the
# input range, with a close-up between the points; (b) the output $f(x)$ against the identity (dotted), the flat
# regions ($|f'| < 0.5$) shaded; (c)–(f) ten noise points (red) and the samples (green) after 1, 2, 5 and 10 runs,
# drawn on the loss curve.
# ```
#
# **The setting (paper profile).** Two points in $(0, 1)$; MLPs with $H = 5$ ReLU units per hidden layer and $L = 2$
# or $7$ hidden layers, Sigmoid output (this book's depth setting counts hidden layers, as the caption's $L$ does; the authors' code
# builds its "$L = 7$" net with 6, see {doc}`the introduction </book/intro>`). Adam, learning rate $10^{-3}$, full
# batch, the loss of Eq. 1. The paper trains for "epochs $\geq 1K$ to ensure that the training loss tends to
# $\rightarrow 0$", the authors' code for 2000 epochs; here each net trains for 1000 to 5000 epochs, stopping once its
# loss is $\le 10^{-8}$. Narrow deep ReLU nets can *die* (every unit of a layer inactive: a constant output); such
# seeds are counted and shown, and whether a net trains is a claim of its own. A net *fits the data* when
# $|f(x_i) - x_i| \le$ {glue:text}`cfg_tol` at each point; the claims about flat regions and sampling are judged on these
# nets, whether or not they reached the (much stricter) target loss, so a dead net does not cap them. Sampling follows
# Eq. 2, $x^0 = z,\; x^k = f(x^{k-1})$, from noise $z \sim \mathcal{N}(0.5, 0.5^2)$ clipped to $[0, 1]$ as in the
# authors' code: 10 noise points in the panels, 1000 per seed for the measures, 100 runs. The code is folded (each
# cell's toggle shows it); `kaleido_lib/chapters/fig03_two_points_1d.py` holds its settings, its claims as
# declared and what only this chapter uses.
#
# **A deviation from the authors' run.** The caption says $H = 5$, and so does this chapter; the authors' executed
# notebook for this figure builds its nets with $H = 10$, where far fewer die. The
# {doc}`depth study </book/depth_study>` runs these two points at $H = 10$ over $L \in \{2, 4, 7, 10\}$.

# %%
import torch

import kaleido_lib as kl
from kaleido_lib.chapters import fig03_two_points_1d as here

torch.set_num_threads(
    1
)  # tiny nets: one CPU thread is fastest, and the numbers do not depend on the core count
_before = set(globals())

# %% tags=["parameters"]
profile = "paper"  # "ci" (CPU seconds) or "paper" (the paper's settings)
seed = None  # first seed; seeds are seed, seed+1, ..., seed+n_seeds-1 (each trains one net per depth)
n_seeds = None  # independently initialised networks per depth
device = None  # "auto" (CUDA when available), "cpu" or "cuda"
points = None  # the two training points; the paper: [0.2, 0.8]
depth = None  # hidden layers of the shallow net (the paper's L); the paper: 2
depth_deep = None  # hidden layers of the deep net; the paper: 7
width = None  # hidden units per layer (the paper's H); the paper: 5
out_act = None  # output bound: "sigmoid" (0, 1), "tanh" (-1, 1) or "none"
epochs = None  # at most this many epochs (full batch: one Adam step each)
min_epochs = None  # at least this many epochs; the paper: 1000
target_loss = None  # stop once the training loss is at most this (after min_epochs); the paper: 1e-8
lr = None  # Adam learning rate
batch_size = None  # must stay None: full batch, as in the paper
n_samples = None  # noise points per seed used to measure the sampling claims
n_plot_samples = None  # noise points drawn in the sampling panels; the paper: 10
n_steps = None  # sampling runs (applications of f) per noise point
plot_steps = None  # the runs shown in panels (c)-(f) and (i)-(l), e.g. [1, 2, 5, 10]
eps = None  # noise re-injected at each sampling run (0: plain Eq. 2, as in the paper's synthetic runs)
noise = None  # start noise: "normal" or "uniform"
eps_noise = None  # kind of re-injected noise (see kaleido_lib.sampling)
tol = None  # a sample counts as 'at a training point' within this distance
burn_frac = None  # burn-in: first run after which this share of the samples stays within burn_tol
burn_tol = None  # burn-in: the radius around a training point a sample must stay within
burn_max = None  # the paper's burn-in of about 5 counts as met when the burn-in is at most this
slope_threshold = None  # the output counts as flat where |f'(x)| is below this
flat_reach = None  # a flat interval counts for a point if it has a grid point this close to it
min_flat_width = None  # a point has a flat region when its flat interval is at least this wide
grid_size = None  # inputs on [low, high] for the panels and the slope measures
out_dir = None  # where results/ and figures/ go (None: the book folder)

# %%
ch = kl.book.chapter.start(here.CHAPTER, here.TITLE, globals(), here.Settings, before=_before)
cfg = ch.cfg
dev = kl.utils.get_device(cfg.device)
X, seeds, depths = here.setup(cfg, dev)
print(here.settings(cfg, dev, seeds, depths))

# %% [markdown]
# ## Training and the measures, per seed
#
# All seeds of one depth train at once as an ensemble (`kaleido_lib/ensemble.py`): each member starts from the weights
# a lone run from its seed would have and is trained as a lone run would be, keeping its best weights ({numref}`fig03-loss`).
#
# ```{glue:figure} training_loss
# :name: fig03-loss
# :alt: Training loss against epochs for the shallow and the deep net, one line per seed.
#
# Training loss of each seed's shallow (left) and deep (right) network. A loss stuck near
# $0.09 = \frac{1}{2}\left[(0.5 - 0.2)^2 + (0.5 - 0.8)^2\right]$ is a dead net: its output is the constant $0.5$.
# ```
#
# For each net, on a grid of {glue:text}`cfg_grid_size` inputs over $[0, 1]$ (the two depths of a seed share its
# noise, so they are compared on equal terms):
#
# - the slope $f'(x)$ by autograd, at the two points and over the grid, and the steepest slope between the points,
#   $\max_{x \in [0.2, 0.8]} f'(x)$;
# - the **flat region** of each point: the widest connected interval on which $|f'| <$ {glue:text}`cfg_slope_threshold` that
#   reaches within {glue:text}`cfg_flat_reach` of the point (a ReLU net's output has kinks, often right at a training point
#   with the flat side on one side of it), and its width;
# - from 1000 noise points $z$ iterated 100 times: each sample's **settle step**, the first run after which it stays
#   within a radius of a training point (101 if it never does), and the **burn-in** $B$, the first run after which
#   90 % of the samples stay within {glue:text}`cfg_burn_tol` of a training point (the 0.9-quantile of the settle
#   steps at that radius), also under the five other definitions of the criteria below;
# - the median settle step of the samples that start *between* the points (the middle two thirds of the gap,
#   $0.3 < z < 0.7$) and of those that start *outside* them ($z < 0.2$ or $z > 0.8$).

# %%
ens = here.train_depths(X, seeds, depths, cfg)
ch.show(here.training_figure(ens, cfg), "training_loss")
geo = here.geometry(X, cfg.out_act, cfg.grid_size)
ms = here.measure_all(ens, X, seeds, geo, cfg, dev)
trained, fits, M = ms.trained, ms.fits, ms.M
for name, value in here.findings(ms, depths).items():
    ch.glue(name, value)

# %% [markdown]
# ## The figures
#
# The paper shows one net per depth; here it is the first seed of each depth whose net fits the data: the shallow net
# in {numref}`fig03-shallow` (at the top of the page), the deep one in {numref}`fig03-deep`. {numref}`fig03-outputs`
# shows every net's output, {numref}`fig03-settle` how fast the samples settle, and {numref}`fig03-pairs` compares the
# depths seed by seed.
#
# ```{glue:figure} figure3_deep
# :name: fig03-deep
# :alt: The deep net: the same panels, with the flat regions and the samples of the seven-layer network.
#
# Panels (g)–(l), the deep net ($L = 7$, seed {glue:text}`seed_deep`), as in {numref}`fig03-shallow`.
# ```
#
# ```{glue:figure} outputs_all_seeds
# :name: fig03-outputs
# :alt: Output curves of every seed's shallow and deep network; the dead ones are flat at 0.5.
#
# The output $f(x)$ of every seed's network, shallow (left) and deep (right); dashed: the nets that do not fit the
# data (a dead net is the constant $0.5$). The dotted line is the identity and the dashed verticals mark the training
# points.
# ```
#
# ```{glue:figure} settle_steps
# :name: fig03-settle
# :alt: Trajectories converging onto the two points, and settle steps that are highest for starts between the points.
#
# Left: trajectories $x^k$ of the ten plotted noise points, the net's burn-in $B$ shaded. Right: the settle step of
# each of the 1000 noise points (the run after which it stays within 0.01 of a point) against its start; grey: the
# band between the points.
# ```
#
# ```{glue:figure} shallow_vs_deep
# :name: fig03-pairs
# :alt: Three paired-dot panels comparing the shallow and the deep net of each seed.
#
# The paper's comparison (iv), seed by seed: total flat width around the two points, burn-in $B$, and the steepest
# slope between the points, for $L = 2$ and $L = 7$. Each line joins the two nets of one seed (a seed whose deep or
# shallow net does not fit the data has one dot or none).
# ```
#
# ## The criteria and the verdicts
#
# A seed passes a claim about one depth only if its net fits the data, and then:
#
# - **flat regions**: both points have a flat interval at least {glue:text}`cfg_min_flat_width` wide;
# - **burn-in $\approx 5$**: $B \le$ {glue:text}`cfg_burn_max` (twice the paper's value). The paper reads $B$ off panels of ten
#   noise points drawn at the scale of the unit interval, so the primary definition is what such a panel shows: 90 %
#   of the samples (nine of ten points) within 0.05 of a point, as in the Figure 5 chapter. Fixed before this run,
#   the claim is also judged with the median, the 90 % and the 95 % of the samples at radii 0.01 and 0.05 (six
#   definitions in all; the 95 % tail at radius 0.01 mostly measures how the last samples escape the repelling fixed
#   point between the points), each verdict recorded beside the main one (the scoreboard lists them under the
#   criteria);
# - **slower between the points**: the median settle step of the samples starting between the points is larger than
#   that of the samples starting outside them;
#
# and a seed passes a comparison of the depths only if both its nets fit the data and the deep net has the larger
# total flat width, the smaller burn-in, or the larger steepest slope between the points; the effect size is the
# median paired difference with its 95 % bootstrap interval. Each claim about a trained net counts every seed, a net
# that does not fit (for a comparison, either of the seed's two) counting as failing; its verdict on the nets that fit
# alone is one more alternative, so training failures and failures of the claim itself can be told apart. A claim
# *holds* when at least 90 % of the seeds pass its criterion and a sign test says more pass than a coin would,
# *partly* when at least half do and the sign test agrees. Verdicts of this run: {glue:text}`verdicts`.

# %%
diff = here.comparisons(M, depths)
figs, seed_shown = here.figures(ens, ms, diff, geo, seeds, cfg, dev)
for name, fig in figs.items():
    ch.show(fig, name)
for name, value in seed_shown.items():
    ch.glue(name, value)
passes = here.passes(M, trained, fits, diff, depths, cfg)
share = {k: float(v.double().mean()) for k, v in passes.items()}

# %%
# NBVAL_CHECK_OUTPUT
# Key numbers against the stored ci reference (kaleido_lib.book.check); tolerances from the spread measured under
# thread counts, vector kernels, MKL paths and oneDNN off (tests/reference/spread.json) and a Xeon's earlier run.
ci_check = kl.book.check.Checker(here.CHAPTER, cfg)
one_seed = 1 / len(seeds) + 1e-9  # a seed's pass/fail may flip on another CPU when it sits at a cut-off
for d in depths:
    ci_check.close(
        f"L={d}: seeds reaching the target loss",
        int(trained[d].sum()),
        atol=1,
        why="a count of nets under a loss cut-off: one may cross it on another CPU (none did when measured)",
    )
    ci_check.close(
        f"L={d}: seeds fitting the data",
        int(fits[d].sum()),
        atol=1,
        why="a count of nets under a tolerance: one may cross it on another CPU (none did when measured)",
    )
    ci_check.close(
        f"L={d}: median burn-in",
        float(M[d]["burn_in"].nanmedian()),
        atol=2,
        why="a run count at a 90 % cut-off: no spread measured (7 perturbations), 2 runs of slack",
    )
    ci_check.close(
        f"L={d}: median flat widths",
        [float(M[d]["width_p1"].nanmedian()), float(M[d]["width_p2"].nanmedian())],
        atol=0.02,
        why="no spread measured; 0.02 is 40 grid steps and well inside the 0.05 cut-off's margin",
    )
ci_check.close(
    "share of seeds passing, per claim",
    share,
    atol=one_seed,
    why="shares of 3 seeds: one seed may cross a cut-off on another CPU; none did when measured",
)
ci_check.report()

# %%
claims = here.claims(
    ch, M, passes, diff, {d: ens[d].best_loss.cpu() for d in depths}, fits, ms.fit_err, depths, geo
)
ch.glue_verdicts(claims)
ch.finish(claims, origins={})

# %% [markdown]
# ```{glue:md} verdicts_table
# :format: myst
# ```
