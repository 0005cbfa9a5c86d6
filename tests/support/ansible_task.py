# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One module task through a real ansible-playbook run, as a user runs it (for bench/)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_task(module, args, workdir):
    """Run ``module`` (FQCN) with ``args`` on localhost; return its registered result."""
    out = Path(workdir) / "result.json"
    play = [{"hosts": "localhost", "gather_facts": False,
             "tasks": [{"name": "task", module: args, "register": "r"},
                       {"name": "result", "ansible.builtin.copy": {"content": "{{ r | to_json }}", "dest": str(out)}}]}]
    path = Path(workdir) / "play.json"
    path.write_text(json.dumps(play))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(REPO / ".cache" / "collections"),
               ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    subprocess.run([str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                    str(path)], check=True, env=env, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())
