"""The guest clock as libvirt 9.0 builds it: -rtc and timer options."""

from __future__ import annotations

import datetime
import re
import time

from ..cmdline.command import Command
from ..cmdline.context import Ctx
from . import platform

# <timer name='rtc' track=...> as QEMU's -rtc clock= (boot has no QEMU spelling; validation refuses it).
_RTC_TRACK = {"guest": "vm", "wall": "host", "realtime": "rt"}


def local_offset(ctx: Ctx) -> int:
    """Seconds local time is ahead of UTC: from the host profile's POSIX TZ (std offset), else the system's."""
    tz = platform.host_timezone(ctx)
    m = re.match(r"^[A-Za-z]{3,}([+-]?)(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?", tz or "")
    if m:
        secs = int(m.group(2)) * 3600 + int(m.group(3) or 0) * 60 + int(m.group(4) or 0)
        # POSIX offsets count west of Greenwich as positive.
        return secs if m.group(1) == "-" else -secs
    return -time.timezone if not time.localtime().tm_isdst else -time.altzone


def rtc_value(ctx: Ctx) -> str:
    """-rtc's value: base from the clock offset, clock= and driftfix= from the rtc timer."""
    clock = ctx.root.find("clock")
    offset = clock.get("offset", "utc") if clock is not None else "utc"
    if offset in ("localtime", "timezone"):
        base = "localtime"
    elif offset == "variable":
        adjust = int(clock.get("adjustment") or 0)
        if clock.get("basis") == "localtime":
            adjust += local_offset(ctx)
        then = platform.now(ctx) + datetime.timedelta(seconds=adjust)
        base = then.strftime("%Y-%m-%dT%H:%M:%S")
    elif offset == "absolute":
        then = datetime.datetime.fromtimestamp(int(clock.get("start") or 0), datetime.UTC)
        base = then.strftime("%Y-%m-%dT%H:%M:%S")
    else:
        base = "utc"
    parts = [f"base={base}"]
    rtc = next((t for t in ctx.root.findall("clock/timer") if t.get("name") == "rtc"), None)
    if rtc is not None:
        if rtc.get("track") in _RTC_TRACK:
            parts.append(f"clock={_RTC_TRACK[rtc.get('track')]}")
        if rtc.get("tickpolicy") == "catchup":
            parts.append("driftfix=slew")
    return ",".join(parts)


def clock(ctx: Ctx, cmd: Command) -> None:
    """-rtc; TZ for a timezone offset; the PIT's lost tick policy; -no-hpet where QEMU still has it."""
    cmd.add("-rtc", rtc_value(ctx))
    el = ctx.root.find("clock")
    if el is not None and el.get("offset") == "timezone" and el.get("timezone"):
        cmd.setenv("TZ", el.get("timezone"))
    for timer in ctx.root.findall("clock/timer"):
        name = timer.get("name")
        if name == "pit":
            policy = timer.get("tickpolicy")
            if policy in (None, "delay", "discard") and ctx.has("kvm-pit-lost-tick-policy"):
                cmd.add("-global", f"kvm-pit.lost_tick_policy={policy or 'delay'}")
        elif name == "hpet" and ctx.has("no-hpet") and timer.get("present") == "no":
            cmd.add("-no-hpet")
