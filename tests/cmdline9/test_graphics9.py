"""libvirt 9.0's audio, graphics, video and sound (qemuBuildAudioCommandLine, qemuBuildGraphics*CommandLine,
qemuBuildVideoCommandLine, qemuBuildSoundCommandLine): expected values worked out from those functions'
rules and the post-parse defaults in qemu_domain.c / domain_postparse.c."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from emit9 import HOST, domain, stage_command

from domlint import host as hostmod
from domlint.cmdline.command import Command
from domlint.cmdline.context import Ctx
from domlint.cmdline9 import graphics
from domlint.errors import InputError
from domlint.host import Host

pytestmark = pytest.mark.libvirt("9.0")

JSON_CAPS = ("device.json+hotplug", "object.qapified")
PCI = "<address type='pci' domain='0x0000' bus='0x00' slot='0x0{}' function='0x0'/>"


def run(stage: Callable[[Ctx, Command], None], xml: str, caps: tuple[str, ...] = (), host: Host = HOST,
        **settings: object) -> Command:
    """One stage's arguments (and environment) for a domain, after addresses and aliases."""
    return stage_command(stage, xml, caps, host, **settings)


def args(stage: Callable[[Ctx, Command], None], xml: str, caps: tuple[str, ...] = (), **settings: object) -> list[str]:
    return run(stage, xml, caps, **settings).args


# ---------------------------------------------------------------------------- audio


def test_a_domain_without_graphics_or_audio_gets_a_silent_backend() -> None:
    assert args(graphics.audio, domain()) == ["-audiodev", '{"id":"audio1","driver":"none"}']


def test_spice_makes_the_default_backend_spice() -> None:
    xml = domain("<graphics type='spice'/>")
    assert args(graphics.audio, xml) == ["-audiodev", '{"id":"audio1","driver":"spice"}']


def test_vnc_with_host_audio_takes_the_backend_from_qemu_audio_drv() -> None:
    xml = domain("<graphics type='vnc'/>")
    assert args(graphics.audio, xml, vnc_allow_host_audio=True, env={"QEMU_AUDIO_DRV": "pa"}) == \
        ["-audiodev", '{"id":"audio1","driver":"pa"}']
    # Passthrough wanted, but QEMU_AUDIO_DRV unset: libvirt adds no backend at all.
    assert args(graphics.audio, xml, vnc_allow_host_audio=True, env={}) == []


def test_sdl_passes_sdl_audiodriver_in_the_environment() -> None:
    cmd = run(graphics.audio, domain("<graphics type='sdl'/>"),
              env={"QEMU_AUDIO_DRV": "sdl", "SDL_AUDIODRIVER": "esd"})
    assert cmd.args == ["-audiodev", '{"id":"audio1","driver":"sdl"}']
    assert cmd.env == [("SDL_AUDIODRIVER", "esd")]


def test_unknown_qemu_audio_drv_is_refused() -> None:
    with pytest.raises(InputError, match="QEMU_AUDIO_DRV"):
        args(graphics.audio, domain(), nogfx_allow_host_audio=True, env={"QEMU_AUDIO_DRV": "bogus"})


def test_explicit_backend_with_fixed_settings_per_direction() -> None:
    audio = ("<audio id='2' type='alsa' timerPeriod='50'>"
             "<input mixingEngine='yes' fixedSettings='yes' voices='1' dev='/dev/dsp0'>"
             "<settings frequency='44100' channels='2' format='s16'/></input>"
             "<output mixingEngine='yes' dev='/dev/dsp1'/></audio>")
    value = json.loads(args(graphics.audio, domain(audio))[1])
    assert value == {"id": "audio2", "driver": "alsa", "timer-period": 50,
                     "in": {"mixing-engine": True, "fixed-settings": True, "voices": 1, "frequency": 44100,
                            "channels": 2, "format": "s16", "dev": "/dev/dsp0"},
                     "out": {"mixing-engine": True, "dev": "/dev/dsp1"}}


def test_pulseaudio_file_and_oss_backends_use_qemu_names_and_options() -> None:
    pa = json.loads(args(graphics.audio, domain("<audio id='1' type='pulseaudio' serverName='srv'/>"))[1])
    assert pa == {"id": "audio1", "driver": "pa", "server": "srv"}
    wav = json.loads(args(graphics.audio, domain("<audio id='1' type='file' path='a.wav'/>"))[1])
    assert wav == {"id": "audio1", "driver": "wav", "path": "a.wav"}
    oss = json.loads(args(graphics.audio, domain("<audio id='1' type='oss' tryMMap='yes' dspPolicy='3'/>"))[1])
    assert oss == {"id": "audio1", "driver": "oss", "try-mmap": True, "dsp-policy": 3}


# ---------------------------------------------------------------------------- graphics


def test_vnc_autoport_listens_on_the_configured_address_display_0() -> None:
    assert args(graphics.graphics, domain("<graphics type='vnc'/>")) == ["-vnc", "127.0.0.1:0,audiodev=audio1"]


def test_vnc_ipv6_listen_port_websocket_share_and_keymap() -> None:
    gfx = ("<graphics type='vnc' port='5903' autoport='no' websocket='5700' sharePolicy='force-shared' "
           "keymap='de' listen='::1'/>")
    assert args(graphics.graphics, domain(gfx)) == \
        ["-vnc", "[::1]:3,websocket=5700,share=force-shared,audiodev=audio1", "-k", "de"]


def test_vnc_socket_listen_and_a_generated_socket_under_the_lib_dir_is_dropped() -> None:
    sock = domain("<graphics type='vnc'><listen type='socket' socket='/tmp/a,b.sock'/></graphics>")
    assert args(graphics.graphics, sock) == ["-vnc", "vnc=unix:/tmp/a,,b.sock,audiodev=audio1"]
    auto = domain("<graphics type='vnc'><listen type='socket'/></graphics>")
    assert args(graphics.graphics, auto) == ["-vnc", "vnc=unix:/tmp/lib/domain--1-guest/vnc.sock,audiodev=audio1"]
    old = domain("<graphics type='vnc' socket='/tmp/lib/old.sock'/>")
    assert args(graphics.graphics, old) == ["-vnc", "127.0.0.1:0,audiodev=audio1"]


def test_vnc_password_sasl_and_tls_objects() -> None:
    cmd = run(graphics.graphics, domain("<graphics type='vnc' passwd='x'/>"), JSON_CAPS, vnc_tls=True,
              vnc_tls_x509_verify=True, vnc_tls_x509_cert_dir="/pki", vnc_sasl=True, vnc_sasl_dir="/sasl")
    assert cmd.args == ["-object", '{"qom-type":"tls-creds-x509","id":"vnc-tls-creds0","dir":"/pki",'
                                   '"endpoint":"server","verify-peer":true}',
                        "-vnc", "127.0.0.1:0,password=on,tls-creds=vnc-tls-creds0,sasl=on,audiodev=audio1"]
    assert cmd.env == [("SASL_CONF_PATH", "/sasl")]


def test_vnc_port_below_5900_is_refused() -> None:
    with pytest.raises(InputError, match="5900"):
        args(graphics.graphics, domain("<graphics type='vnc' port='5000' autoport='no'/>"))


def test_spice_without_ports_listens_nowhere() -> None:
    assert args(graphics.graphics, domain("<graphics type='spice'/>")) == ["-spice", "port=0,seamless-migration=on"]


def test_spice_autoport_takes_the_pretend_ports_and_tls_from_the_settings() -> None:
    xml = domain("<graphics type='spice' autoport='yes'/>")
    # The test host has spice_tls on and a SPICE password (no disable-ticketing).
    assert args(graphics.graphics, xml) == \
        ["-spice", "port=5901,tls-port=5902,addr=127.0.0.1,x509-dir=/etc/pki/libvirt-spice,seamless-migration=on"]
    assert args(graphics.graphics, xml, spice_tls=False, spice_password=None) == \
        ["-spice", "port=5901,addr=127.0.0.1,disable-ticketing=on,seamless-migration=on"]


def test_spice_channels_compression_and_gl() -> None:
    gfx = ("<graphics type='spice' port='5903' tlsPort='5904' autoport='no' defaultMode='secure'>"
           "<channel name='inputs' mode='insecure'/><channel name='main' mode='secure'/>"
           "<image compression='auto_glz'/><playback compression='off'/><mouse mode='client'/>"
           "<clipboard copypaste='no'/><gl enable='yes' rendernode='/dev/dri/x'/></graphics>")
    assert args(graphics.graphics, domain(gfx)) == \
        ["-spice", "port=5903,tls-port=5904,addr=127.0.0.1,agent-mouse=on,x509-dir=/etc/pki/libvirt-spice,"
                   "tls-channel=default,tls-channel=main,plaintext-channel=inputs,image-compression=auto_glz,"
                   "playback-compression=off,disable-copy-paste=on,gl=on,rendernode=/dev/dri/x,"
                   "seamless-migration=on"]


def test_spice_secure_channel_without_tls_port_is_refused() -> None:
    gfx = "<graphics type='spice' port='5903' autoport='no'><channel name='main' mode='secure'/></graphics>"
    with pytest.raises(InputError, match="TLS connection is not available"):
        args(graphics.graphics, domain(gfx))


def test_sdl_egl_headless_and_dbus_displays() -> None:
    sdl = "<graphics type='sdl' display=':0.1' xauth='/x' fullscreen='yes'><gl enable='yes'/></graphics>"
    cmd = run(graphics.graphics, domain(sdl))
    assert cmd.args == ["-full-screen", "-display", "sdl,gl=on"]
    assert cmd.env == [("XAUTHORITY", "/x"), ("DISPLAY", ":0.1")]
    host = hostmod.from_dict(HOST.name, {**HOST.raw, "drm_render_node": "/dev/dri/r1"})
    egl = domain("<graphics type='egl-headless'/>")
    assert run(graphics.graphics, egl, host=host).args == ["-display", "egl-headless"]
    assert run(graphics.graphics, egl, ("egl-headless.rendernode",), host=host).args == \
        ["-display", "egl-headless,rendernode=/dev/dri/r1"]
    assert args(graphics.graphics, domain("<graphics type='dbus' p2p='yes'/>")) == ["-display", "dbus,p2p=on"]
    assert args(graphics.graphics, domain("<graphics type='dbus'/>"), state_dir="/run/q") == \
        ["-display", "dbus,addr=unix:path=/run/q/dbus/-1-guest-dbus.sock"]


# ---------------------------------------------------------------------------- video


def test_default_video_model_is_cirrus_when_qemu_has_it_else_vga() -> None:
    xml = domain("<graphics type='vnc'/><video>" + PCI.format(2) + "</video>")
    assert args(graphics.videos, xml, ("cirrus-vga",)) == ["-device", "cirrus-vga,id=video0,bus=pci.0,addr=0x2"]
    assert args(graphics.videos, xml, ("VGA.vgamem_mb",)) == \
        ["-device", "VGA,id=video0,vgamem_mb=16,bus=pci.0,addr=0x2"]


def test_qxl_primary_and_secondary_with_sizes() -> None:
    videos = ("<video><model type='qxl' ram='65536' vram='32768' vgamem='8192' heads='1'/>" + PCI.format(2) +
              "</video><video><model type='qxl' heads='3'/>" + PCI.format(4) + "</video>")
    out = args(graphics.videos, domain(videos), ("qxl.vgamem_mb", "qxl.vram64_size_mb", "device.json+hotplug"))
    assert [json.loads(a) for a in out[1::2]] == [
        {"driver": "qxl-vga", "id": "video0", "max_outputs": 1, "ram_size": 67108864, "vram_size": 33554432,
         "vram64_size_mb": 0, "vgamem_mb": 8, "bus": "pci.0", "addr": "0x2"},
        {"driver": "qxl", "id": "video1", "max_outputs": 3, "ram_size": 67108864, "vram_size": 67108864,
         "vram64_size_mb": 0, "vgamem_mb": 16, "bus": "pci.0", "addr": "0x4"}]


def test_primary_yes_moves_a_video_first() -> None:
    videos = ("<video><model type='qxl'/>" + PCI.format(4) + "</video>"
              "<video><model type='vga' primary='yes'/>" + PCI.format(2) + "</video>")
    out = args(graphics.videos, domain(videos))
    assert out[1].startswith("VGA,id=video0,") and out[3].startswith("qxl,id=video1,")


def test_virtio_video_models_and_virgl() -> None:
    virtio = "<video><model type='virtio' heads='1'><acceleration accel3d='yes'/></model>" + PCI.format(2) + "</video>"
    assert args(graphics.videos, domain(virtio), ("virtio-gpu.virgl",)) == \
        ["-device", "virtio-gpu-pci,id=video0,virgl=on,max_outputs=1,bus=pci.0,addr=0x2"]
    assert args(graphics.videos, domain(virtio), ("virtio-vga", "virtio-vga-gl")) == \
        ["-device", "virtio-vga-gl,id=video0,max_outputs=1,bus=pci.0,addr=0x2"]


def test_vhost_user_gpu_gets_its_socket_chardev() -> None:
    host = hostmod.from_dict(HOST.name, {**HOST.raw, "fds": {"vhost_user_video": 1729}})
    xml = domain("<video><driver name='vhostuser'/><model type='virtio' heads='1'/>" + PCI.format(2) + "</video>")
    assert run(graphics.videos, xml, ("vhost-user-vga",), host=host).args == [
        "-chardev", "socket,id=chr-vu-video0,fd=1729",
        "-device", "vhost-user-vga,id=video0,max_outputs=1,chardev=chr-vu-video0,bus=pci.0,addr=0x2"]


def test_video_none_is_not_a_device() -> None:
    assert args(graphics.videos, domain("<video><model type='none'/></video>")) == []


# ---------------------------------------------------------------------------- sound


def test_sound_devices_name_the_first_audio_backend_and_hda_gets_a_duplex_codec() -> None:
    sounds = ("<sound model='ac97'>" + PCI.format(3) + "</sound><sound model='ich6'>" + PCI.format(4) + "</sound>"
              "<sound model='pcspk'/>")
    assert args(graphics.sounds, domain(sounds)) == [
        "-device", "AC97,id=sound0,audiodev=audio1,bus=pci.0,addr=0x3",
        "-device", "intel-hda,id=sound1,bus=pci.0,addr=0x4",
        "-device", "hda-duplex,id=sound1-codec0,bus=sound1.0,cad=0,audiodev=audio1",
        "-soundhw", "pcspk"]


def test_hda_codecs_in_order_and_a_chosen_backend() -> None:
    sound = ("<sound model='ich9'><codec type='micro'/><codec type='output'/><audio id='2'/>" + PCI.format(5) +
             "</sound><audio id='1' type='none'/><audio id='2' type='alsa'/>")
    assert args(graphics.sounds, domain(sound))[2:] == [
        "-device", "hda-micro,id=sound0-codec0,bus=sound0.0,cad=0,audiodev=audio2",
        "-device", "hda-output,id=sound0-codec1,bus=sound0.0,cad=1,audiodev=audio2"]


def test_sound_naming_a_missing_backend_is_refused() -> None:
    sound = "<sound model='sb16'><audio id='7'/></sound><audio id='1' type='none'/>"
    with pytest.raises(InputError, match="audio backend"):
        args(graphics.sounds, domain(sound))
