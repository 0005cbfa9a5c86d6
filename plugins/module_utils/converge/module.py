# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kv_vm's main(): parameters -> requests -> prepare all -> apply -> results."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils import virt
from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge import devices, placement, vm
from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge.host_lock import host_lock
from ansible_collections.kvcompute.libvirt.plugins.module_utils.converge.host_view import HostView
from ansible_collections.kvcompute.libvirt.plugins.module_utils import libvirt_xml
from ansible_collections.kvcompute.libvirt.plugins.module_utils.host.hostfs import HostFS
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec import quantity
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError

LIBRARIES = (
    ("libvirt-python", virt.HAS_LIBVIRT, virt.LIBVIRT_IMPORT_ERROR),
    ("lxml", libvirt_xml.HAS_LXML, libvirt_xml.LXML_IMPORT_ERROR),
    ("bitmath", quantity.HAS_BITMATH, quantity.BITMATH_IMPORT_ERROR),
)


def check_libraries(module, missing_required_lib, names=("libvirt-python", "lxml", "bitmath")):
    for name, present, error in LIBRARIES:
        if name in names and not present:
            module.fail_json(msg=missing_required_lib(name), exception=error)


def connected(module, work, expected=(), prefix=""):
    """work(conn) on a connection to module.params['uri'].

    A libvirt failure, or one of the `expected` exceptions (a module's own
    refusals), fails the task with its message, `prefix` in front.
    """
    try:
        conn = virt.Connection(module.params["uri"])
    except virt.VirtError as err:
        module.fail_json(msg=str(err))
    try:
        return work(conn)
    except (virt.VirtError,) + tuple(expected) as err:
        module.fail_json(msg=prefix + str(err), changed=False)
    finally:
        conn.close()


def read_requests(params):
    """Requests for every VM, or SpecError listing every problem (prefixed by the VM entry)."""
    defaults = dict((k, v) for k, v in params.items() if k not in ("uri", "vms") + devices.MODULE_KEYS)
    defaults.pop("cpu_manager_file", None)  # module-level: where the CPU pools are (converge/placement.py)
    if params.get("vms") is None:
        return [vm.read_request({}, defaults)]
    defaults.pop("name", None)
    requests, problems, names = [], [], set()
    for i, item in enumerate(params["vms"]):
        try:
            request = vm.read_request(item, defaults)
        except SpecError as err:
            problems.extend(("vms[%d].%s" % (i, fld), msg) for fld, msg in err.problems)
            continue
        if request.name in names:
            problems.append(("vms[%d].name" % i, "%r is declared twice" % request.name))
        names.add(request.name)
        requests.append(request)
    if problems:
        raise SpecError(problems)
    return requests


def fail_spec(module, err):
    """Fail before any change, naming every bad field (also as data for AWX surveys and callers)."""
    module.fail_json(msg=str(err), errors=[{"field": f, "message": m} for f, m in err.problems])


def run_vms(module, missing_required_lib):
    check_libraries(module, missing_required_lib)
    try:
        requests = read_requests(module.params)
        permitted = devices.read_permitted(module.params, requests)
    except SpecError as err:
        fail_spec(module, err)
    results = connected(module, lambda conn: _converge(module, conn, requests, permitted))
    changed = any(r["changed"] for r in results)
    diffs = [r.pop("diff") for r in results]
    if module.params.get("vms") is None:
        out = dict(results[0], changed=changed, diff=diffs[0])
    else:
        out = dict(changed=changed, vms=results, diff=diffs)
    module.exit_json(**out)


def _converge(module, conn, requests, permitted=None):
    root = module.params.get("root") or "/"
    host = HostView(conn, HostFS(root))
    host.cpu_manager_file = module.params.get("cpu_manager_file") or host.cpu_manager_file
    host.devices = devices.DeviceLedger(conn, host.fs, permitted)
    if module.check_mode:
        return _converge_all(module, conn, host, requests)
    # One kv_vm at a time per host, from the first read of what is taken (dedicated CPUs, devices,
    # CIDs: the defined domains hold them) to the last define.
    with host_lock(root):
        results = _converge_all(module, conn, host, requests)
        if any(r["changed"] for r in results) and placement.needs_lock(conn, host.fs, host.cpu_manager_file,
                                                                        requests):
            placement.rebalance(conn, host, [])
        return results


def _converge_all(module, conn, host, requests):
    prepared, problems = [], []
    for i, request in enumerate(requests):
        try:
            prepared.append(vm.prepare(conn, host, request))
        except SpecError as err:
            prefix = "" if module.params.get("vms") is None else "vms[%d]." % i
            problems.extend((prefix + f, msg) for f, msg in err.problems)
    if problems:
        fail_spec(module, SpecError(problems))
    results = []
    for item in prepared:
        if not module.check_mode and (item.actions or item.live):
            try:
                item.done = vm.apply(conn, item, module.run_command)
            except virt.VirtError as err:
                module.fail_json(msg="%s: %s" % (item.request.name, err), vms=results)
        results.append(vm.result(item))
    return results
