"""What one start of a guest brings beyond the domain and the host: where its memory comes from.

`virsh restore` and an incoming migration start QEMU with `-incoming URI`;
libvirt 1.2.8 checks the URI's protocol against the QEMU's capabilities. The
URI reaches domlint as `--incoming` (and, for stdio, the descriptor libvirt
would read the saved image from as `--incoming-fd`); rules see them through
the `incoming` test, so `check` and `argv` judge the same start.
"""

from __future__ import annotations

from .record import record

# The protocols libvirt 1.2.8 knows, by how it recognises them (a prefix, or stdio exactly).
PROTOCOLS = ("tcp", "stdio", "exec", "fd", "unix")


@record(frozen=True)
class Start:
    """The incoming migration URI of a start (None: a plain start), and the descriptor stdio reads from."""

    incoming: str | None = None
    incoming_fd: int | None = None

    @property
    def protocol(self) -> str | None:
        """tcp, stdio, exec, fd or unix as libvirt 1.2.8 tells them apart (by prefix), 'unknown', or None."""
        uri = self.incoming
        if uri is None:
            return None
        if uri == "stdio":
            return "stdio"
        return next((p for p in PROTOCOLS if p != "stdio" and uri.startswith(p)), "unknown")
