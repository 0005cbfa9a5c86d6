# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel-argument editing on fixture GRUB defaults and BLS entries, with exact expected output."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
from pathlib import Path

import pytest

from ansible_collections.kvcompute.libvirt.plugins.module_utils.host import kernel_args as ka
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.hostfs import HostFS
from tests.support.fake_host import snapshot

FIXTURES = Path(__file__).parent / "fixtures" / "kernel_args"


def fixture(name):
    return (FIXTURES / name).read_text()


def make_root(tmp_path, grub=None, entries=(), cmdline="BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet\n", dropins=()):
    if grub is not None:
        (tmp_path / "etc/default").mkdir(parents=True, exist_ok=True)
        (tmp_path / "etc/default/grub").write_text(grub)
    for name, text in dropins:
        (tmp_path / "etc/default/grub.d").mkdir(parents=True, exist_ok=True)
        (tmp_path / "etc/default/grub.d" / name).write_text(text)
    for name, text in entries:
        (tmp_path / "boot/loader/entries").mkdir(parents=True, exist_ok=True)
        (tmp_path / "boot/loader/entries" / name).write_text(text)
    if cmdline is not None:
        (tmp_path / "proc").mkdir(exist_ok=True)
        (tmp_path / "proc/cmdline").write_text(cmdline)
    return HostFS(str(tmp_path))


# --------------------------------------------------------------------------- pure argument edits


@pytest.mark.parametrize("text, args", [
    ("a b  c", ["a", "b", "c"]),
    ('dyndbg="file x.c +p" quiet', ['dyndbg="file x.c +p"', "quiet"]),
    ('"foo=a b" c', ['"foo=a b"', "c"]),
    ("  ", []),
    ("ro -- init arg", ["ro", "--", "init", "arg"]),
])
def test_split(text, args):
    assert ka.split(text) == args


@pytest.mark.parametrize("args, present, absent, expected", [
    # key=value replaces at the first occurrence; duplicates go
    (["a", "isolcpus=1", "b", "isolcpus=2"], ["isolcpus=1-3"], [], ["a", "isolcpus=1-3", "b"]),
    # new keys appended in the given order
    (["ro"], ["intel_iommu=on", "iommu=pt"], [], ["ro", "intel_iommu=on", "iommu=pt"]),
    # a bare flag replaces key=value and vice versa
    (["iommu=pt"], ["iommu"], [], ["iommu"]),
    # - and _ are the same in names
    (["nohz-full=1"], ["nohz_full=1-3"], [], ["nohz_full=1-3"]),
    # absent by key removes all values; by key=value only that one
    (["console=tty0", "console=ttyS0", "quiet"], [], ["console=tty0"], ["console=ttyS0", "quiet"]),
    (["console=tty0", "console=ttyS0", "quiet"], [], ["console"], ["quiet"]),
    # arguments after -- belong to init: untouched, new ones go before
    (["ro", "--", "single", "isolcpus=9"], ["isolcpus=1"], [], ["ro", "isolcpus=1", "--", "single", "isolcpus=9"]),
    # idempotent
    (["ro", "isolcpus=1-3"], ["isolcpus=1-3"], ["nohz_full"], ["ro", "isolcpus=1-3"]),
])
def test_edit(args, present, absent, expected):
    assert ka.edit(args, present, absent) == expected
    assert ka.edit(expected, present, absent) == expected


def test_edit_groups_keeps_each_argument_in_its_group():
    groups = [["console=ttyS0"], ["quiet", "isolcpus=1"]]
    assert ka.edit_groups(groups, ["isolcpus=2", "iommu=pt"], ["quiet"]) == [
        ["console=ttyS0", "iommu=pt"], ["isolcpus=2"]]


@pytest.mark.parametrize("present, absent, message", [
    (["a b"], [], "present[0]: 'a b' is not one argument"),
    ([""], [], "present[0]: an argument must be a non-empty string"),
    (['x="a'], [], "present[0]"),
    (["=1"], [], "present[0]: '=1' has no parameter name"),
    (["isolcpus=1", "isolcpus=2"], [], "present[1]: key 'isolcpus' is already set by present[0]"),
    (["nohz_full=1"], ["nohz-full"], "absent[0]: key 'nohz_full' is also in present[0]"),
    ([], ["a b"], "absent[0]: give a parameter name"),
])
def test_validate_names_the_item(present, absent, message):
    with pytest.raises(ka.KernelArgsError) as err:
        ka.validate(present, absent)
    assert message in str(err.value)


# --------------------------------------------------------------------------- GRUB defaults files


def test_grub_debian_exact_output_and_idempotence(tmp_path):
    fs = make_root(tmp_path, grub=fixture("grub_debian"))
    present, absent = ["isolcpus=1-3", "rcu_nocbs=1-3"], ["nohz_full", "console=tty0"]
    result = ka.apply(fs, present, absent)
    assert (tmp_path / "etc/default/grub").read_text() == fixture("grub_debian.expected")
    assert result["changed"] and result["files"] == ["/etc/default/grub"]
    assert result["before"] == ["console=tty0", "console=ttyS0,115200n8", "nohz_full=1", "quiet", "isolcpus=1"]
    assert result["after"] == ["console=ttyS0,115200n8", "rcu_nocbs=1-3", "quiet", "isolcpus=1-3"]
    assert result["commands"] == []  # not the real root: nothing run
    again = ka.apply(fs, present, absent)
    assert not again["changed"] and again["files"] == [] and again["diff"] == []
    assert (tmp_path / "etc/default/grub").read_text() == fixture("grub_debian.expected")


def test_grub_single_quotes_and_comment_kept(tmp_path):
    fs = make_root(tmp_path, grub=fixture("grub_single"))
    ka.apply(fs, ["iommu=pt"], [])
    assert (tmp_path / "etc/default/grub").read_text() == fixture("grub_single.expected")
    assert ka.plan(fs, ["iommu=pt"], []).after == ["rd.lvm.lv=vg/root", 'dyndbg="file drivers/* +p"', "quiet", "iommu=pt"]


def test_grub_value_with_double_quotes_is_escaped(tmp_path):
    fs = make_root(tmp_path, grub='GRUB_CMDLINE_LINUX=""\n')
    ka.apply(fs, ['dyndbg="file x.c +p"'], [])
    assert (tmp_path / "etc/default/grub").read_text() == 'GRUB_CMDLINE_LINUX="dyndbg=\\"file x.c +p\\""\n'
    assert ka.plan(fs, ['dyndbg="file x.c +p"'], []).after == ['dyndbg="file x.c +p"']
    assert not ka.apply(fs, ['dyndbg="file x.c +p"'], [])["changed"]


def test_grub_without_cmdline_gets_one(tmp_path):
    fs = make_root(tmp_path, grub=fixture("grub_nocmdline"))
    ka.apply(fs, ["intel_iommu=on", "iommu=pt"], [])
    assert (tmp_path / "etc/default/grub").read_text() == fixture("grub_nocmdline.expected")


def test_grub_dropin_that_sets_the_cmdline_last_is_edited(tmp_path):
    fs = make_root(tmp_path, grub='GRUB_CMDLINE_LINUX="ro"\n',
                   dropins=[("50-cloudimg.cfg", 'GRUB_CMDLINE_LINUX="console=ttyS0"\n')])
    result = ka.apply(fs, ["iommu=pt"], [])
    assert result["files"] == ["/etc/default/grub.d/50-cloudimg.cfg"]
    assert (tmp_path / "etc/default/grub").read_text() == 'GRUB_CMDLINE_LINUX="ro"\n'
    assert (tmp_path / "etc/default/grub.d/50-cloudimg.cfg").read_text() == 'GRUB_CMDLINE_LINUX="console=ttyS0 iommu=pt"\n'


def test_shell_expansion_is_refused_before_any_write(tmp_path):
    fs = make_root(tmp_path, grub=fixture("grub_quoted"))
    before = snapshot(tmp_path)
    with pytest.raises(ka.KernelArgsError) as err:
        ka.apply(fs, ["iommu=pt"], [])
    assert "/etc/default/grub line 3 (GRUB_CMDLINE_LINUX): the value uses shell expansion" in str(err.value)
    assert snapshot(tmp_path) == before


def test_mode_is_kept_and_write_is_atomic(tmp_path):
    fs = make_root(tmp_path, grub='GRUB_CMDLINE_LINUX=""\n')
    path = tmp_path / "etc/default/grub"
    os.chmod(str(path), 0o600)
    inode = path.stat().st_ino
    ka.apply(fs, ["iommu=pt"], [])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.stat().st_ino != inode  # replaced by rename, not rewritten in place
    assert [p.name for p in path.parent.iterdir()] == ["grub"]  # no temp file left


def test_check_mode_writes_nothing_and_reports_diff(tmp_path):
    fs = make_root(tmp_path, grub=fixture("grub_debian"))
    before = snapshot(tmp_path)
    result = ka.apply(fs, ["isolcpus=1-3", "rcu_nocbs=1-3"], ["nohz_full", "console=tty0"], check_mode=True)
    assert snapshot(tmp_path) == before
    assert result["changed"] and result["files"] == ["/etc/default/grub"]
    assert result["diff"] == [{
        "before_header": "/etc/default/grub", "after_header": "/etc/default/grub",
        "before": fixture("grub_debian"), "after": fixture("grub_debian.expected"),
    }]


# --------------------------------------------------------------------------- BLS entries


def test_bls_exact_output_duplicates_and_dash_names(tmp_path):
    fs = make_root(tmp_path, entries=[("f39.conf", fixture("bls_fedora.conf"))])
    present, absent = ["isolcpus=1-3", "nohz_full=1-3"], ["quiet"]
    result = ka.apply(fs, present, absent)
    assert (tmp_path / "boot/loader/entries/f39.conf").read_text() == fixture("bls_fedora.conf.expected")
    assert result["files"] == ["/boot/loader/entries/f39.conf"]
    assert result["after"] == ["root=UUID=1a2b", "rhgb", "isolcpus=1-3", "nohz_full=1-3"]
    assert not ka.apply(fs, present, absent)["changed"]


def test_bls_every_entry_and_grub_together(tmp_path):
    entry = "title x\nlinux /vmlinuz\noptions ro\n"
    fs = make_root(tmp_path, grub='GRUB_CMDLINE_LINUX="ro"\n',
                   entries=[("a.conf", entry), ("b.conf", entry), ("c.conf", "title no options\nlinux /vmlinuz\n")])
    result = ka.apply(fs, ["iommu=pt"], [])
    assert result["files"] == ["/boot/loader/entries/a.conf", "/boot/loader/entries/b.conf",
                               "/boot/loader/entries/c.conf", "/etc/default/grub"]
    assert [s["kind"] for s in result["sources"]] == ["grub", "bls", "bls", "bls"]
    assert (tmp_path / "boot/loader/entries/a.conf").read_text() == "title x\nlinux /vmlinuz\noptions ro iommu=pt\n"
    assert (tmp_path / "boot/loader/entries/c.conf").read_text() == "title no options\nlinux /vmlinuz\noptions iommu=pt\n"
    only_bls = ka.apply(fs, ["iommu=pt", "nohz"], [], bootloader="bls")
    assert all(not f.startswith("/etc") for f in only_bls["files"])


def test_bls_with_variables_is_refused(tmp_path):
    fs = make_root(tmp_path, entries=[("rhel.conf", fixture("bls_rhel8.conf"))])
    with pytest.raises(ka.KernelArgsError) as err:
        ka.apply(fs, ["iommu=pt"], [])
    assert "/boot/loader/entries/rhel.conf line 5: options uses a variable" in str(err.value)


@pytest.mark.parametrize("bootloader, message", [
    ("grub", "bootloader: grub, but"),
    ("bls", "bootloader: bls, but there is no"),
    ("auto", "no bootloader configuration to edit"),
    ("lilo", "bootloader: 'lilo' is not one of auto, grub, bls"),
])
def test_missing_configuration(tmp_path, bootloader, message):
    fs = make_root(tmp_path)
    with pytest.raises(ka.KernelArgsError) as err:
        ka.apply(fs, ["iommu=pt"], [], bootloader=bootloader)
    assert message in str(err.value)


def test_only_absent_without_configuration_is_a_no_op(tmp_path):
    result = ka.apply(make_root(tmp_path), [], ["isolcpus"])
    assert not result["changed"] and not result["reboot_required"] and result["files"] == []


# --------------------------------------------------------------------------- reboot and commands


def test_reboot_required_compares_with_the_running_kernel(tmp_path):
    fs = make_root(tmp_path, grub='GRUB_CMDLINE_LINUX=""\n', cmdline="ro isolcpus=1 -- isolcpus=1-3\n")
    assert ka.apply(fs, ["isolcpus=1-3"], [])["reboot_required"]
    assert not ka.apply(fs, ["isolcpus=1"], [])["reboot_required"]
    assert ka.apply(fs, [], ["isolcpus"])["reboot_required"]


class FakeTools:
    """Records commands; which() finds only the tools given."""

    def __init__(self, tools):
        self.tools, self.ran = tools, []

    def which(self, name):
        return "/usr/sbin/" + name if name in self.tools else None

    def run(self, argv):
        self.ran.append(argv)
        return 0, "", ""


def test_commands(tmp_path):
    fs = make_root(tmp_path, grub='GRUB_CMDLINE_LINUX=""\n')
    (tmp_path / "boot/grub2").mkdir(parents=True)
    assert ka.grub_mkconfig_command(FakeTools({"update-grub", "grub2-mkconfig"}).which, fs) == ["/usr/sbin/update-grub"]
    assert ka.grub_mkconfig_command(FakeTools({"grub-mkconfig", "grub2-mkconfig"}).which, fs) == [
        "/usr/sbin/grub2-mkconfig", "-o", "/boot/grub2/grub.cfg"]
    assert ka.grub_mkconfig_command(FakeTools(set()).which, fs) is None
    assert ka.grubby_command("/usr/sbin/grubby", ["isolcpus=1", "nohz"], ["quiet"]) == [
        "/usr/sbin/grubby", "--update-kernel=ALL", "--remove-args=quiet isolcpus", "--args=isolcpus=1 nohz"]


def test_no_command_runs_under_a_test_root(tmp_path):
    fs = make_root(tmp_path, grub='GRUB_CMDLINE_LINUX=""\n', entries=[("a.conf", "options ro\n")])
    tools = FakeTools({"update-grub", "grubby"})
    result = ka.apply(fs, ["iommu=pt"], [], run=tools.run, which=tools.which)
    assert tools.ran == [] and result["commands"] == []
    assert (tmp_path / "boot/loader/entries/a.conf").read_text() == "options ro iommu=pt\n"
