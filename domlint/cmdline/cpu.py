"""The guest CPU: -cpu (model, features, paravirt flags) and -smp topology."""

from __future__ import annotations

from lxml import etree

from ..errors import InputError
from ..values import is_digits, parse_int
from .command import Command
from .context import Ctx
from .cpumodel import guest_model_str


def _vcpus(ctx: Ctx) -> tuple[int, int]:
    """(current, maximum) vCPUs."""
    el = ctx.root.find("vcpu")
    text = (el.text or "1").strip() if el is not None else "1"
    maximum = int(text) if is_digits(text) else 1
    cur = el.get("current") if el is not None else None
    current = int(cur) if cur and is_digits(cur) else maximum
    return current, maximum


def smp(ctx: Ctx, cmd: Command) -> None:
    """-smp N[,maxcpus=M],sockets=..,cores=..,threads=.. (topology only with smp-topology)."""
    current, maximum = _vcpus(ctx)
    out = str(current)
    if ctx.has("smp-topology"):
        if current != maximum:
            out += f",maxcpus={maximum}"
        topo = ctx.root.find("cpu/topology")
        if topo is not None and topo.get("sockets"):
            out += f",sockets={topo.get('sockets')},cores={topo.get('cores')},threads={topo.get('threads')}"
        else:
            out += f",sockets={maximum},cores=1,threads=1"
    cmd.add("-smp", out)


def _feature_state(ctx: Ctx, path: str) -> str | None:
    el = ctx.root.find(path)
    if el is None:
        return None
    return el.get("state", "on")


def _spinlock_retries(ctx: Ctx, el: etree._Element) -> int:
    """The retry count as libvirt stores it, an unsigned int (normalisation refuses anything else first)."""
    text = el.get("retries", "")
    n = parse_int(text)
    if n is None or not -(2**32) < n < 2**32:
        raise InputError(ctx.path, el.sourceline, f"hyperv spinlocks retries='{text}' is not a number")
    return n & 0xFFFFFFFF


def cpu_str(ctx: Ctx) -> tuple[str, bool]:
    """The -cpu value ('' for none) and whether the guest CPU has hardware virtualisation (svm)."""
    default_model = "qemu32" if ctx.arch == "i686" else "qemu64"
    model, has_svm = guest_model_str(ctx)
    out = model or ""
    have_cpu = bool(model)
    if not have_cpu and ctx.arch == "i686":
        emulator = ctx.emulator
        if (ctx.host.arch == "x86_64" and "kvm" in emulator) or "x86_64" in emulator:
            out, have_cpu = default_model, True

    def lead() -> str:
        nonlocal have_cpu
        prefix = "" if have_cpu else default_model
        have_cpu = True
        return prefix

    for timer in ctx.root.iterfind("clock/timer"):
        present = timer.get("present")
        if present is None:
            continue
        if timer.get("name") == "kvmclock":
            out += f"{lead()},{'+' if present == 'yes' else '-'}kvmclock"
        elif timer.get("name") == "hypervclock" and present == "yes":
            out += f"{lead()},hv_time"
    eoi = ctx.root.find("features/apic")
    if eoi is not None and eoi.get("eoi") in ("on", "off"):
        out += f"{lead()},{'+' if eoi.get('eoi') == 'on' else '-'}kvm_pv_eoi"
    spin = _feature_state(ctx, "features/pvspinlock")
    if spin in ("on", "off"):
        out += f"{lead()},{'+' if spin == 'on' else '-'}kvm_pv_unhalt"
    if _feature_state(ctx, "features/hyperv") == "on":
        out += lead()
        for name in ("relaxed", "vapic", "spinlocks"):
            el = ctx.root.find(f"features/hyperv/{name}")
            if el is None or el.get("state") != "on":
                continue
            if name == "spinlocks":
                out += f",hv_spinlocks={_spinlock_retries(ctx, el):#x}"
            else:
                out += f",hv_{name}"
    if _feature_state(ctx, "features/kvm") == "on":
        out += lead()
        hidden = ctx.root.find("features/kvm/hidden")
        if hidden is not None and hidden.get("state") == "on":
            out += ",kvm=off"
    return out, has_svm


def cpu(ctx: Ctx, cmd: Command) -> None:
    """-cpu when the guest needs one, then -enable-nesting for an svm guest on QEMUs that want it."""
    value, has_svm = cpu_str(ctx)
    if value:
        cmd.add("-cpu", value)
        if ctx.has("nesting") and has_svm:
            cmd.add("-enable-nesting")
