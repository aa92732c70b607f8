"""Module: the base of every layer and model. Parameters and sub-modules are found by attribute."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import numpy as np

from .. import function
from ..tensor import HookHandle, Tensor, float_dtype
from ..tensor_methods import requested_dtype

__all__ = [
    "Parameter",
    "Buffer",
    "Module",
    "Sequential",
    "ModuleList",
    "ModuleDict",
    "IncompatibleKeys",
]


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

    def __setattr__(self, name: str, value: Any) -> None:
        # PyTorch silently ignores modules inside a plain list or dict (their parameters are
        # never trained or saved); we say so
        if isinstance(value, (list, tuple, dict, set)):
            items = value.values() if isinstance(value, dict) else value
            if any(isinstance(item, Module) for item in items):
                holder = "nn.ModuleDict" if isinstance(value, dict) else "nn.ModuleList"
                raise TypeError(
                    f"{type(self).__name__}.{name}: a {type(value).__name__} of Modules "
                    f"hides their "
                    f"parameters from parameters() and state_dict(); use {holder}(...)"
                )
        object.__setattr__(self, name, value)

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

    def register_forward_hook(self, hook: Callable[[Module, tuple, Any], Any]) -> HookHandle:
        """Call ``hook(module, inputs, output)`` after each forward; a non-None return value
        replaces the output. Returns a handle whose ``remove()`` unregisters it."""
        hooks = self.__dict__.setdefault("_forward_hooks", [])
        hooks.append(hook)
        return HookHandle(hooks, hook)

    # ---- structure -----------------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct sub-modules, in the order they were assigned."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value

    def children(self) -> Iterator[Module]:
        """Direct sub-modules, in the order they were assigned."""
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module (named ``prefix``) and all below it, depth first, qualified names; a
        module reachable twice (shared, or a cycle) is listed once, under its first name."""
        stack, seen = [(prefix, self)], set()
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            below = [
                (f"{name}.{child}" if name else child, m) for child, m in module.named_children()
            ]
            stack.extend(reversed(below))

    def modules(self) -> Iterator[Module]:
        """This module and all below it, each once (``named_modules`` without the names)."""
        for _, module in self.named_modules():
            yield module

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn(module)`` on every module below this one, children before parents (as
        PyTorch, e.g. for custom initialisation); returns this module."""
        for module in reversed(list(self.modules())):
            fn(module)
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze every parameter below this module; returns it."""
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def register_buffer(self, name: str, value: Any) -> None:
        """Keep ``value`` (an array or Tensor) as a Buffer:
        saved in ``state_dict``, never learned."""
        setattr(
            self,
            name,
            value if isinstance(value, Buffer) else Buffer(getattr(value, "data", value)),
        )

    def _named_tensors(self, kind: type, recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        for module_name, module in self.named_modules() if recurse else [("", self)]:
            for name, value in vars(module).items():
                if isinstance(value, kind) and id(value) not in seen:
                    seen.add(id(value))
                    yield (f"{module_name}.{name}" if module_name else name), value

    def named_parameters(self, recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """Every Parameter below this module with its qualified name (``0.weight``, ``conv1.bias``);
        a parameter shared by several modules is listed once.
        ``recurse=False``: this module's own."""
        return self._named_tensors(Parameter, recurse)

    def named_buffers(self, recurse: bool = True) -> Iterator[tuple[str, Buffer]]:
        """Every Buffer below this module with its qualified name (``1.running_mean``)."""
        return self._named_tensors(Buffer, recurse)

    def parameters(self, recurse: bool = True) -> list[Parameter]:
        """Every Parameter below this module, each once, in ``named_parameters`` order."""
        return [p for _, p in self.named_parameters(recurse)]

    def buffers(self, recurse: bool = True) -> list[Buffer]:
        """Every Buffer below this module, each once."""
        return [b for _, b in self.named_buffers(recurse)]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's accumulated gradient: None (the default, as PyTorch), or
        zeros in place with ``set_to_none=False``."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad.data = np.zeros_like(p.grad.data)

    def to(self, *args: Any, device: str | None = None, dtype: Any = None) -> Module:
        """PyTorch's ``to``: ``model.to(np.float64)``, ``model.to("float32")``, ``model.to("cpu")``
        (the only device: nothing moves), ``model.to(device=..., dtype=...)``. Converts every
        floating parameter and buffer, with its gradient, in place to float16, float32 or
        float64 (:meth:`Tensor.astype_`): the same Parameter objects, so an optimizer made
        before keeps training them. Integer buffers (``num_batches_tracked``) stay integers.
        Returns the module."""
        dtype = requested_dtype(f"{type(self).__name__}.to", args, device, dtype)
        if dtype is None:
            return self
        dtype = float_dtype(f"{type(self).__name__}.to", dtype)  # checked before anything changes
        for tensor in (*self.parameters(), *self.buffers()):
            if tensor.dtype.kind == "f":
                tensor.astype_(dtype)
        return self

    def float(self) -> Module:
        """Every floating parameter and buffer as float32, in place (``to(np.float32)``)."""
        return self.to(np.float32)

    def double(self) -> Module:
        """Every floating parameter and buffer as float64, in place (``to(np.float64)``)."""
        return self.to(np.float64)

    def train(self, mode: bool = True) -> Module:
        """Set training mode on this module and all below it."""
        for _, module in self.named_modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Set evaluation mode on this module and all below it (``train(False)``)."""
        return self.train(False)

    # ---- state -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Qualified parameter and buffer names -> copies of their arrays; loads into the same
        PyTorch model."""
        return {
            name: t.data.copy() for name, t in (*self.named_parameters(), *self.named_buffers())
        }

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy arrays into the parameters and buffers. Every key and shape is checked before
        any is applied, so a mismatch leaves the module unchanged. With ``strict=False``
        missing and unexpected keys are allowed (shapes must still match) and returned, as
        PyTorch's ``(missing_keys, unexpected_keys)``."""
        if not isinstance(state, dict):
            raise TypeError(
                f"load_state_dict: {type(self).__name__}: expected a dict of arrays, "
                f"got {type(state).__name__}"
            )
        params = dict((*self.named_parameters(), *self.named_buffers()))
        missing = [k for k in params if k not in state]
        unexpected = [k for k in state if k not in params]
        mismatched = [
            f"{k}: expected {params[k].shape}, got {np.shape(state[k])}"
            for k in params
            if k in state and np.shape(state[k]) != params[k].shape
        ]
        if mismatched or strict and (missing or unexpected):
            problems = [
                f"missing keys {missing}" if missing and strict else "",
                f"unexpected keys {unexpected}" if unexpected and strict else "",
                f"shape mismatch: {'; '.join(mismatched)}" if mismatched else "",
            ]
            raise ValueError(
                f"load_state_dict: {type(self).__name__}: " + "; ".join(p for p in problems if p)
            )
        for name, p in params.items():
            if name in state:
                # a new array: graphs may hold the old one
                p.data = np.array(state[name], dtype=p.dtype)
        return IncompatibleKeys(missing, unexpected)

    def save(self, path: str) -> None:
        """Write ``state_dict()`` to an .npz file."""
        from ..serialization import save

        save(self.state_dict(), path)

    def load(self, path: str) -> Module:
        """Read weights written by :meth:`save`, or the "model" entry of a checkpoint written by
        :func:`tinygrad_cnn.save` (no pickles), and load them."""
        from ..serialization import load

        state = load(path)
        self.load_state_dict(
            state["model"] if isinstance(state, dict) and "model" in state else state
        )
        return self

    # ---- printing ----------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The arguments shown between the parentheses of this module's repr."""
        return ""

    def __repr__(self) -> str:
        return self._repr(set())

    def _repr(self, printing: set[int]) -> str:
        """The nested repr, with ``printing`` the modules already open above (a cycle prints
        its way back as ``...``)."""
        printing = printing | {id(self)}
        children = [
            f"  ({name}): "
            + ("..." if id(m) in printing else m._repr(printing)).replace("\n", "\n  ")
            for name, m in self.named_children()
        ]
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        return f"{type(self).__name__}(\n" + "\n".join(children) + "\n)"


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` did not match: keys the module has that the state
    lacks, and keys the state has that the module lacks."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def _checked_module(container: str, where: Any, value: Any) -> Module:
    if not isinstance(value, Module):
        raise TypeError(f"{container}: {where} must be a Module, got {type(value).__name__}")
    return value


class Sequential(Module):
    """Modules applied in order; their names are their positions ("0", "1", ...), or the keys
    of an OrderedDict: ``Sequential(OrderedDict([("conv", Conv2d(...)), ("act", ReLU())]))``."""

    def __init__(self, *modules: Module):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                setattr(self, name, _checked_module("Sequential", f"module {name!r}", module))
            return
        for i, module in enumerate(modules):
            setattr(self, str(i), _checked_module("Sequential", f"argument {i}", module))

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


class ModuleList(Module):
    """A list of Modules whose parameters belong to the owner (a plain list's would be lost).
    Named by position ("0", "1", ...), renumbered after an insert or a deletion, as PyTorch's.
    It has no forward: iterate over it in the owner's."""

    def __init__(self, modules: Iterable[Module] = ()):
        super().__init__()
        self.extend(modules)

    def _items(self) -> list[Module]:
        return [m for _, m in self.named_children()]

    def _renumber(self, modules: list[Module]) -> None:
        for name, _ in list(self.named_children()):
            delattr(self, name)
        for i, module in enumerate(modules):
            setattr(self, str(i), _checked_module("ModuleList", f"item {i}", module))

    def __len__(self) -> int:
        return len(self._items())

    def __iter__(self) -> Iterator[Module]:
        return iter(self._items())

    def __getitem__(self, index: int | slice) -> Any:
        items = self._items()
        return ModuleList(items[index]) if isinstance(index, slice) else items[index]

    def __setitem__(self, index: int, module: Module) -> None:
        items = self._items()
        items[index] = module
        self._renumber(items)

    def __delitem__(self, index: int | slice) -> None:
        items = self._items()
        del items[index]
        self._renumber(items)

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end."""
        setattr(self, str(len(self)), _checked_module("ModuleList", f"item {len(self)}", module))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Add each of ``modules`` at the end."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Put ``module`` before position ``index``."""
        items = self._items()
        items.insert(index, module)
        self._renumber(items)


class ModuleDict(Module):
    """A dict of Modules whose parameters belong to the owner, named by their keys (strings),
    in insertion order. It has no forward."""

    def __init__(self, modules: Any = None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return dict(self.named_children())[key]

    def __setitem__(self, key: str, module: Module) -> None:
        if (
            not isinstance(key, str)
            or not key.isidentifier()
            or key in vars(self)
            and key not in self
        ):
            raise KeyError(
                f"ModuleDict: key {key!r} must be a Python name not already used by the container"
            )
        setattr(self, key, _checked_module("ModuleDict", f"value for {key!r}", module))

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        delattr(self, key)

    def __contains__(self, key: object) -> bool:
        return any(key == name for name, _ in self.named_children())

    def __len__(self) -> int:
        return sum(1 for _ in self.named_children())

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def keys(self) -> list[str]:
        """The keys, in insertion order."""
        return [name for name, _ in self.named_children()]

    def values(self) -> list[Module]:
        """The modules, in insertion order."""
        return [m for _, m in self.named_children()]

    def items(self) -> list[tuple[str, Module]]:
        """(key, module) pairs, in insertion order."""
        return list(self.named_children())

    def update(self, modules: Any) -> None:
        """Add (or replace) the modules of a mapping or of (key, module) pairs."""
        for key, module in modules.items() if hasattr(modules, "items") else modules:
            self[key] = module
