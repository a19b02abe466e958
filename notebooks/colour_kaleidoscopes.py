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
# # CIFAR-10 and CelebA kaleidoscopes
#
# **The claim.** The later versions of the paper carry the MNIST kaleidoscope over to colour images: an MLP
# trained to reconstruct 1000 CIFAR-10 dog images, or 1000 CelebA faces, turns uniform noise into images of the
# set when applied again and again (Eq. 2), after a burn-in, as for MNIST; for CelebA the transitions between
# samples are "jumpy". The paper shows pictures; here each statement becomes a number: how close the samples come
# to the training images (against real images the network never saw), how many are near-copies, how varied they
# are, whether the chain settles, and how often a sample jumps between training images after the burn-in.
#
# :::{admonition} Findings of this run
# :class: tip
# Data sets found: {glue:text}`found`. After the last run ({glue:text}`n_steps`):
#
# | | CIFAR-10 | CelebA |
# |---|---|---|
# | training images | {glue:text}`cifar10_data` | {glue:text}`celeba_data` |
# | median distance to the nearest training image: samples vs reference images | {glue:text}`cifar10_dist` | {glue:text}`celeba_dist` |
# | near-copies among the samples | {glue:text}`cifar10_copies` | {glue:text}`celeba_copies` |
# | distinct nearest training images, of the samples | {glue:text}`cifar10_distinct` | {glue:text}`celeba_distinct` |
# | distance between two samples / between two training images | {glue:text}`cifar10_variety` | {glue:text}`celeba_variety` |
# | samples jumping per interval after the burn-in | {glue:text}`cifar10_jumps` | {glue:text}`celeba_jumps` |
#
# Verdicts: {glue:text}`verdicts`.
#
# ```{glue:md} findings_table
# :format: myst
# ```
# :::
#
# ```{glue:figure} cifar10_grid
# :name: colour-grid
# :alt: Rows of colour image grids: CIFAR-10 samples from noise at run 0 to the images they settle on.
#
# The paper's CIFAR-10 grid: the same {glue:text}`n_cells` samples at runs {glue:text}`grid_runs`, from uniform
# noise at run 0 onwards (a one-line note instead when the CIFAR-10 data was not supplied).
# ```
#
# **The setting (paper profile).** For each set, the first 1000 images: CIFAR-10's training images of the class
# `dog` (32×32×3), and CelebA images centre-cropped to a square and resized to 32×32; pixels scaled to $[-1, 1]$.
# An MLP with $L = 10$ hidden layers of $H = 2000$ ReLU units and a Tanh output, $D = 3072$ inputs and outputs
# (48.3 million parameters); Adam, learning rate $10^{-4}$, 10,000 steps on batches of 1000 random images.
# Sampling as in the MNIST chapter: 1000 points of $U(-1, 1)^{D}$ noise, 300 runs of
# $x^k = \mathrm{clip}\big(f(x^{k-1}) + \varepsilon\,\eta_k, -1, 1\big)$, $\varepsilon = 0.01$,
# $\eta_k \sim \mathcal{N}(0, I)$; the grid follows 48 samples across runs 0, 1, 5, 9, 13, 30, 100 and 300. Not
# in the paper: the held-out images (the reference for "close"), the measures below and their thresholds.
#
# **The data must be supplied.** No copy of CIFAR-10 or CelebA ships with this book: put the CIFAR-10 "python version"
# batches in `data/cifar-10-batches-py/` and CelebA images (e.g. `img_align_celeba`) in `data/celeba/`
# (`data/README.md`), or pass their folders as settings, `cifar_dir="/path/to/cifar-10-batches-py"` and
# `celeba_dir="/path/to/celeba"`. An absent set is reported, its figures become a note; it has no claims.
#
# **Compute.** The paper profile needs a GPU: one Adam step of the 48-million-parameter network on 1000 images
# took about 5 s on the book's two CPU cores (three timed steps), so 10,000 steps take some 14 hours per set there;
# at $6 \times 48\,\text{M} \times 1000 \approx 3 \times 10^{11}$ operations per step a data-centre GPU should
# need minutes (estimated, not measured). Trained weights are cached under `data/cache/models/`, keyed by the exact
# pixels and every setting (`retrain=True` trains again). The `ci` profile uses a tiny network and few images.

# %%
import torch

import kaleido_lib as kl
from kaleido_lib.chapters import colour_kaleidoscopes as here

SETS = here.SETS
_before = set(globals())

# %% tags=["parameters"]
profile = "paper"  # "ci" (CPU seconds) or "paper" (the paper's settings)
seed = None  # seed of both networks and their noise
device = None  # "auto" (CUDA when available), "cpu" or "cuda"
cifar_dir = None  # folder with the CIFAR-10 python batches (None: <repo>/data/cifar-10-batches-py)
cifar_classes = None  # CIFAR-10 class names whose images are used; the paper: ["dog"]
celeba_dir = None  # folder of CelebA images, searched recursively (None: <repo>/data/celeba)
image_size = None  # CelebA images are centre-cropped and resized to image_size x image_size
n_images = None  # training images per set (the first n); the paper: 1000
depth = None  # hidden layers L; the paper: 10
width = None  # hidden units H per layer; the paper: 2000
out_act = None  # output bound: "tanh" (images in [-1, 1], the paper) or "sigmoid" ([0, 1])
lr = None  # Adam learning rate; the authors: 1e-4
batch_size = None  # images per step, drawn at random; the authors: 1000
steps = None  # Adam steps; the authors: 10,000
retrain = None  # True: train again even if the cache holds the network
n_samples = None  # noise points sampled per set; the authors: 1000
noise = None  # start noise: "uniform" (the paper) or "normal"
eps = None  # re-injected noise; the paper: 0.01
eps_noise = None  # kind of re-injected noise (see kaleido_lib.sampling)
n_steps = None  # sampling runs; the paper: 300
grid_runs = None  # runs shown in the grid figure (the last must equal n_steps)
n_cells = None  # samples followed in the grid and the animation; the paper: 48
gif_step = None  # the animation shows every run up to 30, then every gif_step-th
copy_quantile = None  # near-copy: closer to a training image than this quantile of held-out images are
out_dir = None  # where results/ and figures/ go (None: the book folder)

# %%
ch = kl.book.chapter.start(here.CHAPTER, here.TITLE, globals(), here.Settings, before=_before)
cfg = ch.cfg
dev = kl.utils.get_device(cfg.device)
print(
    f"profile={cfg.profile}  device={dev}  torch threads={torch.get_num_threads()}  seed={cfg.seed}\n"
    f"network: L={cfg.depth} H={cfg.width} {cfg.out_act}, {cfg.steps} steps of {cfg.batch_size} images, lr {cfg.lr:g}\n"
    f"data: the first {cfg.n_images} images of CIFAR-10 {cfg.cifar_classes} and of CelebA at {cfg.image_size} px\n"
    f"sampling: {cfg.n_samples} {cfg.noise} noise points, {cfg.n_steps} runs, eps={cfg.eps:g} ({cfg.eps_noise})"
)

# %% [markdown]
# ## The data
#
# `kaleido_lib.data.load_cifar10` reads the CIFAR-10 batches (numpy arrays only, through a restricted unpickler) and
# keeps the chosen classes; the test batch's images of those classes are held out. `load_image_folder` reads every
# `.png`/`.jpg` under the CelebA folder in sorted order; the images after the first {glue:text}`cfg_n_images` (up to
# as many again) are held out. An absent set is reported here, not raised.

# %%
loaded = here.load_sets(cfg, kl.utils.repo_root())
DATA, found = loaded.sets, loaded.found
print("\n".join(loaded.lines))
ch.glue("found", ", ".join(SETS[k] for k in found) or "none (no claim can be tested)")

# %% [markdown]
# ## The procedure
#
# Each set is trained (or loaded from the cache), samples one chain from seeded noise, and is measured per kept run:
#
# - the per-run change $\lVert x^k - x^{k-1} \rVert$, averaged over the samples (every run);
# - each sample's distance to its nearest training image, and which image that is;
# - the reference: each held-out image's distance to its nearest training image (without held-out images, each
#   training image's distance to its nearest *other* one);
# - near-copies: samples closer to a training image than the {glue:text}`cfg_copy_quantile` quantile of that
#   reference;
# - variety: the median distance between two samples against that between two training images (a chain that
#   sends every point to one blurred average image is close to the training set, but fails this test);
# - jumpiness: after the burn-in (the first {glue:text}`burn` runs, a third) the runs are kept at a stride of {glue:text}`stride`;
#   a sample *jumps* between two kept runs when its nearest training image changes *and* it moves at least half the
#   median reference distance (a flip of the nearest image under the $\varepsilon$ noise alone is counted apart).

# %%
runs = here.sampling_runs(cfg)
here.glue_settings(ch, cfg, runs)

# %% [markdown]
# ## CIFAR-10: dogs
#
# {numref}`colour-grid` (at the top) follows the first {glue:text}`cfg_n_cells` samples across the runs the paper
# shows, and {numref}`colour-cifar10-gif` animates them. {numref}`colour-cifar10-measures` gives the training loss and
# how the chain moves and stays from the training set. {numref}`colour-cifar10-pairs` sets the first 16 samples beside
# their nearest training images, which tells a new image from a copy or a blur.

# %%
R = here.run_set(ch, "cifar10", loaded, cfg, runs, dev)

# %% [markdown]
# ```{glue:figure} cifar10_animation
# :name: colour-cifar10-gif
# :alt: An animation of the CIFAR-10 grid's samples changing from noise over the sampling runs.
#
# The CIFAR-10 grid's samples over the sampling runs: every run up to 30, then every {glue:text}`gif_step` runs.
# ```
#
# ```{glue:figure} cifar10_measures
# :name: colour-cifar10-measures
# :alt: Four curves: training loss, per-run movement, distance to the training set and share of near-copies.
#
# CIFAR-10: the training loss per step; over the {glue:text}`n_steps` sampling runs, how far the samples move per
# run, their median distance to the nearest training image (dashed: the held-out images') and the share of
# near-copies.
# ```
#
# ```{glue:figure} cifar10_nearest
# :name: colour-cifar10-pairs
# :alt: Two rows of small colour images: CIFAR-10 samples on top, their nearest training images below.
#
# CIFAR-10 samples after run {glue:text}`n_steps` (top) and the training images nearest to them (bottom).
# ```
#
# ## CelebA: faces
#
# The same procedure on CelebA faces, {numref}`colour-celeba-grid` to {numref}`colour-celeba-pairs`. The paper
# calls this set's transitions "jumpy"; the next section counts the jumps.

# %%
R |= here.run_set(ch, "celeba", loaded, cfg, runs, dev)

# %% [markdown]
# ```{glue:figure} celeba_grid
# :name: colour-celeba-grid
# :alt: Rows of colour image grids: CelebA samples from noise at run 0 to the faces they settle on.
#
# The paper's CelebA grid: the same {glue:text}`n_cells` samples at runs {glue:text}`grid_runs`.
# ```
#
# ```{glue:figure} celeba_animation
# :name: colour-celeba-gif
# :alt: An animation of the CelebA grid's samples changing from noise over the sampling runs.
#
# The CelebA grid's samples over the sampling runs: every run up to 30, then every {glue:text}`gif_step` runs.
# ```
#
# ```{glue:figure} celeba_measures
# :name: colour-celeba-measures
# :alt: Four curves: training loss, per-run movement, distance to the training set and share of near-copies.
#
# CelebA: the training loss per step; over the {glue:text}`n_steps` sampling runs, how far the samples move per
# run, their median distance to the nearest training image (dashed: the reference images') and the share of
# near-copies.
# ```
#
# ```{glue:figure} celeba_nearest
# :name: colour-celeba-pairs
# :alt: Two rows of small face images: CelebA samples on top, their nearest training images below.
#
# CelebA samples after run {glue:text}`n_steps` (top) and the training images nearest to them (bottom).
# ```
#
# ## Jumpy transitions: CIFAR-10 against CelebA
#
# {numref}`colour-jumps`: the share of samples that jump between consecutive kept runs after the burn-in, for
# each set that was run. A chain that settles on one training image per sample gives 0; a "jumpy" one does not.

# %%
here.show_jumps(ch, R, runs)

# %% [markdown]
# ```{glue:figure} jumpiness
# :name: colour-jumps
# :alt: Lines per data set: the share of samples jumping between training images in each interval after the burn-in.
#
# Solid: the share of samples that jump in each interval of {glue:text}`stride` run(s) after run {glue:text}`burn`;
# dashed: the share whose nearest training image changes, moving or not.
# ```

# %%
# NBVAL_CHECK_OUTPUT
# In the ci profile no colour data is given, so the chapter says so and samples nothing.
ci_check = kl.book.check.Checker(here.CHAPTER, cfg)
ci_check.exact("data sets found", [SETS[k] for k in found])
ci_check.exact("training images and side in px", {SETS[k]: [len(DATA[k]["train"]), R[k].side] for k in found})
ci_check.exact("sampling runs kept for the jump measure", len(runs.jruns))
ci_check.report()

# %% [markdown]
# ## Verdicts
#
# Per set: the samples lie **near the data** when their median distance to the nearest training image is at most
# the reference images' (1.5 times: partly); they are **new** when at most 10 % are near-copies (half: partly);
# **varied** when two samples lie at least half as far apart as two training images (a quarter: partly); the chain
# **settles** when its last tenth of runs moves at most a tenth of run 1 (half: partly). CelebA is **jumpy** when
# at least 5 % of its samples jump per interval and more than CIFAR-10's (one of the two: partly). One network and
# one seed per set: no spread over seeds; more images, another seed or the paper's 10,000 steps may change the
# verdicts. A set not run has no claims. Verdicts of this run: {glue:text}`verdicts`.

# %%
claims = here.claims(R, cfg, runs)
if claims:
    ch.glue_verdicts(claims)
else:
    ch.glue_no_verdicts("no data set was found")
ch.finish(claims, origins={}, skipped=here.skipped(R))

# %% [markdown]
# ```{glue:md} verdicts_table
# :format: myst
# ```
