"""Attractors of the MNIST kaleidoscope: residuals, spectral radii and where chains end, on training and test
images of the MNIST chapter's networks; figures and claims."""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import matplotlib.pyplot as plt
import torch
from torch import nn
from tqdm import tqdm

from .. import attractors, measures, plots, results

TITLE = "Attractors of the MNIST kaleidoscope"


@dataclass
class Examined:
    """Per image: the residual ||f(x) - x||, the spectral radius of J_f(x) and the end of the plain chain from x."""

    residual: torch.Tensor
    rho: torch.Tensor
    end: torch.Tensor


def examine(f: nn.Module, x: torch.Tensor, power_iters: int, n_steps: int, chunk: int = 250) -> Examined:
    """Residual, spectral radius (power iteration with JVPs) and where the plain chain from each row of x ends."""
    res, rho, home = [], [], []
    for i in range(0, x.shape[0], chunk):
        xb = x[i : i + chunk]
        with torch.no_grad():
            res.append((f(xb) - xb).norm(dim=1).cpu())
        rho.append(attractors.spectral_radius_power(f, xb, iters=power_iters,
                                                    generator=torch.Generator().manual_seed(2 + i)).cpu())
        end = xb
        with torch.no_grad():
            for _ in range(n_steps):
                end = f(end)
        home.append(end.cpu())
    return Examined(torch.cat(res), torch.cat(rho), torch.cat(home))


def attracting(e: Examined, nearest: torch.Tensor, fixed_frac: float) -> torch.Tensor:
    """Attracting fixed points: rho < 1 and a residual below ``fixed_frac`` x the distance to the nearest other
    training image (``nearest``, one per image)."""
    return (e.residual < fixed_frac * nearest.cpu()) & (e.rho < 1)


def histograms_figure(tr: Examined, te: Examined, near_tr: torch.Tensor, near_te: torch.Tensor,
                      fixed_frac: float) -> plt.Figure:
    """The residual over the distance to the nearest other training image, and the spectral radius, training
    against test images."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.6), layout="constrained")
    plots.distance_histograms(axes[0], {"training images": tr.residual / near_tr.cpu(),
                                        "test images": te.residual / near_te.cpu()},
                              vline=fixed_frac, vline_label="fixed_frac")
    axes[0].set_xlabel("||f(x) - x|| / distance to the nearest other training image")
    plots.distance_histograms(axes[1], {"training images": tr.rho, "test images": te.rho}, vline=1.0,
                              vline_label="rho = 1")
    axes[1].set_xlabel("spectral radius of J_f(x) (power iteration)")
    return fig


def images_figure(images: torch.Tensor, once: torch.Tensor, end: torch.Tensor) -> plt.Figure:
    """Training images (top), f applied once (middle) and the end of the plain chain (bottom), in [-1, 1]."""
    k = images.shape[0]
    rows = torch.cat([images.cpu(), once.cpu(), end.cpu()])
    fig, ax = plt.subplots(figsize=(10, 2.2), layout="constrained")
    ax.imshow(plots.mosaic(((rows + 1) / 2).clamp(0, 1), cols=k), cmap="gray", vmin=0, vmax=1)
    ax.set_axis_off()
    return fig


def sweep_figure(W: dict[str, torch.Tensor], depths: list[int]) -> plt.Figure:
    """Per depth of the sweep: training images where f contracts (rho < 1), median rho, chains that return home."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.6), layout="constrained")
    for ax, key, ylabel in zip(axes, ("rho_below_1_train", "rho_train", "returns"),
                               ("share of training images with rho < 1", "median rho at training images",
                                "share of chains that return home")):
        plots.sweep_points(ax, depths, W[key], xlabel="hidden layers L", ylabel=ylabel)
    return fig


def claims(cfg: SimpleNamespace, tr: Examined, te: Examined, fixed_tr: torch.Tensor, fixed_te: torch.Tensor,
           returns_tr: torch.Tensor, W: dict[str, torch.Tensor], sweep_seeds: list[int],
           check: torch.Tensor | None, near_tr: torch.Tensor) -> list[results.Claim]:
    """Training images attract (rho(J) < 1); more than test images; more with depth; and the power iteration's
    accuracy. The first two are judged on shares of images (one network), the third on the sweep's trend; the
    residual criterion is each one's declared alternative."""
    sp = results.spread
    share_tr, share_te = float(fixed_tr.double().mean()), float(fixed_te.double().mean())
    rho_tr, rho_te = float((tr.rho < 1).double().mean()), float((te.rho < 1).double().mean())
    gap, gap_old = rho_tr - rho_te, share_tr - share_te
    gap_level = lambda g: "holds" if g >= 0.5 else "partly" if g > 0.1 else "fails"  # noqa: E731
    old_rule = (f"rho < 1 and ||f(x) - x|| < {cfg.fixed_frac:g} x the distance to the nearest other training image "
                "(this book's earlier criterion; the residual measures reconstruction error as much as attraction)")
    T_depth = measures.trend(cfg.sweep_depths, 1 - W["rho_below_1_train"], n_perm=10_000)
    out = [
        results.Claim(
            id="training_images_attract", claim="Training images are attracting fixed points of the MNIST network",
            paper="over-generalization: inputs are mapped close to the training images (mechanism of the kaleidoscope)",
            measure=f"share of {cfg.n_points} training images where f is contracting: rho(J_f(x)) < 1",
            measured=sp((tr.rho < 1).double()), criterion=">= 0.9 of the images (>= 0.5: partly)", share_pass=rho_tr,
            verdict=results.verdict_from_share(rho_tr),
            notes=(f"The residual ||f(x) - x|| is a separate measure (median {tr.residual.median():.2f}, against "
                   f"{cfg.fixed_frac:g} x a median nearest-neighbour distance of {near_tr.median():.2f}): at the "
                   "authors' loss it is reconstruction error, not a test of attraction. Chains started at a "
                   f"training image end nearest to it after {cfg.n_steps} runs: {returns_tr.mean():.1%}."),
            extra={"residual": sp(tr.residual), "rho": sp(tr.rho), "returns_home": float(returns_tr.mean()),
                   "share_rho_and_residual": share_tr},
            alternatives={old_rule: {"share_pass": share_tr, "verdict": results.verdict_from_share(share_tr)}}),
        results.Claim(
            id="train_not_test_attract",
            claim="Training images are attracting fixed points far more often than test images",
            paper="(the mechanism implies it: only training images are memorised)",
            measure="share of training images minus share of test images with rho(J) < 1",
            measured=sp([gap]), criterion=">= 0.5 (> 0.1: partly)", share_pass=float(gap >= 0.5),
            verdict=gap_level(gap),
            notes=(f"Test images: {rho_te:.1%} with rho < 1, rho median {te.rho.median():.3f}, residual median "
                   f"{te.residual.median():.2f}."),
            extra={"residual": sp(te.residual), "rho": sp(te.rho), "gap_rho_and_residual": gap_old},
            alternatives={old_rule: {"share_pass": float(gap_old >= 0.5), "verdict": gap_level(gap_old)}}),
        results.trend_claim(
            "more_attractors_with_depth",
            f"Deeper networks have more attracting training images (L in {cfg.sweep_depths})",
            "the effect is more prominent as depth increases",
            "the share of training images with rho(J) >= 1", "L", T_depth,
            extra={k: v for k, v in W.items()} | {"depths": cfg.sweep_depths, "seeds": sweep_seeds}),
    ]
    if check is not None:
        out.append(results.Claim(
            id="power_iteration_agrees", claim="Power iteration with JVPs gives the exact spectral radius",
            paper="(not in the paper: this book's instrument)", measure="relative difference to the exact eigenvalues",
            measured=sp(check), criterion="<= 5 % on every checked image (<= 20 %: partly)",
            share_pass=float((check <= 0.05).double().mean()),
            verdict="holds" if bool((check <= 0.05).all()) else "partly" if bool((check <= 0.2).all()) else "fails"))
    return out


def sweep_table(W: dict[str, torch.Tensor], depths: list[int]) -> str:
    """One line per depth: attracting fixed points (training, test), median rho, chains that return home."""
    t = lambda v, f: results.spread(v).text(f)  # noqa: E731
    return "\n".join(f"L={L:>2}: attracting fixed points: training {t(W['fixed_train'][a], '.2f')}, test "
                     f"{t(W['fixed_test'][a], '.2f')}; median rho training {t(W['rho_train'][a], '.3f')}, test "
                     f"{t(W['rho_test'][a], '.3f')}; chains return home {t(W['returns'][a], '.2f')}"
                     for a, L in enumerate(depths))


def sweep_measures(sweep: dict[tuple[int, int], Any], depths: list[int], seeds: list[int], x_tr: torch.Tensor,
                   x_te: torch.Tensor, pick_tr: torch.Tensor, near_tr: torch.Tensor, near_te: torch.Tensor,
                   Xtr: torch.Tensor, cfg: SimpleNamespace) -> dict[str, torch.Tensor]:
    """(depths x seeds) tables over the sweep's networks: attracting training / test images, median rho, returns."""
    W = {k: torch.full((len(depths), len(seeds)), float("nan"), dtype=torch.float64)
         for k in ("fixed_train", "fixed_test", "rho_train", "rho_test", "returns", "rho_below_1_train")}
    n = x_tr.shape[0]
    for a, L in enumerate(tqdm(depths, desc="depths")):
        for b, s in enumerate(seeds):
            m = sweep[(L, s)].model
            e1 = examine(m, x_tr, cfg.power_iters, cfg.n_steps)
            e2 = examine(m, x_te, cfg.power_iters, cfg.n_steps)
            _, nn1 = measures.nearest_neighbours(e1.end.to(Xtr.device), Xtr)
            W["fixed_train"][a, b] = float(attracting(e1, near_tr[:n], cfg.fixed_frac).double().mean())
            W["rho_below_1_train"][a, b] = float((e1.rho < 1).double().mean())
            W["fixed_test"][a, b] = float(attracting(e2, near_te[:n], cfg.fixed_frac).double().mean())
            W["rho_train"][a, b], W["rho_test"][a, b] = float(e1.rho.median()), float(e2.rho.median())
            W["returns"][a, b] = float((nn1 == pick_tr[:n]).double().mean())
    return W
