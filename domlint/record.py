"""@record: a light @dataclass for the classes a check of one file imports.

`dataclasses.dataclass` (whose import alone costs more than 1 ms) spends about a third of a millisecond on each class
(it writes and compiles __init__, __repr__, __eq__ and, when frozen,
__setattr__ and __hash__), some 15 ms over the classes one `domlint check`
imports: as much as checking a small file. @record gives the same class
behaviour (the same __init__ with defaults, `field(default_factory=...)`,
`field(compare=False)` and `field(repr=False)`, __post_init__, inherited
fields, ==, repr, frozen instances and their hash) from one compiled
__init__ and shared methods. `replace` and `as_dict` stand in for
dataclasses.replace and asdict (of flat records).
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar

T = TypeVar("T")


class _Missing:
    """No default given."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class FrozenInstanceError(AttributeError):
    """An assignment to a field of a frozen record."""


class Field:
    """What field() says of one field: its default or default factory, and whether == and repr use it."""

    __slots__ = ("compare", "default", "default_factory", "repr")

    def __init__(self, default: Any, default_factory: Any, repr: bool, compare: bool) -> None:
        self.default, self.default_factory, self.repr, self.compare = default, default_factory, repr, compare


def field(*, default: Any = MISSING, default_factory: Callable[[], Any] | Any = MISSING, repr: bool = True,
          compare: bool = True) -> Any:
    """A field's default or default factory, and whether == and repr use it (dataclasses.field)."""
    return Field(default, default_factory, repr, compare)

_FIELDS = "__record_fields__"


class _Spec:
    """One field: its name, default (or factory), and whether == and repr use it."""

    __slots__ = ("compare", "default", "factory", "name", "repr")

    def __init__(self, name: str, default: Any, factory: Any, compare: bool, repr_: bool) -> None:
        self.name, self.default, self.factory, self.compare, self.repr = name, default, factory, compare, repr_


def _own_fields(cls: type) -> list[_Spec]:
    out = []
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():  # noqa: RUF063 - strings, unevaluated
        if "ClassVar" in str(annotation):
            continue
        value = cls.__dict__.get(name, MISSING)
        # dataclasses.field() too, so that a class moved from @dataclass keeps its fields.
        if isinstance(value, Field) or (type(value).__module__ == "dataclasses" and hasattr(value, "default_factory")):
            spec = _Spec(name, value.default, value.default_factory, bool(value.compare), bool(value.repr))
            if value.default is MISSING:
                delattr(cls, name)  # as dataclasses does: a factory's field has no class attribute
            else:
                setattr(cls, name, value.default)
        else:
            spec = _Spec(name, value, MISSING, True, True)
        out.append(spec)
    return out


class _DataclassFields:
    """A record's __dataclass_fields__, made on first use: dataclasses.fields, replace, asdict and is_dataclass
    then take records too (importing dataclasses only then)."""

    def __init__(self, fields: tuple[_Spec, ...]) -> None:
        self._fields = fields
        self._made: dict[str, Any] | None = None

    def __get__(self, obj: Any, owner: type | None = None) -> dict[str, Any]:
        if self._made is None:
            import dataclasses

            namespace: dict[str, Any] = {"__annotations__": {s.name: "object" for s in self._fields}}
            for s in self._fields:
                namespace[s.name] = dataclasses.field(
                    default=dataclasses.MISSING if s.default is MISSING else s.default,
                    default_factory=dataclasses.MISSING if s.factory is MISSING else s.factory,
                    repr=s.repr, compare=s.compare)
            shadow = dataclasses.dataclass(init=False, repr=False, eq=False)(type("Fields", (), namespace))
            self._made = shadow.__dataclass_fields__
        return self._made


def _repr(self: Any) -> str:
    shown = ", ".join(f"{s.name}={getattr(self, s.name)!r}" for s in getattr(self, _FIELDS) if s.repr)
    return f"{type(self).__qualname__}({shown})"


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def record(cls: type[T] | None = None, /, *, frozen: bool = False) -> Any:
    """Make cls a record (as @dataclass or @dataclass(frozen=True) would make it a dataclass)."""

    def wrap(cls: type[T]) -> type[T]:
        inherited: dict[str, _Spec] = {}
        for base in reversed(cls.__mro__[1:]):
            for spec in base.__dict__.get(_FIELDS, ()):
                inherited[spec.name] = spec
        for spec in _own_fields(cls):
            inherited[spec.name] = spec
        fields = tuple(inherited.values())
        setattr(cls, _FIELDS, fields)
        cls.__dataclass_fields__ = _DataclassFields(fields)  # type: ignore[attr-defined]
        cls.__match_args__ = tuple(s.name for s in fields)  # type: ignore[attr-defined]
        # As dataclasses does, what the class body defines itself is kept.
        own = cls.__dict__
        if "__init__" not in own:
            cls.__init__ = _first_init(cls, fields, frozen)  # type: ignore[misc]
        if "__repr__" not in own:
            cls.__repr__ = _repr  # type: ignore[assignment]
        names = [s.name for s in fields if s.compare]
        # == and hash compare the tuples of the compared fields, as a dataclass's do.
        key: Callable[[Any], tuple[Any, ...]]
        if len(names) > 1:
            key = attrgetter(*names)
        elif names:
            key = lambda o, name=names[0]: (getattr(o, name),)  # noqa: E731
        else:
            key = lambda o: ()  # noqa: E731

        def __eq__(self: Any, other: Any) -> Any:
            if other.__class__ is self.__class__:
                return key(self) == key(other)
            return NotImplemented

        if "__eq__" not in own:
            cls.__eq__ = __eq__  # type: ignore[assignment,method-assign]
        if frozen:
            cls.__setattr__ = _frozen_setattr  # type: ignore[assignment,method-assign]
            cls.__delattr__ = _frozen_delattr  # type: ignore[assignment,method-assign]
            if "__hash__" not in own or own["__hash__"] is None:
                cls.__hash__ = lambda self: hash(key(self))  # type: ignore[assignment,method-assign]
        elif "__hash__" not in own or own["__hash__"] is None:
            cls.__hash__ = None  # type: ignore[assignment]  # mutable and compared by value: unhashable
        return cls

    return wrap if cls is None else wrap(cls)


# Instances a class makes with the generic __init__ before it compiles its own: compiling one costs about
# as much as a hundred generic calls.
COMPILE_AFTER = 128


def _first_init(cls: type, fields: tuple[_Spec, ...], frozen: bool) -> Callable[..., None]:
    """A generic __init__ for the first instances; at the COMPILE_AFTER-th it compiles the class's own (as fast as
    a dataclass's) and puts it in its place.

    A one-file run makes few instances of most classes: it compiles few __init__s.
    """
    names = [s.name for s in fields]
    index = {name: i for i, name in enumerate(names)}
    plain = {s.name: s.default for s in fields if s.factory is MISSING and s.default is not MISSING}
    factories = [(s.name, s.factory) for s in fields if s.factory is not MISSING]
    count = len(names)
    made = [0]
    post_init = hasattr(cls, "__post_init__")

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        made[0] += 1
        if made[0] >= COMPILE_AFTER:
            init = _make_init(cls, fields, frozen)
            if cls.__dict__.get("__init__") is __init__:
                cls.__init__ = init  # type: ignore[misc]
            init(self, *args, **kwargs)
            return
        values = dict(plain)
        if args:
            if len(args) > count:
                raise TypeError(f"{cls.__qualname__}.__init__() takes {count + 1} positional arguments "
                                f"but {len(args) + 1} were given")
            values.update(zip(names, args, strict=False))  # the arguments given fill the first fields
        if kwargs:
            for key in kwargs:
                i = index.get(key, -1)
                if i < 0:
                    raise TypeError(f"{cls.__qualname__}.__init__() got an unexpected keyword argument {key!r}")
                if i < len(args):
                    raise TypeError(f"{cls.__qualname__}.__init__() got multiple values for argument {key!r}")
            values.update(kwargs)
        for name, factory in factories:
            if name not in values:
                values[name] = factory()
        if len(values) < count:
            missing = next(name for name in names if name not in values)
            raise TypeError(f"{cls.__qualname__}.__init__() missing 1 required positional argument: {missing!r}")
        # Straight into the instance's dict, in field order (as object.__setattr__ would put them, frozen or not).
        self.__dict__.update({name: values[name] for name in names})
        if post_init:
            self.__post_init__()

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _make_init(cls: type, fields: tuple[_Spec, ...], frozen: bool) -> Callable[..., None]:
    # One small function compiled per class: the only exec a record costs.
    env: dict[str, Any] = {"MISSING": MISSING, "_setattr": object.__setattr__}
    params, body = [], []
    for i, s in enumerate(fields):
        if s.factory is not MISSING:
            env[f"_f{i}"] = s.factory
            params.append(f"{s.name}=MISSING")
            value = f"_f{i}() if {s.name} is MISSING else {s.name}"
        elif s.default is not MISSING:
            env[f"_d{i}"] = s.default
            params.append(f"{s.name}=_d{i}")
            value = s.name
        else:
            params.append(s.name)
            value = s.name
        body.append(f"_setattr(self, {s.name!r}, {value})" if frozen else f"self.{s.name} = {value}")
    if hasattr(cls, "__post_init__"):
        body.append("self.__post_init__()")
    source = f"def __init__(self, {', '.join(params)}):\n    " + "\n    ".join(body or ["pass"]) + "\n"
    exec(source, env)
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init  # type: ignore[no-any-return]


def replace(obj: T, **changes: Any) -> T:
    """A copy of the record obj with some fields changed (dataclasses.replace)."""
    values = {s.name: getattr(obj, s.name) for s in getattr(obj, _FIELDS)}
    values.update(changes)
    return type(obj)(**values)


def as_dict(obj: Any) -> dict[str, Any]:
    """The fields of a record whose values are plain (strings, numbers), by name (dataclasses.asdict)."""
    return {s.name: getattr(obj, s.name) for s in getattr(obj, _FIELDS)}


__all__ = ["MISSING", "Field", "FrozenInstanceError", "as_dict", "field", "record", "replace"]
