"""Manifold learning, the paper's Eq. 1: minimise the MSE of f(x) against x with Adam."""

from __future__ import annotations

import copy
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .utils import atomic_write_bytes, batch_indices, check_finite_tensor, check_int


@dataclass
class TrainResult:
    """Outcome of one training run.

    ``model`` holds the *best* weights seen: the loss of every epoch is the loss
    of the weights before that epoch's update (full batch: exactly the training
    loss; mini-batch: the mean over the epoch's batches), and whenever it is the
    lowest so far those weights are copied.  ``losses[k]`` is epoch k's loss.
    """

    model: nn.Module
    losses: torch.Tensor
    best_loss: float
    best_epoch: int
    epochs_run: int
    reached_target: bool
    final_loss: float


def train_manifold(
    model: nn.Module,
    X: torch.Tensor,
    *,
    epochs: int,
    lr: float = 1e-3,
    batch_size: int | None = None,
    target_loss: float | None = None,
    min_epochs: int = 0,
    generator: torch.Generator | None = None,
    progress: bool = False,
) -> TrainResult:
    """Train ``model`` so that model(X) ≈ X (Eq. 1) with Adam, full or mini batch.

    Stops after ``epochs`` epochs, or earlier once at least ``min_epochs`` have run
    and the epoch loss is ≤ ``target_loss``.  Mini-batches (``batch_size``) are
    drawn as a random permutation per epoch from ``generator``.
    """
    check_finite_tensor("X", X, ndim=2)
    check_int("epochs", epochs, 1)
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0; got {lr!r}")
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be None (full batch) or an integer >= 1; got {batch_size!r}")
    if target_loss is not None and not (target_loss >= 0):
        raise ValueError(f"target_loss must be None or >= 0; got {target_loss!r}")
    if not isinstance(min_epochs, int) or min_epochs < 0:
        raise ValueError(f"min_epochs must be an integer >= 0; got {min_epochs!r}")

    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999))
    n = X.shape[0]
    full = batch_size is None or batch_size >= n
    losses = torch.empty(epochs)
    best_loss, best_epoch = math.inf, -1
    best_state = copy.deepcopy(model.state_dict())
    epoch_iter = range(epochs)
    if progress:
        from tqdm import tqdm

        epoch_iter = tqdm(epoch_iter, desc="training", leave=False)
    done = 0
    for epoch in epoch_iter:
        if full:
            batches = [X]
        else:
            assert batch_size is not None  # else the batch is full
            perm = torch.randperm(n, generator=generator, device="cpu").to(X.device)
            batches = [X[perm[i : i + batch_size]] for i in range(0, n, batch_size)]
        total = 0.0
        snapshot = math.inf  # full batch: the loss of the one batch, before its update
        for xb in batches:
            loss = torch.mean((model(xb) - xb) ** 2)
            if full:
                snapshot = loss.item()
                if snapshot < best_loss:  # the weights that produced this loss
                    best_loss, best_epoch = snapshot, epoch
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * xb.shape[0]
        epoch_loss = snapshot if full else total / n
        if not full and epoch_loss < best_loss:
            best_loss, best_epoch = epoch_loss, epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        losses[epoch] = epoch_loss
        done = epoch + 1
        if not math.isfinite(epoch_loss):
            break
        if target_loss is not None and done >= min_epochs and epoch_loss <= target_loss:
            break
    model.load_state_dict(best_state)
    losses = losses[:done]
    return TrainResult(
        model=model,
        losses=losses,
        best_loss=best_loss,
        best_epoch=best_epoch,
        epochs_run=done,
        reached_target=target_loss is not None and best_loss <= target_loss,
        final_loss=float(losses[-1]),
    )


@dataclass
class LossTarget:
    """A stopping rule for :func:`train_steps`: go on past the step budget until the mean batch loss of the last
    ``window`` steps is at most ``target``, or until ``max_steps`` steps when it never is."""

    target: float
    window: int
    max_steps: int


@dataclass
class StepResult:
    """Outcome of step-wise mini-batch training: the final weights and every step's batch loss; with a
    :class:`LossTarget`, also the weights after the step budget and at the target (the last weights for a budget the
    run did not reach), and the step the target was met at (1-based; None if never)."""

    model: nn.Module
    losses: torch.Tensor
    steps: int
    finite: bool = True  # False: training stopped at a loss that was not finite
    reached: int | None = None
    at_steps: dict[str, torch.Tensor] | None = None
    at_target: dict[str, torch.Tensor] | None = None
    resumed_from: int = 0  # the step its checkpoint resumed it at (0: it ran from the start)


def _check_steps_args(steps: int, lr: float, batch_size: int) -> None:
    check_int("steps", steps, 1)
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0; got {lr!r}")
    check_int("batch_size", batch_size, 1)


ADAM_KERNELS: dict[str, dict[str, bool]] = {
    "foreach": {"foreach": True},
    "fused": {"fused": True},
    "single_tensor": {"foreach": False},
}
STEP_ADAM = "fused"
"""The Adam kernel of the image chapters' trainers (:func:`train_steps`, :func:`train_classifier`): the fused
kernel, the fastest per MNIST step in the performance chapter's measurements (which time every kernel). It
rounds differently from the others, so it is part of the weight cache's key."""
BLOCK = 100  # training steps whose batch rows are drawn (and moved to the device) at once
FUSED_DEVICES = ("cpu", "cuda")


def make_adam(params, lr: float, kernel: str = STEP_ADAM) -> torch.optim.Adam:
    """``torch.optim.Adam`` with betas (0.9, 0.999) and the given kernel: 'foreach', 'fused' or 'single_tensor'.

    'fused' falls back to 'foreach' for parameters on a device without a fused kernel.
    """
    if kernel not in ADAM_KERNELS:
        raise ValueError(f"kernel must be one of {list(ADAM_KERNELS)}; got {kernel!r}")
    params = list(params)
    if kernel == "fused" and any(p.device.type not in FUSED_DEVICES for p in params):
        kernel = "foreach"
    return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), **ADAM_KERNELS[kernel])


def _weights(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def train_steps(
    model: nn.Module,
    X: torch.Tensor,
    *,
    steps: int,
    lr: float,
    batch_size: int,
    generator: torch.Generator | None = None,
    progress: bool = False,
    until: LossTarget | None = None,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 500,
) -> StepResult:
    """Eq. 1 with Adam for ``steps`` steps, each on ``batch_size`` rows of X drawn at random without replacement.

    This is the authors' image protocol ("batch 1000 drawn at random each epoch", one Adam step per draw). The
    final weights are kept. Indices are drawn on the CPU from ``generator`` so a run repeats across devices,
    :data:`BLOCK` steps at a time and moved in one copy. Training stops early, with the losses so far, if a loss is
    not finite: after that step where losses are read every step (on the CPU, or with ``until``); on a GPU without
    ``until``, whose losses stay on the device, at the end of its block (the losses end at the first that is not
    finite).

    With ``until`` (a :class:`LossTarget`) the same run goes on until both the step budget is spent and the loss
    target is met (or its ``max_steps`` are reached), keeping the weights at each: one run serves a matched-steps and
    a matched-loss comparison, each following exactly the run it would have had alone. With ``checkpoint`` the run
    saves its state there every ``checkpoint_every`` steps and resumes from it (the same numbers as an unbroken
    run); the file is removed at the end.
    """
    check_finite_tensor("X", X, ndim=2)
    _check_steps_args(steps, lr, batch_size)
    if until is not None and (until.max_steps < steps or until.window < 1 or until.window > until.max_steps):
        raise ValueError(
            f"max_steps must be >= steps ({steps}) and window in [1, max_steps]; got {until.max_steps}, "
            f"{until.window}"
        )
    if checkpoint is not None and generator is None:
        raise ValueError("a checkpointed run needs a generator (its state is part of the checkpoint)")
    n = X.shape[0]
    batch_size = min(batch_size, n)
    opt = make_adam(model.parameters(), lr)
    cap = steps if until is None else until.max_steps
    each_step = X.device.type == "cpu" or until is not None  # reading a loss stalls a GPU's queue
    losses = torch.empty(cap, device="cpu" if each_step else X.device)
    done = 0
    reached: int | None = None
    at_steps: dict[str, torch.Tensor] | None = None
    at_target: dict[str, torch.Tensor] | None = None
    ckpt = Path(checkpoint) if checkpoint is not None else None
    if ckpt is not None and ckpt.exists():
        assert generator is not None  # checked above
        state = torch.load(ckpt, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        generator.set_state(state["generator"])
        done, reached = int(state["done"]), state["reached"]
        losses[:done] = state["losses"]
        at_steps, at_target = state["at_steps"], state["at_target"]
    resumed_from = done
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=cap, initial=done, desc="training", leave=False, mininterval=2.0)
    finite = True
    block_start = done
    pending = torch.empty(0, batch_size, dtype=torch.int64)  # this block's batch rows, drawn ahead
    while done < steps or (until is not None and reached is None and done < cap):
        if not pending.shape[0]:
            block = min(BLOCK, (cap if until is not None and reached is None else steps) - done)
            if ckpt is not None:
                block = min(
                    block, checkpoint_every - done % checkpoint_every
                )  # a block ends at each checkpoint
            pending = batch_indices(n, batch_size, block, generator, X.device)
            block_start = done
        idx, pending = pending[0], pending[1:]
        xb = X[idx]
        loss = torch.mean((model(xb) - xb) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses[done] = loss.detach().to(losses.device)
        done += 1
        if bar is not None:
            bar.update()
        if each_step:
            finite = math.isfinite(float(losses[done - 1]))
        elif not pending.shape[0]:  # a GPU's losses are checked once a block
            bad = (~torch.isfinite(losses[block_start:done])).nonzero()
            if bad.numel():
                done, finite = block_start + int(bad[0]) + 1, False
        if not finite:
            break
        if until is not None:
            w = until.window
            if reached is None and done >= w and float(losses[done - w : done].mean()) <= until.target:
                reached, at_target = done, _weights(model)
            if done == steps:
                at_steps = _weights(model)
        if ckpt is not None and done % checkpoint_every == 0 and not pending.shape[0]:
            buf = io.BytesIO()
            torch.save(
                {
                    "model": model.state_dict(),
                    "opt": opt.state_dict(),
                    "generator": generator.get_state() if generator is not None else None,
                    "done": done,
                    "reached": reached,
                    "losses": losses[:done].clone(),
                    "at_steps": at_steps,
                    "at_target": at_target,
                },
                buf,
            )
            atomic_write_bytes(ckpt, buf.getvalue())
    if bar is not None:
        bar.close()
    if ckpt is not None:
        ckpt.unlink(missing_ok=True)
    if until is not None:  # a budget the run did not reach holds the last weights
        last = _weights(model)
        at_steps = at_steps if at_steps is not None else last
        at_target = at_target if at_target is not None else last
    return StepResult(
        model=model,
        losses=losses[:done].to("cpu", copy=True),
        steps=done,
        finite=finite,
        reached=reached,
        at_steps=at_steps,
        at_target=at_target,
        resumed_from=resumed_from,
    )


@dataclass
class BudgetRun:
    """One run serving two budgets: the weights after ``steps`` steps and at the first step where the mean loss of
    the last ``window`` steps is at most the target (or at the step cap when it never is)."""

    losses: torch.Tensor  # every step's batch loss, until both budgets were met or a loss was not finite
    at_steps: dict[str, torch.Tensor]  # the weights after the step budget (or where a loss was not finite)
    at_target: dict[str, torch.Tensor]  # the weights at the loss target (or at the cap, or where not finite)
    reached: int | None  # the step (1-based) at which the target was met, None if never
    finite: bool
    resumed_from: int = 0  # the step its checkpoint resumed it at (0: it ran from the start)


def train_two_budgets(
    model: nn.Module,
    X: torch.Tensor,
    *,
    steps: int,
    target: float,
    window: int,
    max_steps: int,
    lr: float,
    batch_size: int,
    generator: torch.Generator,
    progress: bool = False,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 500,
) -> BudgetRun:
    """:func:`train_steps` with the stopping rule ``LossTarget(target, window, max_steps)``, its outcome as a
    :class:`BudgetRun`."""
    r = train_steps(
        model,
        X,
        steps=steps,
        lr=lr,
        batch_size=batch_size,
        generator=generator,
        progress=progress,
        until=LossTarget(target, window, max_steps),
        checkpoint=checkpoint,
        checkpoint_every=checkpoint_every,
    )
    assert r.at_steps is not None and r.at_target is not None  # kept whenever there is a loss target
    return BudgetRun(
        losses=r.losses,
        at_steps=r.at_steps,
        at_target=r.at_target,
        reached=r.reached,
        finite=r.finite,
        resumed_from=r.resumed_from,
    )


@dataclass
class ClassifierResult:
    """A trained classifier with its per-step training loss."""

    model: nn.Module
    losses: torch.Tensor


def train_classifier(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int,
    lr: float = 1e-3,
    batch_size: int = 128,
    generator: torch.Generator | None = None,
    progress: bool = False,
) -> ClassifierResult:
    """Cross-entropy training with Adam over ``epochs`` shuffled passes through (X, y)."""
    check_finite_tensor("X", X, ndim=2)
    if y.ndim != 1 or y.shape[0] != X.shape[0] or y.is_floating_point():
        raise ValueError(f"y must be integer labels of shape ({X.shape[0]},); got {tuple(y.shape)} {y.dtype}")
    _check_steps_args(epochs, lr, batch_size)
    opt = make_adam(model.parameters(), lr)
    n = X.shape[0]
    per_epoch = math.ceil(n / batch_size)
    losses = torch.empty(epochs * per_epoch)
    it = range(epochs * per_epoch)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, desc="classifier", leave=False, mininterval=2.0)
    model.train()
    perm = torch.empty(0, dtype=torch.int64)  # drawn at the first step of each epoch
    for k in it:
        j = k % per_epoch
        if j == 0:
            perm = torch.randperm(n, generator=generator).to(X.device)
        idx = perm[j * batch_size : (j + 1) * batch_size]
        loss = nn.functional.cross_entropy(model(X[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses[k] = loss.detach().cpu()
    model.eval()
    return ClassifierResult(model=model, losses=losses)


@torch.no_grad()
def predict(model: nn.Module, X: torch.Tensor, batch_size: int = 2000) -> tuple[torch.Tensor, torch.Tensor]:
    """Predicted class and its softmax probability for each row of X."""
    check_finite_tensor("X", X, ndim=2)
    model.eval()
    preds, confs = [], []
    for i in range(0, X.shape[0], batch_size):
        p = torch.softmax(model(X[i : i + batch_size]), dim=1)
        c, k = p.max(dim=1)
        preds.append(k.cpu())
        confs.append(c.cpu())
    return torch.cat(preds), torch.cat(confs)
