"""What every emitter function reads: the normalised domain, capabilities, host and run options."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from lxml import etree

from ..caps import Caps
from ..errors import InputError
from ..host import Host
from ..record import field, record

T = TypeVar("T")


def child(el: etree._Element, tag: str) -> etree._Element | None:
    """el.find(tag) for a plain tag name, without ElementPath's cost (assignment asks for <address> very often)."""
    # A plain loop: cheaper than making an iterchildren(tag) iterator, for the few children a device has.
    for found in el:
        if found.tag == tag:
            return found
    return None


def _os_type(root: etree._Element) -> etree._Element:
    """root.find("os/type"), without ElementPath's cost where normalisation put it (in the first <os>)."""
    os_el = child(root, "os")
    found = child(os_el, "type") if os_el is not None else None
    return found if found is not None else root.find("os/type")


def _devices_of(ctx: Ctx) -> etree._Element:
    return child(ctx.root, "devices")


class Unassignable(InputError):
    """An address or alias libvirt 1.2.8 cannot assign: the element it is for and the kind of problem.

    The rules see these through the `assign` test (domlint/assignment.py), so
    `check` finds what address assignment would refuse before `argv` runs it.
    """

    def __init__(self, path: str, el: etree._Element | None, problem: str, message: str) -> None:
        super().__init__(path, el.sourceline if el is not None else None, message)
        self.element = el
        self.problem = problem


@record(frozen=True)
class RunOptions:
    """Per-start facts that are neither in the domain nor in the host profile."""

    migrate_from: str | None = None
    migrate_fd: int = -1
    domain_id: int | None = None
    json_monitor: bool = False
    # Driver settings overriding the host profile's `driver` section for this run.
    driver: dict[str, Any] = field(default_factory=dict)


@record
class Ctx:
    """The inputs of one emission; family modules only read it (except `state`)."""

    root: etree._Element
    caps: Caps
    host: Host
    opts: RunOptions
    driver: dict[str, Any]
    # Scratch space families share during one emission (e.g. which chardev ids were used).
    state: dict[str, Any] = field(default_factory=dict)
    # The domain's file, for InputError messages about what cannot be built.
    path: str = "<domain>"
    # Elements that libvirt would have added itself rather than read from the XML
    # (its lists put them after the written ones, unsorted); address assignment adds bridges here.
    implied: set[etree._Element] = field(default_factory=set)
    # Device lists by kind, found once while the set of devices stays fixed (devices.py keeps them):
    # address assignment turns this on and empties it when it adds a bridge. None: every lookup walks
    # <devices> again (the 9.0 emitter adds and edits devices as it goes).
    lists: dict[str, Any] | None = None

    def has(self, *flags: str) -> bool:
        """True when every flag is present."""
        return all(f in self.caps for f in flags)

    def kept(self, key: str, find: Callable[[Ctx], T]) -> T:
        """find(self), found once under key while this context keeps lists."""
        lists = self.lists
        if lists is None:
            return find(self)
        found = lists.get(key)
        if found is None:
            found = lists[key] = find(self)
        return found

    @property
    def devices(self) -> etree._Element:
        """The <devices> element (normalisation always adds one)."""
        return self.kept("devices", _devices_of)

    @property
    def arch(self) -> str:
        """The guest architecture."""
        return _os_type(self.root).get("arch", "")

    @property
    def machine(self) -> str:
        """The machine type after aliases."""
        return _os_type(self.root).get("machine", "")

    @property
    def virt_type(self) -> str:
        """The domain type attribute: qemu, kvm, kqemu, xen..."""
        return self.root.get("type", "qemu")

    @property
    def emulator(self) -> str:
        """The emulator binary: the domain's <emulator>, else the host's for this arch."""
        path = self.root.findtext("devices/emulator")
        if path:
            return path.strip()
        guest = self.host.guest(self.arch, None, self.virt_type)
        return guest.emulator if guest else ""

    def setting(self, name: str, default: Any = None) -> Any:
        """A driver setting (qemu.conf's vocabulary), run options first, then the host profile."""
        if name in self.opts.driver:
            return self.opts.driver[name]
        return self.driver.get(name, default)
