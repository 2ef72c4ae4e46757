"""libvirt 9.0's -rtc, worked out from qemuBuildClockArgStr and qemuBuildClockCommandLine."""

from __future__ import annotations

import pytest
from emit9 import ctx_for, domain

from domlint.cmdline.command import Command
from domlint.cmdline9 import clock

pytestmark = pytest.mark.libvirt("9.0")


def run(xml: str, caps=()) -> Command:
    cmd = Command(emulator="qemu")
    clock.clock(ctx_for(xml, caps), cmd)
    return cmd


def test_utc_is_the_default() -> None:
    assert run(domain()).args == ["-rtc", "base=utc"]


def test_variable_offset_is_now_plus_adjustment() -> None:
    # The test host's "now" is 1234567890 s (2009-02-13T23:31:30Z); +3600 s.
    assert run(domain(top="<clock offset='variable' adjustment='3600'/>")).args == ["-rtc", "base=2009-02-14T00:31:30"]


def test_localtime_basis_adds_the_hosts_offset() -> None:
    # TZ=VIR00:30 is 30 minutes west of UTC: local time is UTC - 1800 s.
    xml = domain(top="<clock offset='variable' adjustment='3600' basis='localtime'/>")
    assert run(xml).args == ["-rtc", "base=2009-02-14T00:01:30"]


def test_rtc_catchup_is_driftfix_slew_and_pit_delay_needs_the_capability() -> None:
    top = ("<clock offset='utc'><timer name='rtc' tickpolicy='catchup' track='guest'/>"
           "<timer name='pit' tickpolicy='delay'/></clock>")
    assert run(domain(top=top)).args == ["-rtc", "base=utc,clock=vm,driftfix=slew"]
    assert run(domain(top=top), caps=["kvm-pit-lost-tick-policy"]).args[2:] == ["-global", "kvm-pit.lost_tick_policy=delay"]


def test_timezone_offset_sets_tz() -> None:
    cmd = run(domain(top="<clock offset='timezone' timezone='Europe/Paris'/>"))
    assert cmd.args == ["-rtc", "base=localtime"] and ("TZ", "Europe/Paris") in cmd.env
