"""What cpu_manager wrote under the fake host tree."""

import json
import os

ROOT = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "root")


def test_pools_recorded(host):
    pools = json.loads(host.file(ROOT + "/etc/kvcompute/cpu_manager.json").content_string)
    assert pools == {"reserved": "0", "pool": "1-3"}


def test_system_services_confined_to_the_reserved_cpus(host):
    for unit, section in (("system.slice", "Slice"), ("init.scope", "Scope")):
        dropin = host.file("%s/etc/systemd/system/%s.d/50-kvcompute-cpu-manager.conf" % (ROOT, unit))
        assert dropin.content_string.endswith("[%s]\nAllowedCPUs=0\n" % section)


def test_pool_isolated_on_the_next_kernel_line(host):
    grub = host.file(ROOT + "/etc/default/grub").content_string
    assert 'GRUB_CMDLINE_LINUX="console=ttyS0 isolcpus=1-3 nohz_full=1-3 rcu_nocbs=1-3"' in grub
