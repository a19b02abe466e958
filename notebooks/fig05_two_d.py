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
# # Figure 5: Kaleidoscopic sampling in 2D
#
# **The claims.** The paper's Figure 5 moves to the plane. (a) An MLP with $L = 2$ hidden layers of
# $H = 50$ units learns the single point $(0.5, 0.5)$; (b) one with $L = 7$, $H = 50$ learns the four
# corners $(0.2 \mid 0.8,\; 0.2 \mid 0.8)$. The loss surface $\lVert x - f(x) \rVert^2 / 2$ over
# $[0, 1]^2$ is "quite flat", yet sampling from noise gives "a large number of samples near the input
# distribution", and "the number of sampling runs for reaching the burn-in period is inversely
# proportional to the complexity of the neural network". This chapter measures, over many seeds:
#
# 1. the share of samples that lie within a radius $r$ of a training point after $K$ runs, for (a) and (b);
# 2. for (b), whether every one of the four training points receives samples (mode coverage);
# 3. the burn-in as a function of the depth $L \in \{2, 4, 7, 10\}$ at $H = 50$ and of the width
#    $H \in \{10, 25, 50, 100\}$ at $L = 7$, on the four-point data: does it fall as the network grows,
#    and does it fall as $1/L$?
#
# :::{admonition} Findings of this run
# :class: tip
# After $K =$ {glue:text}`n_runs` runs a median {glue:text}`near_a:.0%` (a) and {glue:text}`near_b:.0%` (b) of the
# samples lie within $r$ of a training point; every one of the four points receives samples for
# {glue:text}`cover_b` of {glue:text}`n_seeds` seeds. Median burn-in per depth $L \in$ {glue:text}`depths`:
# {glue:text}`burn_depth` runs (pooled Spearman $\rho$ = {glue:text}`rho_depth:.2f`); per width $H \in$
# {glue:text}`widths`: {glue:text}`burn_width` runs. Verdicts: {glue:text}`verdicts`.
# :::
#
# ```{glue:figure} figure5
# :name: fig05-main
# :alt: Two 3D loss surfaces, one with a single well and one with four wells, with red noise and green samples.
#
# The paper's Figure 5 for the first seed: (a) one training point, (b) four. The surface is the loss
# $\lVert x - f(x) \rVert^2 / 2$; red: the noise, green: the samples after $K =$ {glue:text}`n_runs` runs, both at
# their loss; black crosses: the training points.
# ```
#
# **The setting (paper profile).** Sigmoid output; Adam, learning rate $10^{-3}$, full batch, the loss
# of Eq. 1. Our `depth` counts hidden layers, as the caption's $L$ does; the authors' code builds its
# "$L = 7$" net with 6 hidden layers (see {doc}`the introduction </book/intro>`). The authors' code
# trains for 2000 epochs; here each net trains for at least 1000 epochs and stops once its loss is
# $\le 10^{-8}$, or after 4000 epochs, keeping the best weights seen; the share of nets reaching that
# target is reported for every setting, and nets that miss it are kept in every measure. Sampling
# follows Eq. 2, $x^0 = z,\; x^k = f(x^{k-1})$, without re-injected noise, from
# $z \sim \mathcal{N}\big((0.5, 0.5), 0.5^2 I\big)$ clipped to $[0, 1]^2$ (the caption writes
# $\mathcal{N}(0.5, 0.5 \cdot I)$; the authors' code draws with standard deviation $0.5$, as here).
# Every setting is trained from the same `n_seeds` seeds, all seeds of one shape at once
# (`kaleido_lib.ensemble.train_ensemble`, each member identical to a lone training run from its seed);
# each seed also draws its own 1000 noise points, shared by its nets of every shape.
#
# **Definitions.** A sample is *near the data* when it lies within $r = 0.05$ of a training point.
# The *burn-in* $B$ of a net is the first run after which 90 % of its 1000 samples stay within
# $r$ of a training point for every later run up to $100$ runs (`kaleido_lib.measures.burn_in`). A net
# whose samples never reach that share within 100 runs, for instance because some samples are caught by
# a fixed point of $f$ that is not a training point, is *censored*: it gets $B = 101$ and is drawn as an
# open circle; its burn-in is at least that large. The 1D chapters use a stricter definition
# ($0.01$ and 95 %); it is reported alongside as a check that the trend does not hinge on the choice. The code
# is folded (each cell's toggle shows it); `kaleido_lib/chapters/fig05_two_d.py` holds what only this chapter uses.

# %%
import torch

import kaleido_lib as kl
from kaleido_lib.chapters import fig05_two_d as here

CHAPTER = "fig05_two_d"
FOUR = [[0.2, 0.2], [0.2, 0.8], [0.8, 0.2], [0.8, 0.8]]
PAPER = dict(
    seed=0, n_seeds=20, device="auto", points=FOUR, depth=7, width=50,
    points_a=[[0.5, 0.5]], depth_a=2, width_a=50, depths=[2, 4, 7, 10], widths=[10, 25, 50, 100],
    out_act="sigmoid", epochs=4000, min_epochs=1000, target_loss=1e-8, lr=1e-3, batch_size=None,
    n_samples=1000, n_plot_samples=100, n_runs=10, n_steps=100, eps=0.0, noise="normal",
    eps_noise="normal", tol=0.05, burn_frac=0.9, near_min=0.5, mode_min=0.05, grid_size=101,
    out_dir=None,
)
PROFILES = {  # the ci profile differs from the paper profile only in these values
    "paper": PAPER,
    "ci": dict(PAPER, n_seeds=3, device="cpu", depths=[2, 7], widths=[10, 50], epochs=1000, min_epochs=300,
               n_samples=500, n_plot_samples=30, n_steps=40, grid_size=31),
}
EXTRA = {
    "points_a": kl.config.points_param(),
    "depth_a": kl.config.integer(1),
    "width_a": kl.config.integer(1),
    "depths": kl.config.int_list(1),
    "widths": kl.config.int_list(1),
    "n_runs": kl.config.integer(1),
    "burn_frac": kl.config.number(0.0, strict=True),
    "near_min": kl.config.number(0.0),
    "mode_min": kl.config.number(0.0),
}


def consistent(cfg):
    """Cross-field checks: 2D points, at least two settings per study, full batch, shares and runs in range."""
    for name in ("points", "points_a"):
        pts = getattr(cfg, name)
        if len(pts[0]) != 2:
            raise ValueError(f"parameter {name!r}: this chapter is 2D, allowed a list of [x1, x2] pairs; got {pts}")
    kl.config.check_points_in_range(cfg.points_a, cfg.out_act)
    if len(cfg.points) < 2:
        raise ValueError(f"parameter 'points': allowed at least two 2D points (mode coverage); got {cfg.points}")
    for name in ("depths", "widths"):
        if len(getattr(cfg, name)) < 2:
            raise ValueError(f"parameter {name!r}: allowed at least two values (a trend); got {getattr(cfg, name)}")
    if cfg.batch_size is not None:
        raise ValueError(f"parameter 'batch_size': allowed None (full batch); got {cfg.batch_size}")
    if cfg.n_runs > cfg.n_steps:
        raise ValueError(f"parameter 'n_runs': allowed an integer <= n_steps ({cfg.n_steps}); got {cfg.n_runs}")
    for name in ("burn_frac", "near_min"):
        if getattr(cfg, name) > 1:
            raise ValueError(f"parameter {name!r}: allowed a number in [0, 1]; got {getattr(cfg, name)}")
    if cfg.mode_min * len(cfg.points) > 1:
        raise ValueError(f"parameter 'mode_min': allowed at most 1 / len(points) ({1 / len(cfg.points):.3g}); "
                         f"got {cfg.mode_min}")
    if cfg.n_plot_samples > cfg.n_samples:
        raise ValueError(f"parameter 'n_plot_samples': allowed at most n_samples ({cfg.n_samples}); "
                         f"got {cfg.n_plot_samples}")


torch.set_num_threads(1)  # tiny nets: one CPU thread is fastest, and the numbers do not depend on the core count
# where each claim comes from (results.ORIGINS), declared before anything runs: by claim id or id prefix
ORIGINS = {"default": "paper"}
_before = set(globals())

# %% tags=["parameters"]
profile = "paper"  # "ci" (CPU seconds) or "paper" (the paper's settings)
seed = None  # first seed; seeds are seed, seed+1, ..., seed+n_seeds-1 (each trains one net per setting)
n_seeds = None  # independently initialised networks per setting
device = None  # "auto" (CUDA when available), "cpu" or "cuda"
points = None  # 2D training points of panel (b) and of the burn-in study; the paper: the four corners 0.2 or 0.8
depth = None  # hidden layers of panel (b) (the paper's L), also the depth of the width study; the paper: 7
width = None  # hidden units per layer of panel (b) (the paper's H), also the width of the depth study; the paper: 50
points_a = None  # 2D training points of panel (a); the paper: [[0.5, 0.5]]
depth_a = None  # hidden layers of panel (a); the paper: 2
width_a = None  # hidden units per layer of panel (a); the paper: 50
depths = None  # depths of the burn-in study (increasing), at the given width
widths = None  # widths of the burn-in study (increasing), at the given depth
out_act = None  # output bound: "sigmoid" (0, 1), "tanh" (-1, 1) or "none"
epochs = None  # at most this many epochs (full batch: one Adam step each)
min_epochs = None  # at least this many epochs
target_loss = None  # stop once the training loss is at most this (after min_epochs)
lr = None  # Adam learning rate
batch_size = None  # must stay None: full batch, as in the paper
n_samples = None  # noise points per seed used for every measure
n_plot_samples = None  # noise points drawn in the panels
n_runs = None  # K, the run at which the shares near the data and the mode split are measured
n_steps = None  # sampling runs per noise point for the burn-in (a net never settled gets n_steps + 1)
eps = None  # noise re-injected at each sampling run (0: plain Eq. 2, as in the paper's synthetic runs)
noise = None  # start noise: "normal" or "uniform"
eps_noise = None  # kind of re-injected noise (see kaleido_lib.sampling)
tol = None  # the radius r: a sample within this distance of a training point counts as near the data
burn_frac = None  # burn-in: first run after which this share of the samples stays within tol
near_min = None  # claim 1 passes for a net when at least this share of its samples is near the data
mode_min = None  # claim 2 passes for a net when each training point gets at least this share of the samples
grid_size = None  # grid points per axis for the loss surfaces
out_dir = None  # where results/ and figures/ go (None: the book folder)

# %%
ch = kl.chapter.start(CHAPTER, here.TITLE, globals(), PROFILES, before=_before, extra=EXTRA, checks=[consistent])
cfg = ch.cfg
dev = kl.utils.get_device(cfg.device)
Xa, Xb = torch.tensor(cfg.points_a), torch.tensor(cfg.points)
low, high = kl.models.output_range(cfg.out_act)
seeds = kl.config.seeds(cfg)
st = here.study(cfg)
b_key = st.b_key
print(f"profile={cfg.profile}  device={dev}  seeds={seeds[0]}..{seeds[-1]}\n"
      f"(a) points={cfg.points_a} L={cfg.depth_a} H={cfg.width_a}\n"
      f"(b) points={cfg.points} L={cfg.depth} H={cfg.width}\n"
      f"burn-in study on the (b) points: L in {cfg.depths} at H={cfg.width}, H in {cfg.widths} at L={cfg.depth}")

# %% [markdown]
# ## Manifold learning: every setting over all seeds
#
# One ensemble per shape: panel (a)'s net on its single point, and every (depth, width) of the burn-in
# study on the four points; panel (b)'s net is the study's $(L, H) = (7, 50)$ ({numref}`fig05-loss`).

# %%
ens = here.train_all(cfg, seeds, Xa, Xb, st)
trained = {key: r.reached_target.cpu() for key, r in ens.items()}
for key, r in ens.items():
    print(f"{here.label(key, cfg):>16}: {int(trained[key].sum())}/{len(seeds)} reached loss <= {cfg.target_loss:g}; "
          f"epochs run {kl.results.spread(r.epochs_run.cpu()).text('.0f')}; "
          f"best loss {kl.results.spread(r.best_loss.cpu()).text('.1e')}")
ch.show(here.training_loss_figure(ens, cfg), "training_loss")
ch.glue("n_seeds", len(seeds))

# %% [markdown]
# ```{glue:figure} training_loss
# :name: fig05-loss
# :alt: A grid of small panels of training loss against epochs, one per network shape, one line per seed.
#
# Training loss of every shape, {glue:text}`n_seeds` seeds each; the dotted line is the target loss.
# ```
#
# ## Sampling from every net
#
# Each seed draws its noise points once; every net of that seed samples from them for `n_steps` runs
# (`here.sample_all`). Kept per net: the share of samples near the data after every run, the split of the
# samples over the training points after $K$ runs, and the burn-in under both definitions.

# %%
M, keep = here.sample_all(ens, cfg, seeds, Xa, Xb, b_key, dev)

# %% [markdown]
# ## Figure 5: the loss surfaces with the noise and the samples
#
# {numref}`fig05-main` shows, for the first seed, the loss $\lVert x - f(x) \rVert^2 / 2$ over $[0, 1]^2$ as a
# surface, with `n_plot_samples` noise points (red) and the samples they give after $K$ runs (green) drawn at
# their loss; the training points are black crosses.

# %%
grid = kl.measures.grid_2d(low, high, cfg.grid_size).to(dev)
fns = {"a": ens["a"].forward_fn(0), "b": ens[b_key].forward_fn(0)}
loss_fns = {k: (lambda x, f=f: kl.measures.loss_manifold(f, x)) for k, f in fns.items()}
surf = {k: loss_fns[k](grid).cpu() for k in fns}
trajs = {"a": keep["a"][:, : cfg.n_plot_samples], "b": keep[b_key][:, : cfg.n_plot_samples]}
data = {"a": Xa, "b": Xb}
titles = {"a": f"(a) L={cfg.depth_a}, H={cfg.width_a}: one point",
          "b": f"(b) L={cfg.depth}, H={cfg.width}: {len(cfg.points)} points"}
ch.show(here.surfaces_figure(grid, surf, data, loss_fns, trajs, {k: f"{t}, seed {seeds[0]}" for k, t in titles.items()},
                             cfg), "figure5")
ch.glue("n_runs", cfg.n_runs)

# %% [markdown]
# ## The same in the plane
#
# {numref}`fig05-plane`, left: the loss on a log scale with the paths of the plotted noise points over $K$ runs.
# Then the positions of the noise (red) and of the samples (green) after a few runs, with the radius $r$ drawn
# around each training point.

# %%
ch.show(here.plane_figure(grid, surf, data, trajs, titles, {"a": M["a"]["near"][0], "b": M[b_key]["near"][0]}, cfg),
        "views_2d")

# %% [markdown]
# ```{glue:figure} views_2d
# :name: fig05-plane
# :alt: Contour maps of the log loss with sample paths, and scatter plots of noise and samples after a few runs.
#
# Top (a), bottom (b): the log loss with the paths of the plotted noise over $K$ runs, then the noise (red) and
# the samples (green) after 1, 3 and $K$ runs; circles of radius $r$ around the training points.
# ```
#
# ## Claims 1 and 2: samples near the data, and every training point reached
#
# {numref}`fig05-near`: the share of each net's samples near the data after every run (one thin line per seed,
# the median thick); run 0 is the noise itself, the share that chance alone gives. Then, for (b), how the
# samples after $K$ runs split over the training points; "none" is the share not yet near any of them.

# %%
names = [f"({p[0]:g}, {p[1]:g})" for p in cfg.points] + ["none"]
ch.show(here.near_and_modes_figure(M, b_key, titles, names, cfg), "near_data_and_modes")
cover = (M[b_key]["split"][:, :-1] >= cfg.mode_min).all(dim=1)
ch.glue("near_a", float(M["a"]["near"][:, cfg.n_runs].quantile(0.5)))
ch.glue("near_b", float(M[b_key]["near"][:, cfg.n_runs].quantile(0.5)))
ch.glue("cover_b", int(cover.sum()))

# %% [markdown]
# ```{glue:figure} near_data_and_modes
# :name: fig05-near
# :alt: Curves of the share near the data rising over the runs for (a) and (b), and bars of the split over points.
#
# Left and middle: the share of samples within $r$ of a training point after each run, for (a) and (b) (thin:
# seeds; thick: median; dotted: $K$; dashed: the criterion). Right: (b)'s samples after $K$ runs split over the
# four points (bars: medians; error bars: quartiles; dots: seeds).
# ```
#
# ## Claim 3: burn-in against the size of the network
#
# {numref}`fig05-burn`: every net's burn-in (dots; open red circles: censored at `n_steps` + 1) and the median
# per setting, on log axes. Middle: $B \cdot L$, which stays constant if the burn-in is inversely proportional to
# the depth (the censored nets sit at the top).

# %%
tr = here.trends(M, st, cfg)
ch.show(here.burn_in_figure(tr.burn_depth, tr.burn_width, cfg), "burn_in_vs_size")

# %% [markdown]
# ```{glue:figure} burn_in_vs_size
# :name: fig05-burn
# :alt: Dots of burn-in against depth and width with medians, and the product of burn-in and depth.
#
# Burn-in against the depth $L$ (left; width {glue:text}`width`), $B \cdot L$ against $L$ (middle), and burn-in
# against the width $H$ (right; depth {glue:text}`depth`); open circles: nets whose burn-in is censored.
# ```
#
# %% [markdown]
# **The rule for the trends.** Over all nets of a study (every seed at every setting), Spearman's rank
# correlation $\rho$ between the size (depth or width) and the burn-in, with a one-sided permutation
# test (10,000 permutations; censored nets enter with $B$ = `n_steps` + 1, which ranks them last, as
# their true burn-in would). The claim that burn-in falls with the size **holds** when $\rho < 0$ with
# $p < 0.05$ and the median burn-in never rises from one setting to the next; **partly** when $\rho < 0$
# with $p < 0.05$ but the medians are not monotone; it **fails** otherwise. Per seed (the nets one seed
# gives at every setting) the same correlation is shown as the spread, and the share of seeds with
# $\rho < 0$ as the share passing.
#
# "Inversely proportional" is stricter: $B \propto 1/L$, a slope of $-1$ of $\log B$ against $\log L$.
# The slope is fitted to the median burn-ins; the claim **holds** for a slope in $[-1.25, -0.75]$, is met
# **partly** when the slope is negative but outside that band (burn-in falls, but not as $1/L$), and
# **fails** for a slope $\ge 0$. The spread is that of the per-seed slopes, the share passing that of
# seeds whose slope lies in the band.

# %%
censored = cfg.n_steps + 1
for name, settings, burn, sets in (("depth L", cfg.depths, tr.burn_depth, st.depth_settings),
                                   ("width H", cfg.widths, tr.burn_width, st.width_settings)):
    t = tr.T[name.split()[0]]
    print(f"burn-in against {name}:")
    for v, b, key in zip(settings, burn, sets):
        print(f"  {v:>4}: B = {kl.results.spread(b).text('.3g')}, censored {int((b >= censored).sum())}, "
              f"trained {int(trained[key].sum())}/{len(seeds)}")
    print(f"  pooled Spearman rho = {t.rho:.2f} (one-sided permutation p = {t.p:.2g}); medians "
          f"{[round(float(m), 1) for m in t.median]} {'never rise' if t.falls else 'are not monotone'}")
print(f"B x L medians over depths {cfg.depths}: {[round(float(m), 1) for m in tr.BL.quantile(0.5, dim=1)]}; "
      f"log-log slope of the median burn-in against L: {tr.slope_median:.2f} (1/L would give -1)")
for name in ("depth", "width"):
    t = tr.T_strict[name]
    print(f"stricter burn-in ({here.STRICT[0]:g}, {here.STRICT[1]:.0%}) against {name}: medians "
          f"{[round(float(m), 1) for m in t.median]}, rho = {t.rho:.2f}, p = {t.p:.2g}")
ch.glue("depths", ", ".join(map(str, cfg.depths)))
ch.glue("widths", ", ".join(map(str, cfg.widths)))
ch.glue("burn_depth", ", ".join(f"{float(m):.0f}" for m in tr.T["depth"].median))
ch.glue("burn_width", ", ".join(f"{float(m):.0f}" for m in tr.T["width"].median))
ch.glue("rho_depth", tr.T["depth"].rho)
ch.glue("width", cfg.width)
ch.glue("depth", cfg.depth)

# %%
# NBVAL_CHECK_OUTPUT
# Key numbers against the stored ci reference (kaleido_lib.check); tolerances from the spread measured under
# thread counts, vector kernels, MKL paths and oneDNN off (tests/reference/spread.json) and a Xeon's earlier run.
ci_check = kl.check.Checker(CHAPTER, cfg)
ci_check.close("nets reaching the target loss", {here.label(k, cfg): int(v.sum()) for k, v in trained.items()}, atol=1,
               why="counts of nets under a loss cut-off: one may cross it on another CPU (none did when measured)")
ci_check.close("median share near the data after K runs, (a) and (b)",
               [float(M["a"]["near"][:, cfg.n_runs].quantile(0.5)), float(M[b_key]["near"][:, cfg.n_runs].quantile(0.5))],
               atol=0.05, why="no spread measured, the same on a Xeon; the cut-off (0.5) is 0.4 away")
ci_check.close("seeds with every training point covered in (b)", int(cover.sum()), atol=1,
               why="a count under a share cut-off: one seed may cross it on another CPU (none did when measured)")
ci_check.close("median burn-in per depth", tr.T["depth"].median, atol=2,
               why="run counts at a 90 % cut-off: no spread measured, the same on a Xeon; 2 runs of slack")
ci_check.close("median burn-in per width", tr.T["width"].median, atol=2,
               why="run counts at a 90 % cut-off: no spread measured, the same on a Xeon; 2 runs of slack")
ci_check.close("pooled Spearman rho, depth and width", [tr.T["depth"].rho, tr.T["width"].rho], atol=0.1,
               why="no spread measured; a rank statistic of a few burn-ins, which moves in steps when one burn-in moves")
ci_check.report()

# %% [markdown]
# ## Verdicts
#
# Verdicts of this run: {glue:text}`verdicts`.

# %%
claims = here.claims(ch, ens, M, tr, st, trained, cover, names)
ch.glue_verdicts(claims)
ch.finish(claims, ORIGINS)
