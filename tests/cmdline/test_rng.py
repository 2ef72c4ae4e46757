"""Random number generators: backends and virtio-rng devices."""

from __future__ import annotations

from emit_helpers import domain, emit_words

CAPS = ["device", "virtio-rng", "rng-random", "rng-egd", "chardev"]


def _rng_words(rng: str) -> list[str]:
    words = emit_words(domain(rng), CAPS)
    first = next(i for i, w in enumerate(words) if w in ("-object", "-chardev") and i > words.index("-device"))
    return words[first:]


def test_random_backend_defaults_to_dev_random() -> None:
    assert _rng_words("<rng model='virtio'><backend model='random'/></rng>") == [
        "-object", "rng-random,id=rng0,filename=/dev/random",
        "-device", "virtio-rng-pci,rng=rng0,bus=pci.0,addr=0x4"]


def test_rate_without_period_uses_one_second() -> None:
    words = _rng_words("<rng model='virtio'><rate bytes='4096'/><backend model='random'>/dev/hwrng</backend></rng>")
    assert words[1] == "rng-random,id=rng0,filename=/dev/hwrng"
    assert words[3] == "virtio-rng-pci,rng=rng0,max-bytes=4096,period=1000,bus=pci.0,addr=0x4"


def test_egd_backend_gets_its_chardev() -> None:
    words = _rng_words("<rng model='virtio'><backend model='egd' type='udp'>"
                       "<source mode='connect' host='1.2.3.4' service='1234'/></backend></rng>")
    assert words[0] == "-chardev" and words[1].startswith("udp,id=charrng0,host=1.2.3.4,port=1234")
    assert words[2:4] == ["-object", "rng-egd,chardev=charrng0,id=rng0"]
