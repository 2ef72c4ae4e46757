"""Build the emitter context of one small domain, so a family's functions can be called directly."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from emit_helpers import HOST

from domlint.api import load_document
from domlint.caps import Caps
from domlint.cmdline import make_ctx
from domlint.cmdline.context import Ctx
from domlint.domain import normalise
from domlint.host import Host


def ctx_for(xml: str, caps: Iterable[str] = (), host: Host = HOST, **state: Any) -> Ctx:
    """A normalised domain on the conformance host, without address or alias assignment."""
    doc = normalise(load_document(xml, "guest.xml"), host)
    ctx = make_ctx(doc, Caps(frozenset(caps), "test"), host)
    ctx.state.update(state)
    return ctx
