"""Generalization measures of an MLP (Jiang et al. 2020, "Fantastic Generalization Measures") and rank correlations.

The nets are ``nn.Sequential`` stacks of ``nn.Linear`` layers and element-wise activations, as
:func:`kaleido_lib.models.make_mlp` builds them and ``EnsembleResult.member(i)`` returns them.  With
weight matrices Wᵢ (biases bᵢ), initial weights Wᵢ⁰ and all parameters w:

- spectral product Π‖Wᵢ‖₂² and Frobenius product Π‖Wᵢ‖_F² (also as logs: a sum of logs never overflows);
- distance to initialisation Σ‖Wᵢ − Wᵢ⁰‖_F² and parameter norm Σ‖Wᵢ‖_F² (weight matrices only, no biases);
- path-norm Σⱼ f_{w²}(𝟙)ⱼ: every parameter (biases too) squared, the all-ones input forwarded through the
  same Linear layers.  Every layer's input is then ≥ 0, so each ReLU passes it unchanged; the output bound
  (sigmoid, tanh) is left out, because it would squash the sum into (0, 1) and hide the norm;
- PAC-Bayes flatness 1/σ² with σ the largest standard deviation of Gaussian noise on every parameter for
  which the mean training MSE over ``n_draws`` noise draws rises by at most ``tol``, and magnitude-aware
  flatness 1/σ′² with noise N(0, σ′²wᵢ² + ε²) (ε = 1e-3).  A reconstruction net has no margin, hence the
  criterion "the training MSE rises by at most tol".  σ is found by bisection in log σ on [low, high]; the
  same seeded draws serve every σ (common random numbers), which makes σ non-decreasing in ``tol``.

Rank correlations (no scipy): Kendall's τ-b, and the granulated τ of Jiang et al.: for one hyper-parameter,
τ over the nets that differ only in it, averaged over the fixed values of the others; then averaged over
the hyper-parameters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .models import make_mlp
from .stats import finite_numpy, kendall_tau
from .utils import check_finite_tensor, check_int

EPS_MAGNITUDE = 1e-3  # ε of the magnitude-aware noise, as Jiang et al.
MEASURES = (
    "log_spectral_product",
    "log_frobenius_product",
    "distance_to_init",
    "parameter_norm",
    "log_path_norm",
    "pac_bayes_flatness",
    "magnitude_flatness",
)


# --- the layers of an MLP ----------------------------------------------------------------------------------


def linear_layers(net: nn.Module) -> list[nn.Linear]:
    """The Linear layers of an ``nn.Sequential`` of Linear layers and element-wise activations, in order."""
    if not isinstance(net, nn.Sequential):
        raise ValueError(
            f"net must be an nn.Sequential of Linear layers and activations; got {type(net).__name__}"
        )
    layers = []
    for m in net:
        if isinstance(m, nn.Linear):
            layers.append(m)
        elif not isinstance(m, (nn.ReLU, nn.Sigmoid, nn.Tanh, nn.Identity)):
            raise ValueError(
                f"net must hold only Linear, ReLU, Sigmoid, Tanh or Identity modules; got {type(m).__name__}"
            )
    if not layers:
        raise ValueError("net must hold at least one Linear layer")
    return layers


def weights(net: nn.Module) -> list[torch.Tensor]:
    """The weight matrices (out, in) of the net's Linear layers, detached, float64."""
    return [m.weight.detach().double() for m in linear_layers(net)]


def _check_same_shape(net: nn.Module, init: nn.Module) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    w, w0 = weights(net), weights(init)
    if [t.shape for t in w] != [t.shape for t in w0]:
        raise ValueError(
            "init must have the same layer shapes as net; got "
            f"{[tuple(t.shape) for t in w0]} against {[tuple(t.shape) for t in w]}"
        )
    return w, w0


def initial_net(dim: int, depth: int, width: int, out_act: str, seed: int) -> nn.Sequential:
    """``make_mlp(dim, depth, width, out_act)`` as initialised after ``seed_everything(seed)``; global RNGs untouched.

    ``train_ensemble`` starts member i from exactly this net with ``seed = seeds[i]`` (make_mlp draws
    from torch's global generator only, which is seeded here inside ``torch.random.fork_rng``).
    """
    check_int("seed", seed, 0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return make_mlp(dim, depth, width, out_act)


def initial_member(result, i: int) -> nn.Sequential:
    """The initial weights of member i of an ``EnsembleResult`` (as :func:`initial_net` from its seed)."""
    if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < result.n_members:
        raise ValueError(f"i must be an integer in [0, {result.n_members}); got {i!r}")
    return initial_net(result.dim, result.depth, result.width, result.out_act, result.seeds[i])


# --- norm-based measures -----------------------------------------------------------------------------------


def log_spectral_product(net: nn.Module) -> float:
    """log Π‖Wᵢ‖₂² = Σ 2 log ‖Wᵢ‖₂ over the weight matrices (float64)."""
    return float(sum(2 * torch.linalg.matrix_norm(w, ord=2).log() for w in weights(net)))


def spectral_product(net: nn.Module) -> float:
    """Π‖Wᵢ‖₂² over the weight matrices (may overflow for deep nets: prefer the log)."""
    return math.exp(log_spectral_product(net))


def log_frobenius_product(net: nn.Module) -> float:
    """log Π‖Wᵢ‖_F² = Σ log ‖Wᵢ‖_F² over the weight matrices (float64)."""
    return float(sum((w**2).sum().log() for w in weights(net)))


def frobenius_product(net: nn.Module) -> float:
    """Π‖Wᵢ‖_F² over the weight matrices (may overflow for deep nets: prefer the log)."""
    return math.exp(log_frobenius_product(net))


def distance_to_init(net: nn.Module, init: nn.Module) -> float:
    """Σ‖Wᵢ − Wᵢ⁰‖_F² over the weight matrices (biases left out)."""
    w, w0 = _check_same_shape(net, init)
    return float(sum(((a - b) ** 2).sum() for a, b in zip(w, w0)))


def parameter_norm(net: nn.Module) -> float:
    """Σ‖Wᵢ‖_F² over the weight matrices (biases left out)."""
    return float(sum((w**2).sum() for w in weights(net)))


def path_norm(net: nn.Module) -> float:
    """Σⱼ f_{w²}(𝟙)ⱼ: all parameters squared, the all-ones input through the Linear layers, the output bound left out.

    With squared (non-negative) parameters and a non-negative input every pre-activation is ≥ 0, so the
    ReLUs between the layers pass it unchanged: the value is the sum over all input-output paths (and
    bias-output paths) of the products of the squared parameters along them.
    """
    layers = linear_layers(net)
    x = torch.ones(1, layers[0].in_features, dtype=torch.float64)
    for m in layers:
        b = m.bias.detach().double() ** 2 if m.bias is not None else 0.0
        x = x @ (m.weight.detach().double() ** 2).T + b
    return float(x.sum())


def log_path_norm(net: nn.Module) -> float:
    """log of :func:`path_norm`."""
    return math.log(path_norm(net))


# --- flatness ----------------------------------------------------------------------------------------------


def _stack_forward(params: list[torch.Tensor], x: torch.Tensor, acts: list[str]) -> torch.Tensor:
    """Forward x (n, D) through K perturbed copies at once: weights (K, out, in), biases (K, out) → (K, n, D)."""
    h = x.unsqueeze(0).expand(params[0].shape[0], *x.shape)
    for k in range(len(params) // 2):
        h = torch.baddbmm(params[2 * k + 1].unsqueeze(1), h, params[2 * k].transpose(1, 2))
        act = acts[k]
        if act == "relu":
            h = torch.relu(h)
        elif act == "sigmoid":
            h = torch.sigmoid(h)
        elif act == "tanh":
            h = torch.tanh(h)
    return h


def _architecture(net: nn.Module) -> tuple[list[torch.Tensor], list[str]]:
    """Parameters [W₁, b₁, …] (float64) and the activation after each Linear layer ('none' if there is none)."""
    linear_layers(net)  # validates
    assert isinstance(net, nn.Sequential)  # linear_layers raised otherwise
    params: list[torch.Tensor] = []
    acts: list[str] = []
    for m in net:
        if isinstance(m, nn.Linear):
            params += [
                m.weight.detach().double(),
                m.bias.detach().double()
                if m.bias is not None
                else torch.zeros(m.out_features, dtype=torch.float64),
            ]
            acts.append("none")
        elif not isinstance(m, nn.Identity):
            if not acts or acts[-1] != "none":
                raise ValueError("net must have at most one activation after each Linear layer")
            acts[-1] = {nn.ReLU: "relu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh"}[type(m)]
    return params, acts


@torch.no_grad()
def flatness_sigma(
    net: nn.Module,
    X: torch.Tensor,
    tol: float,
    *,
    magnitude: bool = False,
    eps: float = EPS_MAGNITUDE,
    n_draws: int = 16,
    seed: int = 0,
    low: float = 1e-5,
    high: float = 10.0,
    n_iter: int = 20,
) -> float:
    """Largest σ (σ′ if ``magnitude``) in [low, high] whose Gaussian parameter noise raises the mean training MSE
    by at most ``tol``; bisection in log σ, ``n_draws`` seeded draws shared by every σ.

    Noise on every parameter θ (weights and biases): N(0, σ²), or N(0, σ′²θ² + ε²) if ``magnitude``.
    The MSE is ((f(X) − X)²).mean() as in training, averaged over the draws.  Returns ``low`` if even σ = low
    raises it by more than ``tol``, ``high`` if σ = high does not.
    """
    X = check_finite_tensor("X", X, ndim=2).double()
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not (math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a finite number > 0; got {tol!r}")
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not (math.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a finite number >= 0; got {eps!r}")
    check_int("n_draws", n_draws, 1)
    check_int("n_iter", n_iter, 1)
    check_int("seed", seed, 0)
    if not (isinstance(low, (int, float)) and isinstance(high, (int, float)) and 0 < low < high < math.inf):
        raise ValueError(f"low and high must satisfy 0 < low < high < inf; got {low!r}, {high!r}")
    params, acts = _architecture(net)
    if X.shape[1] != params[0].shape[1] or params[-2].shape[0] != X.shape[1]:
        raise ValueError(
            f"X must have shape (n, {params[0].shape[1]}) for this x -> x net; got {tuple(X.shape)}"
        )
    gen = torch.Generator().manual_seed(seed)
    noise = [torch.randn((n_draws, *p.shape), generator=gen, dtype=torch.float64) for p in params]
    squares = [p.square() for p in params] if magnitude else None
    base = float(((_stack_forward([p.unsqueeze(0) for p in params], X, acts) - X) ** 2).mean())

    def rise(s: float) -> float:
        if squares is not None:  # i.e. magnitude
            pert = [p + z * (s * s * c + eps * eps).sqrt() for p, z, c in zip(params, noise, squares)]
        else:
            pert = [p + s * z for p, z in zip(params, noise)]
        return float(((_stack_forward(pert, X, acts) - X) ** 2).mean()) - base

    if rise(high) <= tol:
        return float(high)
    if rise(low) > tol:
        return float(low)
    lo, hi = math.log(low), math.log(high)
    for _ in range(n_iter):
        mid = (lo + hi) / 2
        if rise(math.exp(mid)) <= tol:
            lo = mid
        else:
            hi = mid
    return math.exp(lo)


def pac_bayes_flatness(net: nn.Module, X: torch.Tensor, tol: float, **kw) -> float:
    """1/σ² with σ from :func:`flatness_sigma` (plain Gaussian noise on every parameter)."""
    return 1.0 / flatness_sigma(net, X, tol, magnitude=False, **kw) ** 2


def magnitude_flatness(net: nn.Module, X: torch.Tensor, tol: float, **kw) -> float:
    """1/σ′² with σ′ from :func:`flatness_sigma` (noise N(0, σ′²θ² + ε²) on every parameter θ)."""
    return 1.0 / flatness_sigma(net, X, tol, magnitude=True, **kw) ** 2


def all_measures(net: nn.Module, init: nn.Module, X: torch.Tensor, tol: float, **flat_kw) -> dict[str, float]:
    """Every measure of :data:`MEASURES` for one net (its initial weights ``init``, training data X)."""
    return {
        "log_spectral_product": log_spectral_product(net),
        "log_frobenius_product": log_frobenius_product(net),
        "distance_to_init": distance_to_init(net, init),
        "parameter_norm": parameter_norm(net),
        "log_path_norm": log_path_norm(net),
        "pac_bayes_flatness": pac_bayes_flatness(net, X, tol, **flat_kw),
        "magnitude_flatness": magnitude_flatness(net, X, tol, **flat_kw),
    }


# --- rank correlations -------------------------------------------------------------------------------------


@dataclass
class GranulatedTau:
    """Granulated τ: ``per_factor[name]`` = ψ (mean τ over the groups where only that factor varies), ``psi`` = Ψ."""

    psi: float  # mean of the ψ over the factors (NaN ones left out)
    per_factor: dict[str, float]
    n_groups: dict[str, int]  # groups counted (≥ 2 nets, the target not constant)


def granulated_tau(
    measure: Sequence[float] | np.ndarray | torch.Tensor,
    target: Sequence[float] | np.ndarray | torch.Tensor,
    factors: Mapping[str, Sequence[float] | np.ndarray],
) -> GranulatedTau:
    """Jiang et al.'s granulated Kendall τ of ``measure`` against ``target`` over the nets described by ``factors``.

    ``factors`` maps each hyper-parameter's name to its value per net (n values each, like measure and
    target).  For factor i the nets are grouped by the values of all other factors; within a group only
    factor i varies, and ψᵢ is the mean over the groups of τ(measure, target) in the group.  A group whose
    target is constant (or that holds one net) is left out and not counted; a group whose target varies
    but whose measure is constant counts τ = 0 (the measure cannot rank those nets, e.g. the number of
    parameters over seeds).  Ψ is the mean of the defined ψᵢ.
    """
    m, t = finite_numpy("measure", measure), finite_numpy("target", target)
    if m.size != t.size:
        raise ValueError(f"measure and target must have as many values; got {m.size} and {t.size}")
    if not isinstance(factors, Mapping) or not factors:
        raise ValueError("factors must be a non-empty mapping of name -> value per net")
    cols = {}
    for name, v in factors.items():
        a = np.asarray(v.detach().cpu() if isinstance(v, torch.Tensor) else v, dtype=object).reshape(-1)
        if a.size != m.size:
            raise ValueError(f"factors[{name!r}] must hold one value per net ({m.size}); got {a.size}")
        cols[name] = [x.item() if hasattr(x, "item") else x for x in a]
    per, count = {}, {}
    for name in cols:
        others = [n for n in cols if n != name]
        groups: dict[tuple, list[int]] = {}
        for k in range(m.size):
            groups.setdefault(tuple(cols[o][k] for o in others), []).append(k)
        taus = []
        for idx in groups.values():
            if len(idx) < 2 or np.ptp(t[idx]) == 0:  # nothing to rank: the group is left out
                continue
            taus.append(
                0.0 if np.ptp(m[idx]) == 0 else kendall_tau(m[idx], t[idx])
            )  # a constant measure ranks nothing
        per[name] = float(np.mean(taus)) if taus else math.nan
        count[name] = len(taus)
    ok = [v for v in per.values() if not math.isnan(v)]
    return GranulatedTau(psi=float(np.mean(ok)) if ok else math.nan, per_factor=per, n_groups=count)


# --- the over-generalization side: Jacobian norm over the domain -------------------------------------------


def jacobian_rows(f, x: torch.Tensor) -> torch.Tensor:
    """J_f at every row of x (n, D) by D backward passes, (n, D, D); f must map rows on their own (an MLP does)."""
    check_finite_tensor("x", x, ndim=2)
    with torch.enable_grad():
        xx = x.detach().clone().requires_grad_(True)
        y = f(xx)
        if not isinstance(y, torch.Tensor) or y.shape != xx.shape:
            raise ValueError(f"f must map x of shape {tuple(x.shape)} to the same shape")
        rows = [
            torch.autograd.grad(y[:, k].sum(), xx, retain_graph=k < x.shape[1] - 1)[0]
            for k in range(x.shape[1])
        ]
    return torch.stack(rows, dim=1).detach()


def mean_jacobian_norm(f, grid: torch.Tensor, ord: int | str = 2) -> float:
    """Mean over the rows of ``grid`` (n, D) of the matrix norm (``ord``: 2 spectral, 'fro') of J_f there."""
    if ord not in (2, "fro"):
        raise ValueError(f"ord must be 2 or 'fro'; got {ord!r}")
    return float(torch.linalg.matrix_norm(jacobian_rows(f, grid).double(), ord=ord).mean())
