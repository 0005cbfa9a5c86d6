# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The common main of the host modules (kv_kernel_args, kv_cpu_manager, kv_hugepages).

Their logic returns a result dict with `warnings` and `diff` and raises a
ValueError subclass naming the bad field; this turns that into the module's exit.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def which(module):
    """A which(name) for the logic: sbin tools are found even with a user's PATH."""
    return lambda name: module.get_bin_path(name, opt_dirs=["/usr/sbin", "/sbin"])


def finish(module, task):
    """Run task() and exit the module with its result (or fail with its error)."""
    try:
        result = task()
    except (ValueError, OSError, IOError) as exc:
        module.fail_json(msg=str(exc))
    for warning in result.pop("warnings", []):
        module.warn(warning)
    diff = result.pop("diff", None)
    if module._diff and diff:
        result["diff"] = diff
    module.exit_json(**result)
