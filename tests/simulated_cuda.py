"""A simulated CUDA device for machines without a GPU: tensors that compute on the CPU but say they live on
'cuda', and raise wherever real CUDA would (a CPU tensor of dimension > 0 mixed into an op with one, a CPU generator
filling one, ``.numpy()`` or ``np.asarray`` of one). ``install()`` turns it on for the whole process: a chapter run
with ``device="cuda"`` then goes through the GPU path of every function it calls.

Usage (what ``tests/test_device_strict.py`` injects as the first cell of a chapter)::

    import simulated_cuda
    simulated_cuda.install()
"""

from __future__ import annotations

import contextlib

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten, tree_map

CUDA = torch.device("meta")  # what the simulated tensors report: a device with a no-op guard in every build
aten = torch.ops.aten


class DeviceMixError(RuntimeError):
    """What real CUDA raises: an op given tensors on two devices, or a CPU generator for a CUDA tensor."""


class OnDevice(torch.Tensor):
    """A CPU tensor (``elem``) that reports the device cuda:0."""

    elem: torch.Tensor

    @staticmethod
    def __new__(cls, elem: torch.Tensor) -> OnDevice:
        out = torch.Tensor._make_wrapper_subclass(  # type: ignore[attr-defined]
            cls,
            elem.shape,
            strides=elem.stride(),
            storage_offset=elem.storage_offset(),
            dtype=elem.dtype,
            layout=elem.layout,
            device=CUDA,
            requires_grad=elem.requires_grad,
        )
        out.elem = elem
        return out

    def __repr__(self) -> str:
        return f"OnDevice({self.elem!r})"

    def numpy(self, *args, **kwargs):
        raise TypeError(
            "can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the tensor to "
            "host memory first."
        )

    def __array__(self, *args, **kwargs):
        self.numpy()

    __torch_function__ = torch._C._disabled_torch_function_impl

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        return _run(func, args, kwargs or {})


TRANSFERS = {
    aten._to_copy.default,
    aten.copy_.default,
    aten._copy_from.default,
    aten._copy_from_and_resize.default,
}
SCALAR_OK = 0  # a CPU tensor of this many dimensions may join a CUDA op (torch allows 0-dim CPU scalars)


def _unwrap(x):
    return x.elem if isinstance(x, OnDevice) else x


def _wrap(x):
    return OnDevice(x) if isinstance(x, torch.Tensor) and not isinstance(x, OnDevice) else x


def _is_cuda(d) -> bool:
    return d is not None and torch.device(d).type in ("cuda", "meta")


def _run(func, args, kwargs):
    flat, _ = tree_flatten((args, kwargs))
    on_dev = [t for t in flat if isinstance(t, OnDevice)]
    on_cpu = [
        t for t in flat if isinstance(t, torch.Tensor) and not isinstance(t, OnDevice) and t.dim() > SCALAR_OK
    ]
    gens = [g for g in flat if isinstance(g, torch.Generator)]
    wants_cuda = _is_cuda(kwargs.get("device"))
    if func in TRANSFERS:
        if func is aten._to_copy.default:  # .to(device) / .cpu() / .cuda(): the device kwarg decides
            out_dev = kwargs.get("device")
            kw = dict(kwargs, device=None if _is_cuda(out_dev) else out_dev)
            kw = {k: v for k, v in kw.items() if v is not None and k != "non_blocking"}
            res = func(_unwrap(args[0]), *args[1:], **kw)
            dest_cuda = _is_cuda(out_dev) or (out_dev is None and isinstance(args[0], OnDevice))
            return OnDevice(res) if dest_cuda else res
        dst = args[0]
        res = func(*tree_map(_unwrap, args), **tree_map(_unwrap, kwargs))
        return dst if isinstance(dst, OnDevice) else res
    if gens and (on_dev or wants_cuda) and any(g.device.type == "cpu" for g in gens):
        raise DeviceMixError(f"{func}: a CPU generator cannot fill a CUDA tensor")
    if on_dev and on_cpu:
        shapes = [tuple(t.shape) for t in on_cpu]
        raise DeviceMixError(
            f"{func}: expected all tensors to be on the same device, but found at least two "
            f"devices, cuda:0 and cpu (CPU tensors of shape {shapes})"
        )
    if func is aten._pin_memory.default or func is aten.is_pinned.default:
        return args[0].clone() if func is aten._pin_memory.default else False
    kw = tree_map(_unwrap, kwargs)
    if wants_cuda:
        kw["device"] = torch.device("cpu")
    res = func(*tree_map(_unwrap, args), **kw)
    if on_dev or wants_cuda:
        return tree_map(_wrap, res)
    return res


class Simulator(TorchFunctionMode):
    """Calls that would start CUDA (a factory with device='cuda', ``.to('cuda')``, ``.cuda()``) compute on the CPU
    and return :class:`OnDevice` tensors; ``.cpu()`` of one returns a plain copy."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        self_t = args[0] if args and isinstance(args[0], torch.Tensor) else None
        if func in (torch.Tensor.to, torch.Tensor.cuda, torch.Tensor.cpu) and self_t is not None:
            if func is torch.Tensor.to:
                parse_kw = {k: v for k, v in kwargs.items() if k not in ("copy", "non_blocking")}
                dest, dtype, _, fmt = torch._C._nn._parse_to(*args[1:], **parse_kw)
            else:
                dest, dtype, fmt = torch.device("cuda" if func is torch.Tensor.cuda else "cpu"), None, None
            kw = {k: v for k, v in (("dtype", dtype), ("memory_format", fmt)) if v is not None}
            if isinstance(self_t, OnDevice):
                if dest is None or _is_cuda(dest):
                    return OnDevice(self_t.elem.to(**kw)) if kw else self_t
                return self_t.elem.to(**kw).clone()
            if _is_cuda(dest):
                return OnDevice(self_t.to(**kw).clone())
            return func(*args, **kwargs)
        if func in (torch.Tensor.__getitem__, torch.Tensor.__setitem__) and isinstance(self_t, OnDevice):
            # indexing a CUDA tensor accepts CPU index tensors (torch moves them); a CPU value set into it does not
            if (
                func is torch.Tensor.__setitem__
                and isinstance(args[2], torch.Tensor)
                and not isinstance(args[2], OnDevice)
                and args[2].dim() > SCALAR_OK
            ):
                raise DeviceMixError("__setitem__: a CPU tensor assigned into a CUDA tensor")
            out = func(self_t.elem, *tree_map(_unwrap, args[1:]), **kwargs)
            return _wrap(out) if out is not None else None
        if func is torch.Tensor.pin_memory and self_t is not None:  # no page-locked memory without a GPU
            return self_t.clone()
        if func in (torch.Tensor.tolist, torch.Tensor.item) and isinstance(self_t, OnDevice):
            return func(self_t.elem, *args[1:], **kwargs)
        if _is_cuda(kwargs.get("device")):
            gen = kwargs.get("generator")
            if gen is not None and gen.device.type == "cpu":
                raise DeviceMixError(f"{func.__name__}: a CPU generator cannot fill a CUDA tensor")
            return tree_map(_wrap, func(*args, **dict(kwargs, device=torch.device("cpu"))))
        return func(*args, **kwargs)


class Inside(TorchDispatchMode):
    """Tensors that torch's own composite ops make on the simulated device (``options()`` of an input) are CPU
    tensors wrapped as :class:`OnDevice`, and ops on them go through the same checks."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        flat, _ = tree_flatten((args, kwargs))
        if any(isinstance(t, OnDevice) for t in flat) or _is_cuda(kwargs.get("device")):
            return _run(func, args, kwargs)
        return func(*args, **kwargs)


_MODE: contextlib.ExitStack | None = None


def install() -> None:
    """Simulate one CUDA device for the rest of the process (torch.cuda answers as if it had one)."""
    global _MODE
    if _MODE is not None:
        return
    cuda = torch.cuda
    cuda.is_available = lambda: True  # type: ignore[assignment]
    cuda.device_count = lambda: 1  # type: ignore[assignment]
    cuda.get_device_name = lambda *a, **k: "simulated CUDA device"  # type: ignore[assignment]
    cuda.synchronize = lambda *a, **k: None  # type: ignore[assignment]
    cuda.manual_seed = lambda *a, **k: None  # type: ignore[assignment]
    cuda.manual_seed_all = lambda *a, **k: None  # type: ignore[assignment]
    cuda.is_initialized = lambda: True  # type: ignore[assignment]
    torch.backends.cudnn.version = lambda: 0  # type: ignore[assignment]
    _MODE = contextlib.ExitStack()
    _MODE.enter_context(Simulator())
    _MODE.enter_context(Inside())
