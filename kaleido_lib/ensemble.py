"""Train many independent MLPs of one shape at once, as stacked tensors (an ensemble).

Member i starts as the net a lone run builds, ``seed_everything(seeds[i]); make_mlp(...)``, and is
trained as :func:`kaleido_lib.train.train_manifold` trains it with full batches: Adam on the MSE of
f(X) against X, the best pre-update weights kept, and the same stopping rule, per member.  The
members agree with lone runs up to float rounding (batched matrix products sum in another order).

Layout: during training the parameters of the members still in the batch sit in one (A, P) matrix,
a row per member, layer after layer; each layer is a view into it, the weight transposed, (A, in, out),
as ``torch.baddbmm`` takes it, and the bias (A, out).  Adam runs on the whole matrix at once.  A member
that stops is frozen at once (its records and best weights no longer change) and leaves the batch
at the next check, so the epochs after cost only what the remaining members need.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from .models import check_out_act, make_mlp
from .utils import check_finite_tensor, check_int, get_device, seed_everything

BETA1, BETA2, EPS = 0.9, 0.999, 1e-8  # torch.optim.Adam's defaults, as train_manifold uses
# sqrt is slow on zeros and subnormals on CPU; below _TINY, sqrt(v)/sqrt(1 - β2^t) + EPS rounds to EPS
# in float32 for every t ≥ 1 (sqrt(1e-36)/sqrt(0.001) < ulp(EPS)/2), so raising v to _TINY there
# changes no bit of the denominator.
_TINY = 1e-36


def layer_shapes(dim: int, depth: int, width: int) -> list[tuple[int, int]]:
    """(out, in) of every Linear layer of ``make_mlp(dim, depth, width)``."""
    return [(width, dim)] + [(width, width)] * (depth - 1) + [(dim, width)]


def _views(flat: torch.Tensor, shapes: list[tuple[int, int]]) -> list[torch.Tensor]:
    """Weight (A, in, out) and bias (A, out) views of each layer into the rows of ``flat`` (A, P)."""
    views, off, rows = [], 0, flat.shape[0]
    for n_out, n_in in shapes:
        views.append(flat[:, off : off + n_out * n_in].view(rows, n_in, n_out))
        off += n_out * n_in
        views.append(flat[:, off : off + n_out])
        off += n_out
    return views


def _forward(params: Sequence[torch.Tensor], x: torch.Tensor, out_act: str) -> torch.Tensor:
    """All members at once: x (A, n, D) → (A, n, D) through weights (A, in, out) and biases (A, out)."""
    n_layers = len(params) // 2
    for k in range(n_layers):
        x = torch.baddbmm(params[2 * k + 1].unsqueeze(1), x, params[2 * k])
        if k < n_layers - 1:
            x = torch.relu(x)
    if out_act == "sigmoid":
        return torch.sigmoid(x)
    return torch.tanh(x) if out_act == "tanh" else x


@contextmanager
def cpu_settings(num_threads: int | None, flush_denormal: bool) -> Iterator[None]:
    """Inside the block use ``num_threads`` intra-op threads and flush subnormals or not; restore both after."""
    threads = torch.get_num_threads()
    flushing = torch.tensor([1e-39]).item() == 0.0  # a subnormal survives unless flushing is on
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    torch.set_flush_denormal(flush_denormal)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.set_flush_denormal(flushing)


@dataclass
class EnsembleResult:
    """Outcome of :func:`train_ensemble`; member i matches a lone ``train_manifold`` run from seeds[i].

    ``params`` are the members' *best* weights, layer after layer as in ``make_mlp(...).parameters()``
    but each weight transposed: weights (E, in, out) and biases (E, out).  ``losses[i, k]`` is member
    i's loss at epoch k (the loss of its weights before that epoch's update), NaN once it has stopped;
    ``best_loss`` is float64 (it holds float32 values), the other records are per member too.
    """

    params: list[torch.Tensor]
    losses: torch.Tensor
    best_loss: torch.Tensor
    best_epoch: torch.Tensor
    epochs_run: torch.Tensor
    reached_target: torch.Tensor
    final_loss: torch.Tensor
    seeds: tuple[int, ...]
    dim: int
    depth: int
    width: int
    out_act: str

    @property
    def n_members(self) -> int:
        """Number of members E."""
        return len(self.seeds)

    def _index(self, i: int) -> int:
        if isinstance(i, bool) or not isinstance(i, int) or not -self.n_members <= i < self.n_members:
            raise ValueError(f"i must be an integer in [0, {self.n_members}); got {i!r}")
        return i % self.n_members

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Every member on x, (E, n, D) or (n, D) for all members alike → (E, n, D)."""
        if not isinstance(x, torch.Tensor) or x.ndim not in (2, 3) or x.shape[-1] != self.dim:
            raise ValueError(
                f"x must be a tensor of shape (n, {self.dim}) or ({self.n_members}, n, {self.dim})"
            )
        if x.ndim == 3 and x.shape[0] != self.n_members:
            raise ValueError(
                f"x of 3 dimensions must have {self.n_members} rows (one per member); got {x.shape[0]}"
            )
        if x.ndim == 2:
            x = x.expand(self.n_members, *x.shape)
        return _forward(self.params, x, self.out_act)

    __call__ = forward

    def forward_fn(self, i: int) -> Callable[[torch.Tensor], torch.Tensor]:
        """Member i as a function (n, D) → (n, D), cheap to make (e.g. for kaleidoscopic sampling)."""
        i = self._index(i)
        layers = [(self.params[2 * k][i], self.params[2 * k + 1][i]) for k in range(len(self.params) // 2)]
        out_act = self.out_act

        def f(
            x: torch.Tensor,
        ) -> torch.Tensor:  # no no_grad here: Jacobians of members must not come out zero
            for k, (w, b) in enumerate(layers):
                x = torch.addmm(b, x, w)
                if k < len(layers) - 1:
                    x = torch.relu(x)
            if out_act == "sigmoid":
                return torch.sigmoid(x)
            return torch.tanh(x) if out_act == "tanh" else x

        return f

    def member(self, i: int) -> nn.Sequential:
        """Member i as a ``make_mlp`` module holding its best weights, in eval mode (uses no RNG)."""
        i = self._index(i)
        with torch.device("meta"):
            net = make_mlp(self.dim, self.depth, self.width, self.out_act)
        names = [name for name, _ in net.named_parameters()]
        state = {n: (p[i].T if p.ndim == 3 else p[i]).clone() for n, p in zip(names, self.params)}
        net.load_state_dict(state, assign=True)
        return net.eval()


def check_inputs(
    X,
    seeds,
    depth,
    width,
    out_act,
    epochs,
    lr,
    target_loss=None,
    min_epochs=0,
    num_threads=None,
    flush_denormal=True,
    check_every=None,
) -> tuple[int, ...]:
    """Raise ValueError on a bad argument of :func:`train_ensemble`; return the seeds as a tuple."""
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) or len(seeds) < 1:
        raise ValueError(f"seeds must be a non-empty sequence of integers >= 0; got {seeds!r}")
    seeds = tuple(seeds)
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise ValueError(f"seeds must hold integers >= 0 only; got {s!r}")
    if not isinstance(X, torch.Tensor) or X.ndim not in (2, 3):
        shape = tuple(X.shape) if isinstance(X, torch.Tensor) else type(X).__name__
        raise ValueError(
            f"X must be a tensor of shape (M, D) (shared) or (len(seeds), M, D) (per member); got {shape}"
        )
    check_finite_tensor("X", X)
    if X.ndim == 3 and X.shape[0] != len(seeds):
        raise ValueError(
            f"X of shape (E, M, D) must have E = len(seeds) = {len(seeds)}; got E = {X.shape[0]}"
        )
    if X.dtype != torch.get_default_dtype():
        raise ValueError(f"X must have the nets' dtype {torch.get_default_dtype()}; got {X.dtype}")
    check_int("depth", depth, 1)
    check_int("width", width, 1)
    check_out_act(out_act)
    check_int("epochs", epochs, 1)
    if isinstance(lr, bool) or not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0; got {lr!r}")
    if target_loss is not None and (
        isinstance(target_loss, bool) or not isinstance(target_loss, (int, float)) or not target_loss >= 0
    ):
        raise ValueError(f"target_loss must be None or a number >= 0; got {target_loss!r}")
    check_int("min_epochs", min_epochs, 0)
    if num_threads is not None:
        check_int("num_threads", num_threads, 1)
    if not isinstance(flush_denormal, bool):
        raise ValueError(f"flush_denormal must be True or False; got {flush_denormal!r}")
    if check_every is not None:
        check_int("check_every", check_every, 1)
    return seeds


def train_ensemble(
    X: torch.Tensor,
    seeds: Sequence[int],
    *,
    depth: int,
    width: int,
    out_act: str,
    epochs: int,
    lr: float = 1e-3,
    target_loss: float | None = None,
    min_epochs: int = 0,
    device: str | torch.device = "cpu",
    num_threads: int | None = 1,
    flush_denormal: bool = True,
    check_every: int | None = None,
) -> EnsembleResult:
    """Train one ``make_mlp`` net per seed on X (M, D) shared or (E, M, D) per member, all at once.

    Full batch, one Adam step per epoch, as ``train_manifold``; member i stops after ``epochs``
    epochs, or once at least ``min_epochs`` have run and its loss is ≤ ``target_loss``, or at a
    non-finite loss.  Stopped members leave the batch every ``check_every`` epochs (default: 1 on
    CPU, 16 on CUDA, where checking waits for the device).

    For this call only, ``num_threads`` sets torch's intra-op threads (None: keep torch's number;
    one thread is the fastest for these small nets on a few cores) and ``flush_denormal`` treats
    subnormal floats (below 1.2e-38) as zero on the CPU: tiny gradients of deep nets are subnormal
    and make matrix products several times slower, while flushing them changes the results by far
    less than float rounding does elsewhere.  Flushing acts on the calling thread only, so it works
    fully with one thread.
    """
    seeds = check_inputs(
        X,
        seeds,
        depth,
        width,
        out_act,
        epochs,
        lr,
        target_loss,
        min_epochs,
        num_threads,
        flush_denormal,
        check_every,
    )
    dev = device if isinstance(device, torch.device) else get_device(device)
    if check_every is None:
        check_every = 1 if dev.type == "cpu" else 16
    dim = X.shape[-1]
    shapes = layer_shapes(dim, depth, width)
    init = []
    for s in seeds:  # exactly the initialisation of a lone run
        seed_everything(s)
        net = make_mlp(dim, depth, width, out_act)
        init.append(torch.cat([(p.T if p.ndim == 2 else p).reshape(-1) for p in net.parameters()]).detach())
    with cpu_settings(num_threads, flush_denormal), torch.no_grad():
        return _train(
            X.to(dev),
            torch.stack(init).to(dev),
            seeds,
            shapes,
            depth,
            width,
            out_act,
            epochs,
            lr,
            target_loss,
            min_epochs,
            check_every,
        )


def _train(X, flat, seeds, shapes, depth, width, out_act, epochs, lr, target_loss, min_epochs, check_every):
    """The epoch loop of :func:`train_ensemble` on validated inputs; ``flat`` (E, P) holds the initial weights."""
    n_members, dev = flat.shape[0], flat.device
    # Per-member state of the members still in the batch, row r belonging to member rows["idx"][r].
    rows = {
        "idx": torch.arange(n_members, device=dev),
        "p": flat.clone(),
        "m": torch.zeros_like(flat),
        "v": torch.zeros_like(flat),
        "best_p": flat.clone(),
        "best_loss": torch.full((n_members,), math.inf, dtype=torch.float64, device=dev),
        "best_epoch": torch.full((n_members,), -1, dtype=torch.long, device=dev),
        "run": torch.full((n_members,), epochs, dtype=torch.long, device=dev),
        "live": torch.ones(n_members, dtype=torch.bool, device=dev),
    }
    if X.ndim == 3:
        rows["X"] = X
    # Results of all members, filled in as members leave the batch.
    out = {k: rows[k].clone() for k in ("best_p", "best_loss", "best_epoch", "run")}
    losses = torch.full((epochs, n_members), math.nan, dtype=flat.dtype, device=dev)

    def flush(sel: torch.Tensor) -> None:
        for k in out:
            out[k][rows["idx"][sel]] = rows[k][sel]

    rebuild = True
    for epoch in range(epochs):
        if rebuild:  # (re)build the layer views and buffers after the batch changed
            n_rows = rows["p"].shape[0]
            grad, denom = torch.empty_like(rows["p"]), torch.empty_like(rows["p"])
            leaves = [t.requires_grad_() for t in _views(rows["p"], shapes)]
            x = rows["X"] if "X" in rows else X.expand(n_rows, *X.shape)
            rebuild = False
        p, m, v, live = rows["p"], rows["m"], rows["v"], rows["live"]
        with torch.enable_grad():
            loss = ((_forward(leaves, x, out_act) - x) ** 2).mean(dim=(1, 2))
            grads = torch.autograd.grad(loss.sum(), leaves)
        torch.cat([g.reshape(n_rows, -1) for g in grads], dim=1, out=grad)
        loss = loss.detach()
        loss64 = loss.double()
        losses[epoch].index_copy_(0, rows["idx"], torch.where(live, loss, math.nan))
        # Keep the pre-update weights of every live member whose loss is a new strict minimum.
        better = live & (loss64 < rows["best_loss"])
        rows["best_loss"] = torch.where(better, loss64, rows["best_loss"])
        rows["best_epoch"].masked_fill_(better, epoch)
        torch.where(better.unsqueeze(1), p, rows["best_p"], out=rows["best_p"])
        # Adam as torch.optim.Adam's single-tensor step; all live members are at step epoch + 1.
        step = epoch + 1
        m.lerp_(grad, 1 - BETA1)
        v.mul_(BETA2).addcmul_(grad, grad, value=1 - BETA2)
        torch.clamp_min(v, _TINY, out=denom).sqrt_().div_((1 - BETA2**step) ** 0.5).add_(EPS)
        p.addcdiv_(m, denom, value=-lr / (1 - BETA1**step))
        # Stopping, per member: a non-finite loss, or the target once min_epochs have run.
        stop = ~torch.isfinite(loss)
        if target_loss is not None and step >= min_epochs:
            stop |= loss64 <= target_loss
        stop &= live
        rows["run"].masked_fill_(stop, step)
        live &= ~stop
        if step % check_every == 0 and not live.all():  # stopped members leave the batch
            flush(~live)
            rows = {k: t[live] for k, t in rows.items()}
            if rows["idx"].numel() == 0:
                break
            rebuild = True
    flush(torch.ones_like(rows["live"]))
    epochs_done = int(out["run"].max())
    losses = losses[:epochs_done].T.contiguous()
    best_loss = out["best_loss"]
    last = losses.gather(1, (out["run"] - 1).unsqueeze(1)).squeeze(1)
    return EnsembleResult(
        params=[t.clone() for t in _views(out["best_p"], shapes)],
        losses=losses,
        best_loss=best_loss,
        best_epoch=out["best_epoch"],
        epochs_run=out["run"],
        reached_target=best_loss <= (target_loss if target_loss is not None else -math.inf),
        final_loss=last,
        seeds=seeds,
        dim=shapes[0][1],
        depth=depth,
        width=width,
        out_act=out_act,
    )
