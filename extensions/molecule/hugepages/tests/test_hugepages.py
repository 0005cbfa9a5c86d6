"""What the hugepages role wrote under the fake host tree."""

import os

ROOT = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "root")


def test_2mi_pages_per_node_now_and_at_boot(host):
    for node, count in ((0, 8), (1, 4)):
        nr = host.file("%s/sys/devices/system/node/node%d/hugepages/hugepages-2048kB/nr_hugepages" % (ROOT, node))
        assert int(nr.content_string) == count
    assert host.file(ROOT + "/etc/sysctl.d/80-kvcompute-hugepages.conf").content_string.endswith(
        "vm.nr_hugepages = 12\n")


def test_1gi_pages_on_the_next_kernel_line(host):
    grub = host.file(ROOT + "/etc/default/grub").content_string
    assert 'GRUB_CMDLINE_LINUX="console=ttyS0 hugepagesz=1G hugepages=1"' in grub


def test_1gi_mount_persisted(host):
    assert "hugetlbfs /dev/hugepages1G hugetlbfs pagesize=1G 0 0\n" in host.file(ROOT + "/etc/fstab").content_string
