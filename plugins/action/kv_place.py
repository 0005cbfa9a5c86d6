# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kv_place runs on the controller: it reads the hostvars of the hosts it is given and places VMs.

The work is plugins/module_utils/placement (pure); this file only validates the
arguments, collects the hostvars and shapes the result.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.kvcompute.libvirt.plugins.module_utils.placement.inventory import place
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec import quantity
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError

ARGUMENT_SPEC = dict(
    hosts=dict(type="list", elements="str", required=True),
    vms=dict(type="list", elements="dict", required=True),
    cpu_allocation_ratio=dict(type="int", default=10),
    memory_overcommit=dict(type="int", default=100),
    scoring=dict(type="str", default="spread", choices=["spread", "pack"]),
    facts_var=dict(type="str", default="kv_host"),
    present_var=dict(type="str", default="kv_present_vms"),
    fail_on_unplaced=dict(type="bool", default=False),
)
HOST_VARS = ("kv_node_labels", "kv_node_taints", "kv_node_devices")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        _valid, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        if not quantity.HAS_BITMATH:
            return dict(result, failed=True, msg="kv_place needs the Python library bitmath on the controller",
                        exception=quantity.BITMATH_IMPORT_ERROR)
        hostvars = (task_vars or {}).get("hostvars", {})
        wanted = (args["facts_var"], args["present_var"]) + HOST_VARS
        known = {}
        for name in args["hosts"]:
            if name in hostvars:
                known[name] = dict((key, hostvars[name].get(key)) for key in wanted)
        try:
            placed = place(known, args["hosts"], args["vms"], args["cpu_allocation_ratio"], args["memory_overcommit"],
                           args["scoring"], args["facts_var"], args["present_var"])
        except SpecError as err:
            return dict(result, failed=True, msg=str(err),
                        errors=[{"field": f, "message": m} for f, m in err.problems])
        result.update(placed, changed=False)
        if args["fail_on_unplaced"] and placed["unplaced"]:
            result["failed"] = True
            result["msg"] = "; ".join("%s: %s" % kv for kv in sorted(placed["unplaced"].items()))
        return result
