"""What the iommu role wrote under the fake host tree."""

import os

ROOT = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "root")


def test_iommu_on_the_next_kernel_line(host):
    grub = host.file(ROOT + "/etc/default/grub").content_string
    assert 'GRUB_CMDLINE_LINUX="console=ttyS0 intel_iommu=on iommu=pt"' in grub
