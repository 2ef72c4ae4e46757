"""Disk sources: network URIs and strings, storage-pool volumes, secrets."""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest
from emit_helpers import HOST, domain
from family_ctx import ctx_for

from domlint.cmdline import secret, source, storage
from domlint.cmdline.storage import Auth
from domlint.errors import InputError
from domlint.host import from_dict

SECRET = HOST.raw["secrets"][0]["value"]


def net_disk(protocol: str, name: str | None, hosts: str, extra: str = "") -> str:
    """A domain with one network disk."""
    name_attr = f" name='{name}'" if name is not None else ""
    return domain(f"<disk type='network'><source protocol='{protocol}'{name_attr}>{hosts}</source>"
                  f"<target dev='vda'/>{extra}</disk>")


def file_of(xml: str, host=HOST) -> str | None:
    """The file= value (before comma escaping) of the domain's first disk."""
    ctx = ctx_for(xml, host=host)
    el = ctx.devices.find("disk")
    return source.drive_string(ctx, source.of_disk(ctx, el), el.sourceline)


@pytest.mark.parametrize(("protocol", "port"), [("http", 80), ("https", 443), ("ftp", 21), ("tftp", 69)])
def test_url_protocols_get_their_default_port(protocol: str, port: int) -> None:
    xml = net_disk(protocol, "/url/file.iso", "<host name='host.name'/>")
    assert file_of(xml) == f"{protocol}://host.name:{port}/url/file.iso"


def test_nbd_uses_the_old_form_for_names_and_absolute_sockets() -> None:
    assert file_of(net_disk("nbd", None, "<host name='example.org' port='6000'/>")) == "nbd:example.org:6000"
    assert file_of(net_disk("nbd", "bar", "<host name='example.org'/>")) == "nbd:example.org:10809:exportname=bar"
    unix = net_disk("nbd", "bar", "<host transport='unix' socket='/run/nbd.sock'/>")
    assert file_of(unix) == "nbd:unix:/run/nbd.sock:exportname=bar"


def test_nbd_over_ipv6_or_a_relative_socket_is_a_uri() -> None:
    assert file_of(net_disk("nbd", "bar", "<host name='::1' port='6000'/>")) == "nbd://[::1]:6000/bar"
    rel = net_disk("nbd", "bar", "<host transport='unix' socket='nbd.sock'/>")
    assert file_of(rel) == "nbd+unix:///bar?socket=nbd.sock"


def test_gluster_splits_its_volume_and_can_use_a_unix_socket() -> None:
    tcp = net_disk("gluster", "Volume1/Image", "<host name='example.org' port='6000'/>")
    assert file_of(tcp) == "gluster://example.org:6000/Volume1/Image"
    unix = net_disk("gluster", "Volume2/Image", "<host transport='unix' socket='/path/to/sock'/>")
    assert file_of(unix) == "gluster+unix:///Volume2/Image?socket=/path/to/sock"


def test_iscsi_escapes_colons_in_the_path_and_logs_in_with_the_secret() -> None:
    auth = "<auth username='myname'><secret type='iscsi' usage='mycluster_myname'/></auth>"
    xml = net_disk("iscsi", "iqn.1992-01.com.example:storage/1", "<host name='example.org' port='6000'/>", auth)
    assert file_of(xml) == f"iscsi://myname:{SECRET}@example.org:6000/iqn.1992-01.com.example%3Astorage/1"


def test_rbd_lists_monitors_and_escapes_their_colons() -> None:
    hosts = "<host name='mon1.example.org' port='6321'/><host name='::1' port='6322'/><host name='mon3'/>"
    got = file_of(net_disk("rbd", "pool/image", hosts))
    assert got == "rbd:pool/image:auth_supported=none:mon_host=mon1.example.org\\:6321\\;[\\:\\:1]\\:6322\\;mon3"


def test_rbd_key_is_the_base64_of_the_secret() -> None:
    auth = "<auth username='myname'><secret type='ceph' usage='mycluster_myname'/></auth>"
    got = file_of(net_disk("rbd", "pool/image", "", auth))
    key = base64.b64encode(SECRET.encode()).decode()
    assert got == f"rbd:pool/image:id=myname:key={key}:auth_supported=cephx\\;none"


def test_rbd_name_with_a_colon_cannot_be_passed() -> None:
    with pytest.raises(InputError, match="':'"):
        file_of(net_disk("rbd", "pool/im:age", ""))


def test_sheepdog_with_and_without_a_host() -> None:
    assert file_of(net_disk("sheepdog", "image", "")) == "sheepdog:image"
    assert file_of(net_disk("sheepdog", "image", "<host name='example.org'/>")) == "sheepdog:example.org:7000:image"


def test_a_missing_secret_is_an_input_error_at_the_auth_line() -> None:
    auth = Auth(username="u", usage="nobody", line=7)
    with pytest.raises(InputError) as err:
        secret.value(ctx_for(domain()), auth, "iscsi")
    assert err.value.line == 7 and "nobody" in err.value.message


def pool_disk(pool: str, volume: str, mode: str = "", device: str = "disk") -> str:
    """A domain with one disk from a storage pool."""
    mode_attr = f" mode='{mode}'" if mode else ""
    return domain(f"<disk type='volume' device='{device}'><source pool='{pool}' volume='{volume}'{mode_attr}/>"
                  "<target dev='hda'/></disk>")


def resolved(xml: str, host=HOST) -> storage.Source:
    """The translated source of the domain's first disk."""
    ctx = ctx_for(xml, host=host)
    return source.of_disk(ctx, ctx.devices.find("disk"))


@pytest.mark.corpus
def test_test_host_volume_names_carry_their_type() -> None:
    got = resolved(pool_disk("pool-dir", "file+images.img"))
    assert (got.type, got.path) == ("file", "/some/file/device/images.img")
    plain = resolved(pool_disk("pool-dir", "cdrom"))
    assert (plain.type, plain.path) == ("block", "/some/block/device/cdrom")


@pytest.mark.corpus
def test_iscsi_direct_mode_reaches_the_lun_through_qemu() -> None:
    got = resolved(pool_disk("pool-iscsi", "unit:0:0:2", "direct", "cdrom"))
    assert (got.type, got.protocol) == ("network", "iscsi")
    assert file_of(pool_disk("pool-iscsi", "unit:0:0:2", "direct")) == "iscsi://iscsi.example.com:3260/demo-target/2"
    assert resolved(pool_disk("pool-iscsi", "unit:0:0:2", "host")).type == "block"


@pytest.mark.parametrize(("xml", "words"), [
    (pool_disk("inactive", "x"), "not active"),
    (pool_disk("pool-dir", "nonexistent"), "no volume"),
    (pool_disk("no-such-pool", "x"), "not found"),
    (pool_disk("pool-dir", "x", "host"), "iscsi"),
    (pool_disk("pool-rbd", "x"), "rbd pools"),
    (pool_disk("pool-iscsi", "lun2", "direct"), "unit:A:B:LUN"),
])
@pytest.mark.corpus
def test_volumes_the_host_cannot_provide(xml: str, words: str) -> None:
    with pytest.raises(InputError, match=words):
        resolved(xml)


@pytest.mark.corpus
def test_iscsi_direct_with_pool_auth_needs_the_pools_secret() -> None:
    with pytest.raises(InputError, match="uuid '2ec115d7"):
        file_of(pool_disk("pool-iscsi-auth", "unit:0:0:1", "direct"))


def test_without_test_naming_a_volume_lives_under_the_pool_target(tmp_path) -> None:
    (tmp_path / "images.xml").write_text(
        "<pool type='dir'><name>images</name><target><path>/var/lib/images</path></target></pool>")
    raw = {k: v for k, v in HOST.raw.items() if k != "volume_naming"} | {"storage_pools": str(tmp_path)}
    got = resolved(pool_disk("images", "a.qcow2"), host=replace(HOST, raw=raw))
    assert (got.type, got.path) == ("file", "/var/lib/images/a.qcow2")


def test_a_secret_is_found_by_uuid_in_any_spelling_and_needs_its_value() -> None:
    host = from_dict("h", {**HOST.raw, "secrets": [
        {"uuid": "0A8B2C0E-5F0E-4A53-9C1F-4B1B3F2F1C22", "value": "s3cret"}, {"usage": "novalue"}]})
    ctx = ctx_for(domain(), host=host)
    assert secret.value(ctx, Auth(username="u", uuid="0a8b2c0e5f0e4a539c1f4b1b3f2f1c22", line=3), "iscsi") == "s3cret"
    with pytest.raises(InputError, match="not its value") as err:
        secret.value(ctx, Auth(username="u", usage="novalue", line=5), "iscsi")
    assert err.value.line == 5
