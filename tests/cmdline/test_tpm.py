"""The TPM passthrough backend and device."""

from __future__ import annotations

from emit_helpers import after, domain, emit_words

CAPS = ["device", "tpm-passthrough", "tpm-tis"]


def test_passthrough_names_the_device_and_its_cancel_file() -> None:
    words = emit_words(domain("<tpm model='tpm-tis'><backend type='passthrough'>"
                              "<device path='/dev/tpm,1'/></backend></tpm>"), CAPS)
    # Commas in paths are doubled for QEMU.
    assert after(words, "-tpmdev") == [
        "passthrough,id=tpm-tpm0,path=/dev/tpm,,1,cancel-path=/sys/class/misc/tpm,,1/device/cancel"]
    assert "tpm-tis,tpmdev=tpm-tpm0,id=tpm0" in after(words, "-device")


def test_device_path_defaults_to_tpm0() -> None:
    words = emit_words(domain("<tpm model='tpm-tis'><backend type='passthrough'/></tpm>"), CAPS)
    assert after(words, "-tpmdev") == [
        "passthrough,id=tpm-tpm0,path=/dev/tpm0,cancel-path=/sys/class/misc/tpm0/device/cancel"]
