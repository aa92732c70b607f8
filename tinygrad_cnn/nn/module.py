"""Module: the base of every layer and model. Parameters and sub-modules are found by attribute."""
from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np

from .. import function
from ..tensor import HookHandle, Tensor

__all__ = ["Parameter", "Buffer", "Module", "Sequential"]


class Parameter(Tensor):
    """A Tensor a Module learns: requires grad, and ``named_parameters`` finds it."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)


class Buffer(Tensor):
    """A Tensor a Module keeps but does not learn (BatchNorm's running statistics): in
    ``state_dict``, never in ``parameters()``."""

    __slots__ = ()

    def __init__(self, data: Any, dtype: Any = None):
        super().__init__(data, requires_grad=False, dtype=dtype)


class Module:
    """Base class of layers and models: subclass it, assign Parameters and Modules as
    attributes in ``__init__`` (after ``super().__init__()``), and write ``forward``."""

    training: bool = True

    def __init__(self) -> None:
        self.training = True

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; call the module (``module(x)``) rather than this, so hooks run."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with function.module_scope(self):  # so the graph knows which module ran each op
            output = self.forward(*args, **kwargs)
        for hook in self.__dict__.get("_forward_hooks", ()):
            replaced = hook(self, args, output)
            output = output if replaced is None else replaced
        return output

    def register_forward_hook(self, hook: Callable[["Module", tuple, Any], Any]) -> HookHandle:
        """Call ``hook(module, inputs, output)`` after each forward; a non-None return value
        replaces the output. Returns a handle whose ``remove()`` unregisters it."""
        hooks = self.__dict__.setdefault("_forward_hooks", [])
        hooks.append(hook)
        return HookHandle(hooks, hook)

    # ---- structure -----------------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        """Direct sub-modules, in the order they were assigned."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value

    def children(self) -> Iterator["Module"]:
        """Direct sub-modules, in the order they were assigned."""
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        """This module (named ``prefix``) and all below it, depth first, qualified names."""
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            yield name, module
            below = [(f"{name}.{child}" if name else child, m) for child, m in module.named_children()]
            stack.extend(reversed(below))

    def _named_tensors(self, kind: type) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        for module_name, module in self.named_modules():
            for name, value in vars(module).items():
                if isinstance(value, kind) and id(value) not in seen:
                    seen.add(id(value))
                    yield (f"{module_name}.{name}" if module_name else name), value

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """Every Parameter below this module with its qualified name (``0.weight``, ``conv1.bias``);
        a parameter shared by several modules is listed once."""
        return self._named_tensors(Parameter)

    def named_buffers(self) -> Iterator[tuple[str, Buffer]]:
        """Every Buffer below this module with its qualified name (``1.running_mean``)."""
        return self._named_tensors(Buffer)

    def parameters(self) -> list[Parameter]:
        """Every Parameter below this module, each once, in ``named_parameters`` order."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Forget every parameter's accumulated gradient."""
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> "Module":
        """Set training mode on this module and all below it."""
        for _, module in self.named_modules():
            module.training = mode
        return self

    def eval(self) -> "Module":
        """Set evaluation mode on this module and all below it (``train(False)``)."""
        return self.train(False)

    # ---- state -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Qualified parameter and buffer names -> copies of their arrays; loads into the same
        PyTorch model."""
        return {name: t.data.copy() for name, t in (*self.named_parameters(), *self.named_buffers())}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Copy arrays into the parameters. Every key and shape is checked before any is
        applied, so a mismatch leaves the module unchanged."""
        if not isinstance(state, dict):
            raise TypeError(f"load_state_dict: {type(self).__name__}: expected a dict of arrays, got {type(state).__name__}")
        params = dict((*self.named_parameters(), *self.named_buffers()))
        missing = [k for k in params if k not in state]
        unexpected = [k for k in state if k not in params]
        mismatched = [
            f"{k}: expected {params[k].shape}, got {np.shape(state[k])}"
            for k in params if k in state and np.shape(state[k]) != params[k].shape
        ]
        if missing or unexpected or mismatched:
            problems = [f"missing keys {missing}" if missing else "", f"unexpected keys {unexpected}" if unexpected else "",
                        f"shape mismatch: {'; '.join(mismatched)}" if mismatched else ""]
            raise ValueError(f"load_state_dict: {type(self).__name__}: " + "; ".join(p for p in problems if p))
        for name, p in params.items():
            p.data = np.array(state[name], dtype=p.dtype)  # a new array: graphs may hold the old one

    def save(self, path: str) -> None:
        """Write ``state_dict()`` to an .npz file."""
        from ..serialization import save
        save(self.state_dict(), path)

    def load(self, path: str) -> "Module":
        """Read weights written by :meth:`save`, or the "model" entry of a checkpoint written by
        :func:`tinygrad_cnn.save` (no pickles), and load them."""
        from ..serialization import load
        state = load(path)
        self.load_state_dict(state["model"] if isinstance(state, dict) and "model" in state else state)
        return self

    # ---- printing ----------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The arguments shown between the parentheses of this module's repr."""
        return ""

    def __repr__(self) -> str:
        children = [f"  ({name}): " + repr(m).replace("\n", "\n  ") for name, m in self.named_children()]
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        return f"{type(self).__name__}(\n" + "\n".join(children) + "\n)"


class Sequential(Module):
    """Modules applied in order; their names are their positions ("0", "1", ...)."""

    def __init__(self, *modules: Module):
        super().__init__()
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(f"Sequential: argument {i} must be a Module, got {type(module).__name__}")
            setattr(self, str(i), module)

    def __len__(self) -> int:
        return sum(1 for _ in self.named_children())

    def __iter__(self) -> Iterator[Module]:
        return self.children()

    def __getitem__(self, index: int) -> Module:
        return list(self.children())[index]

    def forward(self, x: Any) -> Any:
        """Apply each module in turn."""
        for module in self.children():
            x = module(x)
        return x
