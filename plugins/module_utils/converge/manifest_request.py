# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A kv_vm VM given as a KubeVirt manifest -> the same Request as one given by options.

The manifest declares the hardware; beside it a VM takes only the run options
(state, timeouts, purge_state), `name` (replaces metadata.name) and what the
manifest needs from this host (image_catalogue, storage_pool, image_dir).
Errors name manifest paths, also those found later by plan (Request.manifest).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec import manifest as mf
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.errors import SpecError
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.fields import Fields
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.manifest_result import remap
from ansible_collections.kvcompute.libvirt.plugins.module_utils.spec.manifest_volumes import IMAGE_DIR

MANIFEST_KEYS = ("manifest", "image_catalogue", "storage_pool", "image_dir")
BESIDE_MANIFEST = ("name", "state", "shutdown_timeout", "wait_timeout", "purge_state", "run_strategy") + MANIFEST_KEYS


def read(data, defaults, read_request):
    merged = dict((k, v) for k, v in defaults.items() if v is not None)
    merged.update(dict((k, v) for k, v in data.items() if v is not None))
    problems = []
    for key in sorted(merged):
        if key not in BESIDE_MANIFEST:
            problems.append((key, "cannot be given beside manifest: the manifest declares the VM's hardware"))
    f = Fields("", dict((k, merged[k]) for k in MANIFEST_KEYS if k in merged), problems)
    pool = f.text("storage_pool", "default")
    image_dir = f.text("image_dir", IMAGE_DIR, pattern=r"^/", pattern_help="an absolute path")
    if problems:
        raise SpecError(problems)
    tr = mf.translate(merged["manifest"], name=merged.get("name"), catalogue=merged.get("image_catalogue"),
                      storage_pool=pool, image_dir=image_dir)
    options = dict(tr.options)
    given = data or defaults  # a fleet's top-level values are defaults the manifest may override
    for key, value in tr.run.items():
        if given.get(key) is not None:
            problems.append((key, "is also given by the manifest (%s); give it in one place" % tr.where(key)))
        options[key] = value
    for key in ("state", "wait_timeout", "purge_state", "shutdown_timeout", "run_strategy"):
        if key not in options and merged.get(key) is not None:
            options[key] = merged[key]
    if problems:
        raise SpecError(problems)
    try:
        request = read_request(options, {})
    except SpecError as err:
        raise SpecError(remap(tr, err.problems))
    request.manifest = tr
    return request


def where(request, option_field):
    """The manifest path of an option field of a manifest VM (the field itself otherwise)."""
    manifest = getattr(request, "manifest", None)
    return manifest.where(option_field) if manifest is not None else option_field
