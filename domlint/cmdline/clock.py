"""The guest clock: -rtc or -localtime, TZ, and the timer switches."""

from __future__ import annotations

import re
import time

from lxml import etree

from ..errors import InputError
from ..values import parse_int
from .command import Command
from .context import Ctx

# A POSIX TZ value without daylight saving: NAME[+-]hh[:mm[:ss]] (the sign counts west of UTC).
_POSIX_TZ = re.compile(r"^[A-Za-z]{3,}([+-]?)(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?$")


def local_offset(tz: str | None) -> int:
    """Seconds local time is ahead of UTC in a POSIX time zone (the host's own when None)."""
    if tz:
        m = _POSIX_TZ.match(tz)
        if m:
            sign = 1 if m.group(1) == "-" else -1
            h, mi, s = (int(g or 0) for g in m.group(2, 3, 4))
            return sign * (h * 3600 + mi * 60 + s)
    return -time.timezone


def host_now(ctx: Ctx) -> int:
    """The host clock in seconds since the epoch (a profile may pin it)."""
    now = (ctx.host.raw.get("clock") or {}).get("now")
    return int(now) if now is not None else int(time.time())


def _timers(ctx: Ctx) -> list[etree._Element]:
    return ctx.root.findall("clock/timer")


def rtc_str(ctx: Ctx) -> str:
    """The -rtc value: base=, then clock= and driftfix= from an rtc timer."""
    clock = ctx.root.find("clock")
    offset = clock.get("offset", "utc") if clock is not None else "utc"
    if offset in ("localtime", "timezone"):
        out = "base=localtime"
    elif offset == "variable":
        adjust = parse_int(clock.get("adjustment") or "0")
        if adjust is None:
            raise InputError(ctx.path, clock.sourceline, f"clock adjustment '{clock.get('adjustment')}' is not a number")
        if clock.get("basis", "utc") == "localtime":
            adjust += local_offset((ctx.host.raw.get("clock") or {}).get("timezone"))
        try:
            out = "base=" + time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(host_now(ctx) + adjust))
        except (OverflowError, OSError, ValueError):
            raise InputError(ctx.path, clock.sourceline,
                             f"clock adjustment {adjust} puts the guest's clock outside any date QEMU can take") from None
    else:
        out = "base=utc"
    for timer in _timers(ctx):
        if timer.get("name") != "rtc":
            continue
        track = timer.get("track")
        if track == "guest":
            out += ",clock=vm"
        elif track == "wall":
            out += ",clock=host"
        if timer.get("tickpolicy") == "catchup":
            out += ",driftfix=slew"
        break
    return out


def clock(ctx: Ctx, cmd: Command) -> None:
    """-rtc (or -localtime), TZ for a named time zone, then the pit/hpet/rtc timer switches."""
    clock_el = ctx.root.find("clock")
    offset = clock_el.get("offset", "utc") if clock_el is not None else "utc"
    if ctx.has("rtc"):
        cmd.add("-rtc", rtc_str(ctx))
    elif offset in ("localtime", "timezone"):
        cmd.add("-localtime")
    if offset == "timezone" and clock_el.get("timezone"):
        cmd.setenv("TZ", clock_el.get("timezone"))
    for timer in _timers(ctx):
        name, policy = timer.get("name"), timer.get("tickpolicy")
        if name == "rtc":
            if ctx.has("rtc-td-hack") and policy == "catchup":
                cmd.add("-rtc-td-hack")
        elif name == "pit":
            if policy in (None, "delay"):
                if ctx.has("kvm-pit-lost-tick-policy"):
                    cmd.add("-global", "kvm-pit.lost_tick_policy=discard")
                elif ctx.has("no-kvm-pit"):
                    cmd.add("-no-kvm-pit-reinjection")
            elif policy == "catchup" and not (ctx.has("no-kvm-pit") or ctx.has("kvm-pit-lost-tick-policy")) \
                    and ctx.has("tdf"):
                cmd.add("-tdf")
        elif name == "hpet" and ctx.has("no-hpet") and timer.get("present") == "no":
            cmd.add("-no-hpet")
