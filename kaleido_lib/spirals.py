"""The spirals of the companion study Ranlot/spiralNet ("optimal packing"): the data set, the classifier whose last
hidden layer has two units, its trainer, and the geometry of that 2-unit layer.

The study's setting: K interleaved spiral arms of 200 points (:func:`make_spirals`), a net
2 → 120 → 80 → 40 → 2 → K with one activation (tanh or ReLU) in every hidden layer, the 2-unit layer included
(:class:`SpiralNet`), trained full batch with Adam on the softmax cross-entropy plus 0.005·Σ‖W‖²/2 over the weight
matrices.  :func:`train_spirals` trains one such net per seed, all seeds at once: the weights of all members are
stacked and Adam, being element-wise, updates each member exactly as a lone run would.

The geometry of the 2-unit layer, as the study reads it: the direction atan2(h₂, h₁) of a point
(:func:`angles_deg`), the circular mean and spread of a class's directions (:func:`circular_stats`,
:func:`class_angle_stats`), the distance of a class mean to the nearest corner of the square [−1, 1]²
(:func:`nearest_corner`) and the separations of class means and class directions (:func:`min_pairwise_distance`,
:func:`min_angular_gap`).  The chapter :mod:`kaleido_lib.chapters.spiral_packing` measures the packing with these.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm import tqdm

from . import measures, train
from .ensemble import cpu_settings
from .utils import check_finite_tensor, check_int, get_device, seed_everything

ACTIVATIONS = ("tanh", "relu")  # the activation of every hidden layer
# initial weights: PyTorch's default; the study's (TensorFlow's default: Glorot-uniform weights, zero biases)
INITS = ("torch", "glorot")
HIDDEN = (120, 80, 40, 2)  # hidden widths; the last hidden layer has 2 units
WEIGHT_DECAY = 0.005  # the factor of Σ‖W‖²/2 over weight matrices (biases excluded)
LR = 5e-4  # the study's Adam learning rate
N_PER_CLASS = 200  # points per spiral arm
JITTER = 0.17  # amplitude of the angular jitter


def _check_activation(activation: str) -> str:
    """``activation`` if it is one of :data:`ACTIVATIONS`; else ValueError."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {list(ACTIVATIONS)}; got {activation!r}")
    return activation


# --- the data -----------------------------------------------------------------------------------------------


def make_spirals(
    n_classes: int, n_per_class: int = N_PER_CLASS, seed: int = 0, jitter: float = JITTER
) -> tuple[torch.Tensor, torch.Tensor]:
    """K interleaved spiral arms: points X (K·n, 2) float32 and labels y (K·n,) int64, class after class.

    Arm k: radius r = linspace(2, 20, n), angle θ = linspace(2πk/K, 2π(k+4)/K, n) plus the jitter
    ``jitter``·U(−1, 1)·linspace(1, 1.5, n); the point is (r cos θ, r sin θ).  The jitter is drawn
    from a generator seeded with ``seed``.
    """
    check_int("n_classes", n_classes, 2)
    check_int("n_per_class", n_per_class, 2)
    check_int("seed", seed, 0)
    if (
        isinstance(jitter, bool)
        or not isinstance(jitter, (int, float))
        or not (math.isfinite(jitter) and jitter >= 0)
    ):
        raise ValueError(f"jitter must be a finite number >= 0; got {jitter!r}")
    gen = torch.Generator().manual_seed(seed)
    r = torch.linspace(2.0, 20.0, n_per_class, dtype=torch.float64)
    grow = torch.linspace(1.0, 1.5, n_per_class, dtype=torch.float64)
    xs, ys = [], []
    for k in range(n_classes):
        theta = torch.linspace(
            2 * math.pi * k / n_classes, 2 * math.pi * (k + 4) / n_classes, n_per_class, dtype=torch.float64
        )
        theta = theta + jitter * (2 * torch.rand(n_per_class, generator=gen, dtype=torch.float64) - 1) * grow
        xs.append(torch.stack([r * torch.cos(theta), r * torch.sin(theta)], dim=1))
        ys.append(torch.full((n_per_class,), k, dtype=torch.int64))
    return torch.cat(xs).to(torch.float32), torch.cat(ys)


# --- the classifier -----------------------------------------------------------------------------------------


def _act(activation: str) -> nn.Module:
    """The activation module of a hidden layer: tanh or ReLU."""
    return nn.Tanh() if activation == "tanh" else nn.ReLU()


class SpiralNet(nn.Module):
    """2 → 120 → 80 → 40 → 2 → K: ``body`` ends in the 2-unit last hidden layer (activated), ``head`` gives logits.

    ``init``: "torch" (PyTorch's default for ``nn.Linear``) or "glorot" (Glorot-uniform weights, zero biases:
    TensorFlow's default, which the study's TensorFlow code used).
    """

    def __init__(
        self, n_classes: int, activation: str, hidden: Sequence[int] = HIDDEN, init: str = "torch"
    ) -> None:
        super().__init__()
        check_int("n_classes", n_classes, 2)
        _check_activation(activation)
        if init not in INITS:
            raise ValueError(f"init must be one of {list(INITS)}; got {init!r}")
        if len(hidden) < 1 or any(isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in hidden):
            raise ValueError(f"hidden must be a non-empty sequence of integers >= 1; got {list(hidden)!r}")
        layers: list[nn.Module] = []
        fan_in = 2
        for h in hidden:
            layers += [nn.Linear(fan_in, h), _act(activation)]
            fan_in = h
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(fan_in, n_classes)
        if init == "glorot":
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    nn.init.xavier_uniform_(m.weight)
                    nn.init.zeros_(m.bias)
        self.n_classes, self.activation, self.hidden_sizes = n_classes, activation, tuple(hidden)

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden layer's values h(x), shape (n, hidden[-1])."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits, shape (n, K)."""
        return self.head(self.body(x))


def make_spiral_net(
    n_classes: int,
    activation: str,
    seed: int | None = None,
    hidden: Sequence[int] = HIDDEN,
    init: str = "torch",
) -> SpiralNet:
    """A :class:`SpiralNet` initialised by ``init`` (see there), drawn after ``seed_everything(seed)`` if given."""
    if seed is not None:
        seed_everything(seed)
    return SpiralNet(n_classes, activation, hidden, init)


def weight_penalty(model: nn.Module) -> torch.Tensor:
    """Σ‖W‖²/2 over the weight matrices of ``model``'s Linear layers (biases excluded)."""
    squares = (0.5 * (m.weight**2).sum() for m in model.modules() if isinstance(m, nn.Linear))
    return sum(squares, torch.zeros(()))


def spiral_loss(
    model: nn.Module, X: torch.Tensor, y: torch.Tensor, weight_decay: float = WEIGHT_DECAY
) -> torch.Tensor:
    """Mean softmax cross-entropy of model(X) against y plus ``weight_decay``·Σ‖W‖²/2 (one net, for checks)."""
    return nn.functional.cross_entropy(model(X), y) + weight_decay * weight_penalty(model)


# --- training one net per seed, all at once -----------------------------------------------------------------


@dataclass
class SpiralTraining:
    """Outcome of :func:`train_spirals`: one net per seed, final weights stacked, per-epoch records.

    ``params``: per Linear layer the weight transposed, (S, in, out), then the bias, (S, out).
    ``loss[i, e]``, ``ce[i, e]``, ``accuracy[i, e]``: member i's total loss, cross-entropy and training
    accuracy for the weights after e updates (e = 0 … epochs − 1).  ``snapshots[j, i]`` holds member i's
    hidden values h(X) (N, 2) after ``snapshot_epochs[j]`` updates.  ``finite[i]`` is False for a member
    whose loss became non-finite (a failed training, kept and counted).  ``param_snapshots[e]`` holds the
    weights (laid out as ``params``) after e updates, for the epochs asked for; see :meth:`at`.
    """

    params: list[torch.Tensor]
    loss: torch.Tensor
    ce: torch.Tensor
    accuracy: torch.Tensor
    snapshot_epochs: list[int]
    snapshots: torch.Tensor
    finite: torch.Tensor
    seeds: tuple[int, ...]
    n_classes: int
    activation: str
    hidden_sizes: tuple[int, ...]
    param_snapshots: dict[int, list[torch.Tensor]] = field(default_factory=dict)

    @property
    def n_members(self) -> int:
        """Number of members S."""
        return len(self.seeds)

    @torch.no_grad()
    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """h(x) of every member, (S, n, 2), for x (n, 2) shared or (S, n, 2) one per member."""
        return _hidden(self.params, _expand(x, self.n_members), self.activation)

    @torch.no_grad()
    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits of every member, (S, n, K), for x (n, 2) shared or (S, n, 2) one per member."""
        return _head(self.params, self.hidden(x))

    @torch.no_grad()
    def head_logits(self, h: torch.Tensor) -> torch.Tensor:
        """The output layer alone on hidden values h, (n, 2) or (S, n, 2): (S, n, K); its argmax gives the class regions."""
        return _head(self.params, _expand(h, self.n_members, dim=self.hidden_sizes[-1]))

    @property
    def epochs(self) -> int:
        """Number of updates behind ``params``."""
        return self.loss.shape[1]

    def member(self, i: int) -> SpiralNet:
        """Member i as a :class:`SpiralNet` holding its final weights, in eval mode (uses no RNG)."""
        if isinstance(i, bool) or not isinstance(i, int) or not -self.n_members <= i < self.n_members:
            raise ValueError(f"i must be an integer in [0, {self.n_members}); got {i!r}")
        with torch.device("meta"):
            net = SpiralNet(self.n_classes, self.activation, self.hidden_sizes, init="torch")
        names = [name for name, _ in net.named_parameters()]
        net.load_state_dict(
            {n: (p[i].T if p.ndim == 3 else p[i]).clone() for n, p in zip(names, self.params)}, assign=True
        )
        return net.eval()

    def at(self, epoch: int) -> SpiralTraining:
        """The same nets as they were after ``epoch`` updates (an epoch kept in ``param_snapshots``): weights,
        records up to that epoch and the snapshots taken until then."""
        if epoch not in self.param_snapshots:
            raise ValueError(
                f"epoch must be one of the kept epochs {sorted(self.param_snapshots)}; got {epoch!r}"
            )
        keep = [j for j, e in enumerate(self.snapshot_epochs) if e <= epoch]
        return SpiralTraining(
            params=self.param_snapshots[epoch],
            loss=self.loss[:, :epoch],
            ce=self.ce[:, :epoch],
            accuracy=self.accuracy[:, :epoch],
            snapshot_epochs=[self.snapshot_epochs[j] for j in keep],
            snapshots=self.snapshots[keep],
            finite=torch.isfinite(self.loss[:, :epoch]).all(dim=1)
            if epoch > 0
            else torch.ones(self.n_members, dtype=torch.bool),
            seeds=self.seeds,
            n_classes=self.n_classes,
            activation=self.activation,
            hidden_sizes=self.hidden_sizes,
            param_snapshots={e: p for e, p in self.param_snapshots.items() if e <= epoch},
        )


def _expand(x: torch.Tensor, s: int, dim: int = 2) -> torch.Tensor:
    """x (n, dim) for all members alike, or (S, n, dim) one per member, as (S, n, dim)."""
    check_finite_tensor("x", x)
    if x.ndim not in (2, 3) or x.shape[-1] != dim or (x.ndim == 3 and x.shape[0] != s):
        raise ValueError(f"x must have shape (n, {dim}) or ({s}, n, {dim}); got {tuple(x.shape)}")
    return x if x.ndim == 3 else x.expand(s, *x.shape)


def _hidden(params: Sequence[torch.Tensor], x: torch.Tensor, activation: str) -> torch.Tensor:
    """All members' last hidden layer: x (S, n, 2) → (S, n, hidden[-1])."""
    act = torch.tanh if activation == "tanh" else torch.relu
    for k in range(len(params) // 2 - 1):
        x = act(torch.baddbmm(params[2 * k + 1].unsqueeze(1), x, params[2 * k]))
    return x


def _head(params: Sequence[torch.Tensor], h: torch.Tensor) -> torch.Tensor:
    """All members' output layer: hidden values h (S, n, hidden[-1]) → class logits (S, n, K)."""
    return torch.baddbmm(params[-1].unsqueeze(1), h, params[-2])


def train_spirals(
    X: torch.Tensor,
    y: torch.Tensor,
    seeds: Sequence[int],
    *,
    activation: str,
    n_classes: int | None = None,
    epochs: int = 10_000,
    lr: float = LR,
    weight_decay: float = WEIGHT_DECAY,
    snapshot_epochs: Sequence[int] = (),
    param_epochs: Sequence[int] = (),
    hidden: Sequence[int] = HIDDEN,
    init: str = "torch",
    device: str = "cpu",
    num_threads: int | None = None,
    flush_denormal: bool = True,
    progress: bool = False,
) -> SpiralTraining:
    """Train one :class:`SpiralNet` per seed on (X, y), all at once; full batch, one Adam step per epoch.

    Member i starts as ``make_spiral_net(K, activation, seeds[i], hidden, init)`` and minimises the mean softmax
    cross-entropy plus ``weight_decay``·Σ‖W‖²/2 over its weight matrices with Adam (learning rate ``lr``,
    β = (0.9, 0.999), ε = 1e-8); the final weights are kept.  The members agree with lone runs up to float
    rounding.  X is (N, 2), shared, or (S, N, 2), one data set per member.  ``device``: "cpu", "cuda" or
    "auto"; the results come back on the CPU.  For this call only, ``num_threads`` sets torch's threads (None:
    keep them) and ``flush_denormal`` treats subnormal floats as zero on the CPU (tiny gradients of the
    weight-decayed ReLU nets are subnormal and slow every product; see kaleido_lib.ensemble).
    """
    if not isinstance(X, torch.Tensor) or X.ndim not in (2, 3) or X.shape[-1] != 2:
        raise ValueError(
            f"X must be a tensor of shape (N, 2) (shared) or (len(seeds), N, 2) (per member); "
            f"got {getattr(X, 'shape', type(X).__name__)}"
        )
    check_finite_tensor("X", X)
    N = X.shape[-2]
    if not isinstance(y, torch.Tensor) or y.shape != (N,) or y.is_floating_point():
        raise ValueError(f"y must be integer labels of shape ({N},); got {getattr(y, 'shape', y)}")
    k = int(y.max()) + 1 if n_classes is None else check_int("n_classes", n_classes, 2)
    if int(y.min()) < 0 or int(y.max()) >= k or k < 2:
        raise ValueError(f"y must hold classes in [0, {k - 1}] with n_classes >= 2")
    _check_activation(activation)
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) or len(seeds) < 1:
        raise ValueError(f"seeds must be a non-empty sequence of integers >= 0; got {seeds!r}")
    for s in seeds:
        check_int("seeds", s, 0)
    check_int("epochs", epochs, 1)
    for name, v, strict in (("lr", lr, True), ("weight_decay", weight_decay, False)):
        if (
            isinstance(v, bool)
            or not isinstance(v, (int, float))
            or not math.isfinite(v)
            or v < 0
            or (strict and v == 0)
        ):
            raise ValueError(f"{name} must be a finite number {'>' if strict else '>='} 0; got {v!r}")
    snaps, keep_params = sorted(set(snapshot_epochs)), sorted(set(param_epochs))
    for name, kept_epochs in (("snapshot_epochs", snaps), ("param_epochs", keep_params)):
        if any(isinstance(e, bool) or not isinstance(e, int) or not 0 <= e <= epochs for e in kept_epochs):
            raise ValueError(f"{name} must hold integers in [0, {epochs}]; got {kept_epochs!r}")
    if num_threads is not None:
        check_int("num_threads", num_threads, 1)
    if not isinstance(flush_denormal, bool):
        raise ValueError(f"flush_denormal must be True or False; got {flush_denormal!r}")
    seeds = tuple(seeds)
    if X.ndim == 3 and X.shape[0] != len(seeds):
        raise ValueError(
            f"X of shape (S, N, 2) must have S = len(seeds) = {len(seeds)}; got S = {X.shape[0]}"
        )
    dev = get_device(device)
    nets = [make_spiral_net(k, activation, s, hidden, init) for s in seeds]
    params = []
    for j, _ in enumerate(nets[0].parameters()):
        ps = [list(n.parameters())[j].detach() for n in nets]
        params.append(torch.stack([p.T if p.ndim == 2 else p for p in ps]).to(dev).requires_grad_(True))
    weights = params[0::2]
    S = len(seeds)
    Xs = (X if X.ndim == 3 else X.expand(S, *X.shape)).to(dev, torch.float32)
    y = y.to(dev)
    y_rep = y.repeat(S)
    opt = train.make_adam(params, lr, "fused")  # the fused kernel where the device has one
    loss_rec, ce_rec, acc_rec = (torch.empty(S, epochs, device=dev) for _ in range(3))
    snap = torch.empty(len(snaps), S, N, hidden[-1], device=dev)
    pos = {e: j for j, e in enumerate(snaps)}
    kept: dict[int, list[torch.Tensor]] = {}
    it = range(epochs)
    if progress:
        it = tqdm(it, desc=f"{activation} K={k}", leave=False, mininterval=2.0)
    with cpu_settings(num_threads, flush_denormal):
        for e in it:
            if e in keep_params:
                kept[e] = [p.detach().cpu().clone() for p in params]
            h = _hidden(params, Xs, activation)
            logits = _head(params, h)
            ce = (
                nn.functional.cross_entropy(logits.reshape(S * N, k), y_rep, reduction="none")
                .view(S, N)
                .mean(1)
            )
            pen = sum(0.5 * (w**2).sum(dim=(1, 2)) for w in weights)
            total = ce + weight_decay * pen
            opt.zero_grad(set_to_none=True)
            total.sum().backward()  # members share no parameter: each gets its own gradient
            opt.step()
            with torch.no_grad():
                loss_rec[:, e], ce_rec[:, e] = total.detach(), ce.detach()
                acc_rec[:, e] = (logits.argmax(-1) == y).float().mean(1)
                if e in pos:
                    snap[pos[e]] = h.detach()
        with torch.no_grad():
            params = [p.detach().cpu() for p in params]
            if epochs in keep_params:
                kept[epochs] = params
            if epochs in pos:
                snap[pos[epochs]] = _hidden(params, Xs.cpu(), activation).to(dev)
    loss_rec = loss_rec.cpu()
    return SpiralTraining(
        params=params,
        loss=loss_rec,
        ce=ce_rec.cpu(),
        accuracy=acc_rec.cpu(),
        snapshot_epochs=snaps,
        snapshots=snap.cpu(),
        finite=torch.isfinite(loss_rec).all(dim=1),
        seeds=seeds,
        n_classes=k,
        activation=activation,
        hidden_sizes=tuple(hidden),
        param_snapshots=kept,
    )


# --- geometry of the 2-unit layer ---------------------------------------------------------------------------


def angles_deg(h: torch.Tensor) -> torch.Tensor:
    """atan2(h₂, h₁) in degrees in [0, 360), for rows h (n, 2)."""
    if not isinstance(h, torch.Tensor) or h.ndim < 1 or h.shape[-1] != 2:
        raise ValueError(f"h must be a tensor of shape (..., 2); got {getattr(h, 'shape', h)}")
    return torch.rad2deg(torch.atan2(h[..., 1], h[..., 0])) % 360.0


@dataclass
class CircularStats:
    """Circular mean (degrees, in [0, 360)), circular spread √(−2 ln R) (degrees) and mean resultant length R."""

    mean: float
    spread: float
    R: float
    n: int


def circular_stats(angles: torch.Tensor) -> CircularStats:
    """Circular mean and spread of angles in degrees (the spread is the circular standard deviation)."""
    a = torch.as_tensor(angles, dtype=torch.float64).reshape(-1)
    if a.numel() == 0:
        raise ValueError("angles must not be empty")
    if not torch.isfinite(a).all():
        raise ValueError("angles must be finite")
    rad = torch.deg2rad(a)
    c, s = float(rad.cos().mean()), float(rad.sin().mean())
    R = min(math.hypot(c, s), 1.0)
    mean = math.degrees(math.atan2(s, c)) % 360.0
    spread = abs(math.degrees(math.sqrt(-2.0 * math.log(R)))) if R > 0 else math.inf
    return CircularStats(mean=mean, spread=spread, R=R, n=a.numel())


def class_angle_stats(
    h: torch.Tensor, labels: torch.Tensor, n_classes: int, zero_tol: float = 1e-12
) -> tuple[list[CircularStats | None], torch.Tensor]:
    """Per class the circular statistics of atan2(h₂, h₁), and per class the count of points with ‖h‖ ≤ zero_tol.

    Points with h = 0 (a dead ReLU layer) have no direction: they are left out and counted; a class
    with no direction at all gets None.
    """
    check_finite_tensor("h", h, ndim=2)
    if h.shape[1] != 2 or labels.shape != (h.shape[0],) or labels.is_floating_point():
        raise ValueError(
            f"h must be (n, 2) and labels integer (n,); got {tuple(h.shape)}, {tuple(labels.shape)}"
        )
    check_int("n_classes", n_classes, 1)
    zero = h.norm(dim=1) <= zero_tol
    ang = angles_deg(h)
    stats: list[CircularStats | None] = []
    zeros = torch.zeros(n_classes, dtype=torch.int64)
    for c in range(n_classes):
        m = labels == c
        zeros[c] = int((m & zero).sum())
        keep = m & ~zero
        stats.append(circular_stats(ang[keep]) if keep.any() else None)
    return stats, zeros


def square_corners(low: float = -1.0, high: float = 1.0) -> torch.Tensor:
    """The four corners of [low, high]², (4, 2): (low, low), (high, low), (low, high), (high, high)."""
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"need finite low < high; got {low!r}, {high!r}")
    return torch.tensor([[low, low], [high, low], [low, high], [high, high]], dtype=torch.float64)


def nearest_corner(
    points: torch.Tensor, low: float = -1.0, high: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Distance of each point (n, 2) to the nearest corner of [low, high]² and that corner's index (see square_corners)."""
    check_finite_tensor("points", torch.as_tensor(points, dtype=torch.float64), ndim=2)
    p = torch.as_tensor(points, dtype=torch.float64)
    if p.shape[1] != 2:
        raise ValueError(f"points must have shape (n, 2); got {tuple(p.shape)}")
    return measures.nearest_distance(p, square_corners(low, high))


def min_pairwise_distance(points: torch.Tensor) -> float:
    """The smallest Euclidean distance between two of the points (n ≥ 2, D)."""
    p = torch.as_tensor(points, dtype=torch.float64)
    if p.ndim != 2 or p.shape[0] < 2:
        raise ValueError(f"points must have shape (n >= 2, D); got {tuple(p.shape)}")
    d = torch.cdist(p, p)
    d.fill_diagonal_(math.inf)
    return float(d.min())


def min_angular_gap(angles: Sequence[float] | torch.Tensor, circle: bool = False) -> float:
    """The smallest difference in degrees between two of the angles (n ≥ 2); ``circle``: around 360° as well."""
    a = torch.as_tensor(angles, dtype=torch.float64).reshape(-1)
    if a.numel() < 2 or not torch.isfinite(a).all():
        raise ValueError(f"angles must hold at least two finite values; got {a.tolist()}")
    s = torch.sort(a % 360.0 if circle else a).values
    gaps = s[1:] - s[:-1]
    if circle:
        gaps = torch.cat([gaps, (s[:1] + 360.0) - s[-1:]])
    return float(gaps.min())
