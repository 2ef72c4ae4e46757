"""Compatibility names for the device helpers the disk family first wrote here; they live in `address` now.

The chardev module (net family) imports `devaddr.apply_overrides`; the lead can point
it at `address.apply_overrides` and drop this module.
"""

from __future__ import annotations

from .address import apply_overrides, device_arg, virtio_props
from .address import props as address_props

__all__ = ["address_props", "apply_overrides", "device_arg", "virtio_props"]
