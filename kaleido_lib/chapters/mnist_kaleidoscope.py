"""The MNIST kaleidoscope: sampling chains, their quality under the judge, the ε and noise variants, the depth
sweep, the figures and the claims."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import matplotlib.pyplot as plt
import torch
from torch import nn
from tqdm import tqdm

from .. import experiments, measures, plots, results, sampling

TITLE = "The MNIST kaleidoscope"
AUTHORS_LOSS = ((0, 0.93, "authors: 0.93 at the start"), (10_000, 0.064, "authors: 0.064 near 10,000"))
Classify = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def chain(model: nn.Module, cfg: SimpleNamespace, dim: int, noise: str, eps: float, eps_noise: str, keep: list[int],
          n: int, device: torch.device, seed_offset: int = 0) -> sampling.Snapshots:
    """One sampling chain of ``n`` points from fixed seeds (start noise 10,000 + seed + offset, ε noise 20,000 + seed
    + offset); snapshots at the runs ``keep``."""
    g = torch.Generator().manual_seed(10_000 + cfg.seed + seed_offset)
    z = sampling.start_noise(n, dim, noise, cfg.out_act, g).to(device)
    return sampling.sampling_snapshots(model, z, keep, out_act=cfg.out_act, eps=eps, eps_noise=eps_noise,
                                       generator=torch.Generator().manual_seed(20_000 + cfg.seed + seed_offset),
                                       progress=True)


def variants(cfg: SimpleNamespace) -> dict[str, tuple[str, float, str]]:
    """The chains compared in the dynamics section: each ε of `eps_values`, normal start noise, the authors' η."""
    out = {f"eps={e:g}": (cfg.noise, e, cfg.eps_noise) for e in cfg.eps_values}
    out["normal start"] = ("normal", cfg.eps, cfg.eps_noise)
    out["authors' uniform eta"] = (cfg.noise, cfg.eps, "authors_uniform")
    return out


def run_variants(f: nn.Module, snap: sampling.Snapshots, vruns: list[int], late: int, classify: Classify,
                 Xtr: torch.Tensor, copy_threshold: float, cfg: SimpleNamespace, device: torch.device) -> dict[str, dict]:
    """Every variant's chain (the main one reused), its quality at the runs ``vruns``, its per-run movement, the
    share of samples whose class or nearest training image changes between run ``late`` and the last, and the
    classes covered."""
    main_name = f"eps={cfg.eps:g}"
    V = {}
    for name, (nz, e, en) in tqdm(variants(cfg).items(), desc="sampling variants"):
        s = snap if name == main_name else chain(f, cfg, Xtr.shape[1], nz, e, en, vruns, cfg.n_samples, device)
        pos = {r: i for i, r in enumerate(s.runs)}
        q = measures.sample_quality(s.x[[pos[r] for r in vruns]], vruns, classify, Xtr,
                                    conf_threshold=cfg.conf_threshold, copy_threshold=copy_threshold)
        i_late = vruns.index(late)
        moved = ((q.pred[-1] != q.pred[i_late]) | (q.nn_idx[-1] != q.nn_idx[i_late])).double().mean()
        V[name] = dict(q=q, change=s.step_change, moved=float(moved), covered=int((q.shares[-1] >= cfg.min_share).sum()))
    return V


@dataclass
class Sweep:
    """(depths x seeds) tables of the depth sweep; NaN for a network whose loss is not finite (failed, kept)."""

    S: dict[str, torch.Tensor]
    seeds: list[int]

    @property
    def failed(self) -> int:
        return int(torch.isnan(self.S["unconfident"]).sum())


def depth_sweep(Xtr: torch.Tensor, data_tag: str, classify: Classify, copy_threshold: float, cfg: SimpleNamespace,
                device: torch.device) -> Sweep:
    """Train (or load) every sweep network under one budget and measure its samples' quality."""
    seeds = list(range(cfg.seed, cfg.seed + cfg.sweep_seeds))
    sruns = sampling.checkpoint_runs(cfg.sweep_n_steps, dense=3, n_log=6)
    S = {k: torch.full((len(cfg.sweep_depths), len(seeds)), float("nan"), dtype=torch.float64)
         for k in ("unconfident", "covered", "near_copy", "burn_in", "loss", "seconds")}
    for a, L in enumerate(tqdm(cfg.sweep_depths, desc="depths")):
        for b, s in enumerate(seeds):
            m = experiments.trained_mlp(Xtr, data_tag=data_tag, depth=L, width=cfg.sweep_width, out_act=cfg.out_act,
                                        steps=cfg.sweep_steps, lr=cfg.lr, batch_size=cfg.batch_size, seed=s,
                                        device=device, retrain=cfg.retrain)
            ls = m.record["losses"]
            S["loss"][a, b] = float(ls[-max(1, len(ls) // 100):].mean())
            S["seconds"][a, b] = m.record["seconds"]
            if not torch.isfinite(ls).all():
                continue
            sn = chain(m.model.eval(), cfg, Xtr.shape[1], cfg.noise, cfg.eps, cfg.eps_noise, sruns, cfg.sweep_samples,
                       device, seed_offset=1000 * (b + 1))
            q = measures.sample_quality(sn.x, sruns, classify, Xtr, conf_threshold=cfg.conf_threshold,
                                        copy_threshold=copy_threshold)
            S["unconfident"][a, b] = 1 - float(q.confident[-1])
            S["covered"][a, b] = int((q.shares[-1] >= cfg.min_share).sum())
            S["near_copy"][a, b] = float(q.near_copy[-1])
            S["burn_in"][a, b] = float(q.burn_in.double().median())
    return Sweep(S, seeds)


def quality_figure(Q: measures.SampleQuality, qruns: list[int], real_confident: float, test_entropy: float,
                   test_distance: float, copy_quantile: float) -> plt.Figure:
    """Share confident, class entropy, median distance to the training set and share of near-copies over the runs,
    with the values of real test digits."""
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.6), layout="constrained")
    plots.quality_curves(
        axes, qruns, {"samples": torch.stack([Q.confident, Q.entropy, Q.nn_dist.median(1).values, Q.near_copy])},
        ["share confident", "class entropy (bits)", "median distance to training set", "share near-copies"],
        reference={0: ("test digits", real_confident), 1: ("test digits", test_entropy),
                   2: ("test digits", test_distance), 3: ("test digits", copy_quantile)})
    return fig


def classes_figure(Q: measures.SampleQuality, last: int, test_shares: torch.Tensor, d_te: torch.Tensor,
                   copy_threshold: float, n_steps: int) -> plt.Figure:
    """The judge's classes after the last run against the test set's, and the distance to the nearest training
    image of the samples against that of real test digits."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 3.6), layout="constrained")
    plots.class_histogram(axes[0], torch.bincount(Q.pred[last], minlength=10), reference=test_shares)
    axes[0].set_title(f"judge's classes after {n_steps} runs (diamonds: test set)")
    plots.distance_histograms(axes[1], {f"samples after {n_steps} runs": Q.nn_dist[last], "test digits": d_te},
                              vline=copy_threshold, vline_label="near-copy threshold")
    axes[1].set_xlabel("distance to the nearest training image")
    return fig


def pairs_figure(samples01: torch.Tensor, nearest01: torch.Tensor) -> plt.Figure:
    """Samples (top) above their nearest training images (bottom), images in [0, 1]."""
    fig, ax = plt.subplots(figsize=(10, 1.6), layout="constrained")
    ax.imshow(plots.mosaic(torch.cat([samples01, nearest01]), cols=samples01.shape[0]), cmap="gray", vmin=0, vmax=1)
    ax.set_axis_off()
    return fig


def dynamics_figure(V: dict[str, dict], vruns: list[int], n_steps: int) -> plt.Figure:
    """How far the samples move per run, and the share confident and class entropy over the runs, per variant."""
    fig, axes = plt.subplots(1, 3, figsize=(16, 3.8), layout="constrained")
    for name, v in V.items():
        axes[0].plot(range(1, n_steps + 1), v["change"], label=name, lw=1.2)
    axes[0].set_xscale("log")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("sampling run k")
    axes[0].set_ylabel("mean ||x^k - x^(k-1)||")
    axes[0].legend(fontsize=7)
    axes[0].set_title("how far the samples move per run")
    plots.quality_curves(axes[1:], vruns, {n: torch.stack([v["q"].confident, v["q"].entropy]) for n, v in V.items()},
                         ["share confident", "class entropy (bits)"])
    return fig


def sweep_figure(S: dict[str, torch.Tensor], depths: list[int]) -> plt.Figure:
    """Per depth: share not confident, classes covered, near-copies and burn-in of every sweep network."""
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.6), layout="constrained")
    for ax, (k, lab) in zip(axes, [("unconfident", "share not confident (lower: better)"), ("covered", "classes covered"),
                                   ("near_copy", "share near-copies"), ("burn_in", "median burn-in (runs)")]):
        plots.sweep_points(ax, depths, S[k], xlabel="hidden layers L", ylabel=lab)
    return fig


def burn_in_reading(confident: Mapping[int, float], end: int, early: Sequence[int] = (5, 13)) -> tuple[bool, bool]:
    """The paper's burn-in sentence as two tests on the judge-confident share by run: (still in burn-in) at each of
    the ``early`` runs it is at most half of its value after run ``end``; (digits by the end) it is >= 0.5 there."""
    missing = [r for r in (*early, end) if r not in confident]
    if missing:
        raise ValueError(f"the confident share is not measured at runs {missing}")
    return max(confident[r] for r in early) <= 0.5 * confident[end], confident[end] >= 0.5


def distance_to_end(snap: sampling.Snapshots, runs: Sequence[int]) -> dict[int, float]:
    """Median over samples of ||x^r - x^K|| / ||x^0 - x^K|| (K the last kept run): how far each run still is from
    where the chain ends, relative to where it started."""
    pos = {r: i for i, r in enumerate(snap.runs)}
    end, start = snap.x[-1], snap.x[pos[0]]
    scale = (start - end).norm(dim=1).clamp_min(1e-12)
    return {r: float(((snap.x[pos[r]] - end).norm(dim=1) / scale).median()) for r in runs}


def one_network_alternative(passed: bool) -> dict[str, Any]:
    """An alternative definition's verdict on one network (share 1 or 0; no spread over seeds)."""
    return {"share_pass": float(passed), "verdict": "holds" if passed else "fails",
            "seeds": results.seed_count(torch.tensor([passed]))}


def level(x: float, holds: float, partly: float) -> str:
    """'holds' if x >= holds, 'partly' if x >= partly, else 'fails'."""
    return "holds" if x >= holds else "partly" if x >= partly else "fails"


def claims(cfg: SimpleNamespace, m: dict[str, Any]) -> list[results.Claim]:
    """The chapter's claims from the measured numbers ``m`` (see the chapter's verdict cell for its keys). Each is
    tested on the main network (one seed: no spread over seeds), except the depth claims, which use the sweep."""
    sp = results.spread
    Q, last, late, qruns = m["Q"], m["last"], m["late"], m["qruns"]
    loss_start, loss_end, acc = m["loss_start"], m["loss_end"], m["acc"]
    burn, V, S, failed = m["burn"], m["V"], m["sweep"].S, m["sweep"].failed
    conf_end, cover_end, copy_end = float(Q.confident[last]), m["covered"], float(Q.near_copy[last])
    burn_med = float(burn.median())
    burn_cls = torch.tensor(qruns)[measures.stable_from(Q.pred)].double()
    conf_at = dict(zip(qruns, Q.confident.tolist()))
    early_ok, end_ok = burn_in_reading(conf_at, cfg.n_steps)
    stay = float(((Q.pred[last] == Q.pred[qruns.index(late)]) & (Q.nn_idx[last] == Q.nn_idx[qruns.index(late)]))
                 .double().mean())
    eps0, epsm, nrm = V["eps=0"], V[f"eps={cfg.eps:g}"], V["normal start"]
    start_ok = abs(loss_start - 0.93) <= 0.2 * 0.93
    end_ok = 0.064 / 1.5 <= loss_end <= 0.064 * 1.5
    d_conf = float(nrm["q"].confident[-1]) - float(epsm["q"].confident[-1])
    conf_close, cover_close = abs(d_conf) <= 0.1, abs(nrm["covered"] - epsm["covered"]) <= 1
    # a failed network (NaN) ranks as the worst: every sample unconfident, burn-in censored after the last run
    T_quality = measures.trend(cfg.sweep_depths, S["unconfident"].nan_to_num(1.0), n_perm=10_000)
    T_burn = measures.trend(cfg.sweep_depths, S["burn_in"].nan_to_num(cfg.sweep_n_steps + 1.0), n_perm=10_000)
    sweep_extra = {k: v for k, v in S.items()} | {"depths": cfg.sweep_depths, "seeds": m["sweep"].seeds,
                                                  "width": cfg.sweep_width, "steps": cfg.sweep_steps}
    return [
        results.Claim(
            id="judge_accuracy", claim="The CNN judge classifies real test digits well enough to score samples",
            paper="(not in the paper: this book's measuring instrument)", measure="test accuracy",
            measured=sp([acc]), criterion=">= 0.98", share_pass=float(acc >= 0.98), verdict=level(acc, 0.98, 0.95)),
        results.Claim(
            id="training_loss_as_reported", claim="Training reproduces the authors' loss curve",
            paper="loss 0.93 at the start, 0.064 near 10,000 epochs (batches of 1000)",
            measure="loss of the first step; mean of the last 1 % of steps", measured=sp([loss_end]),
            criterion="start within 20 % of 0.93 and end within a factor 1.5 of 0.064 (one of the two: partly)",
            share_pass=float(start_ok and end_ok),
            verdict="holds" if start_ok and end_ok else "partly" if start_ok or end_ok else "fails",
            notes=f"First step {loss_start:.3f}; last steps {loss_end:.4f} after {m['n_steps_trained']} steps; "
                  f"test-image loss {m['test_loss']:.4f}."),
        results.Claim(
            id="samples_are_digits", claim=f"After {cfg.n_steps} runs the samples look like digits",
            paper="by run 300 the sampler sits on digits",
            measure=f"share of {cfg.n_samples} samples the judge labels with confidence >= {cfg.conf_threshold:g}",
            measured=sp([conf_end]), criterion=">= 0.8 (>= 0.5: partly)", share_pass=float(conf_end >= 0.8),
            verdict=level(conf_end, 0.8, 0.5),
            notes=f"Real test digits: {m['real_confident']:.1%}. Noise (run 0): {float(Q.confident[0]):.1%}.",
            extra={"runs": qruns, "confident": Q.confident, "entropy": Q.entropy}),
        results.Claim(
            id="all_digits_sampled", claim="The samples cover all ten digits",
            paper="(the paper's grid shows many different digits)",
            measure=f"classes that get >= {cfg.min_share:g} of the samples after {cfg.n_steps} runs",
            measured=sp([cover_end]), criterion="10 classes (>= 7: partly)", share_pass=float(cover_end == 10),
            verdict="holds" if cover_end == 10 else "partly" if cover_end >= 7 else "fails",
            notes=f"Class entropy {float(Q.entropy[last]):.2f} bits (ten equal classes: 3.32; test set "
                  f"{m['test_entropy']:.2f}).",
            extra={"shares": Q.shares[last]}),
        results.Claim(
            id="samples_are_new", claim="The samples are new digits, not copies of training images",
            paper="(implied by 'generative')",
            measure=f"share of samples after {cfg.n_steps} runs closer to a training image than the "
                    f"{cfg.copy_quantile:g} quantile of test digits ({m['copy_threshold']:.2f})",
            measured=sp([copy_end]), criterion="<= 0.1 (<= 0.5: partly)", share_pass=float(copy_end <= 0.1),
            verdict="holds" if copy_end <= 0.1 else "partly" if copy_end <= 0.5 else "fails",
            notes=f"Median distance to the nearest training image: samples {float(Q.nn_dist[last].median()):.2f}, "
                  f"test digits {float(m['d_te'].median()):.2f}.",
            extra={"sample_distance": sp(Q.nn_dist[last]), "test_distance": sp(m["d_te"])}),
        results.Claim(
            id="burn_in_5_to_13",
            claim=f"Runs 5 and 13 are still in burn-in; after run {cfg.n_steps} most samples are digits",
            paper="runs 5 to 13 are still in burn-in",
            measure="judge-confident share at runs 5, 13 and the last run",
            measured=sp([conf_at[5], conf_at[13], conf_at[cfg.n_steps]]),
            criterion=f"the share at runs 5 and 13 is at most half of that after run {cfg.n_steps}, and that is >= 0.5 "
                      "(one of the two: partly)",
            share_pass=float(early_ok and end_ok),
            verdict="holds" if early_ok and end_ok else "partly" if early_ok or end_ok else "fails",
            notes=(f"Per-sample burn-in (class and nearest training image unchanged from then on): median "
                   f"{burn_med:.0f} runs, {float((burn <= 13).double().mean()):.1%} settled by run 13; class only: "
                   f"median {float(burn_cls.median()):.0f}. The paper gives a lower bound only; an earlier criterion "
                   "of this book (median per-sample burn-in in [5, 30]) added an upper bound it does not state."),
            extra={"confident_by_run": {r: conf_at[r] for r in (0, 5, 13, cfg.n_steps)},
                   "distance_to_end_by_run": m["dist_to_end"], "per_sample_burn_in": sp(burn),
                   "class_only_burn_in": sp(burn_cls)},
            alternatives={
                "the authors' always-positive eta": one_network_alternative(all(burn_in_reading(
                    dict(zip(m["vruns"], V["authors' uniform eta"]["q"].confident.tolist())), cfg.n_steps))),
                "normal start noise": one_network_alternative(all(burn_in_reading(
                    dict(zip(m["vruns"], nrm["q"].confident.tolist())), cfg.n_steps))),
                "median per-sample burn-in (class and nearest image) after run 13": one_network_alternative(
                    burn_med > 13),
                "median class-only burn-in after run 13": one_network_alternative(float(burn_cls.median()) > 13),
                "median per-sample burn-in in [5, 30] (an upper bound the paper does not state)":
                    one_network_alternative(5 <= burn_med <= 30)}),
        results.Claim(
            id="samples_stay", claim="Once on a digit, a sample stays there",
            paper="by run 300 the sampler sits on digits and stays",
            measure=f"share of samples whose class and nearest training image are the same at runs {late} and "
                    f"{cfg.n_steps}",
            measured=sp([stay]), criterion=">= 0.9 (>= 0.5: partly)", share_pass=float(stay >= 0.9),
            verdict=level(stay, 0.9, 0.5)),
        results.Claim(
            id="eps_keeps_samples_moving", claim=f"Re-injected noise eps = {cfg.eps:g} lets samples move on",
            paper="the sampler sits on digits and stays, hence the eps noise",
            measure=f"share of samples whose class or nearest training image changes between runs {late} and "
                    f"{cfg.n_steps}",
            measured=sp([epsm["moved"]]), criterion="above the eps = 0 chain's share by >= 0.02 (above at all: partly)",
            share_pass=float(epsm["moved"] >= eps0["moved"] + 0.02),
            verdict=("holds" if epsm["moved"] >= eps0["moved"] + 0.02 else "partly" if epsm["moved"] > eps0["moved"]
                     else "fails"),
            notes=f"eps = 0: {eps0['moved']:.1%}; " + "; ".join(f"{n}: {v['moved']:.1%}" for n, v in V.items()
                                                                if n != "eps=0"),
            extra={n: {"moved": v["moved"], "confident": float(v["q"].confident[-1]), "covered": v["covered"],
                       "near_copy": float(v["q"].near_copy[-1])} for n, v in V.items()}),
        results.Claim(
            id="normal_noise_similar", claim="Normal start noise gives similar samples to uniform noise",
            paper="similar results with Normal noise",
            measure="difference in the share of confident samples after the last run (normal - uniform)",
            measured=sp([d_conf]), criterion="|difference| <= 0.1 and classes covered within 1 (one of the two: partly)",
            share_pass=float(conf_close and cover_close),
            verdict="holds" if conf_close and cover_close else "partly" if conf_close or cover_close else "fails",
            notes=f"Classes covered: normal {nrm['covered']}, uniform {epsm['covered']}."),
        results.trend_claim(
            "deeper_better_samples", f"Deeper networks give better samples (L in {cfg.sweep_depths})",
            "deeper networks give better samples", "the share of samples the judge is not confident about", "L",
            T_quality, extra=sweep_extra | {"failed": failed}),
        results.trend_claim(
            "burn_in_falls_with_depth_mnist", f"Burn-in falls as the network gets deeper (L in {cfg.sweep_depths})",
            "the number of sampling runs for reaching the burn-in period is inversely proportional to the complexity",
            "the median per-sample burn-in", "L", T_burn),
    ]
