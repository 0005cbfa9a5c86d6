# -*- coding: utf-8 -*-
# Copyright: kvcompute.libvirt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel command line arguments for the next boot: GRUB defaults and BLS entries.

One mechanism for every role that needs kernel arguments (CPU isolation, 1Gi
hugepages, IOMMU).  Edits are planned on the file texts first (pure), so bad
input fails before anything is written and check mode reports exactly what a
real run writes.  Commands (update-grub, grubby) run only on the real root.

Semantics of an edit, on the arguments in boot order:
  * `present` holds whole arguments; every argument with the same key is
    replaced by it at the place of the first one (duplicates go); a key not
    there yet is appended (before a `--`, which starts init's arguments).
  * `absent` holds keys (all values go) or whole `key=value` arguments (only
    that one goes).
  * Keys compare as the kernel does: `-` and `_` are the same in a name.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

GRUB_DEFAULTS = "/etc/default/grub"
GRUB_DROPINS = "/etc/default/grub.d/*.cfg"
BLS_ENTRIES = "/boot/loader/entries/*.conf"
PROC_CMDLINE = "/proc/cmdline"
# The boot sees GRUB_CMDLINE_LINUX, then GRUB_CMDLINE_LINUX_DEFAULT (normal entries).
GRUB_VARS = ("GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT")
BOOTLOADERS = ("auto", "grub", "bls")
# grub.cfg writers, first found wins: (command, output file or None).
GRUB_MKCONFIG = (
    ("update-grub", None),
    ("grub-mkconfig", "/boot/grub/grub.cfg"),
    ("grub2-mkconfig", "/boot/grub2/grub.cfg"),
)


class KernelArgsError(ValueError):
    """Bad input or a file this code must not edit; the message names the field or file."""


# --------------------------------------------------------------------------- arguments


def split(text):
    """Split a command line into arguments; double quotes keep spaces (`a="b c"`)."""
    args, cur, quoted, started = [], [], False, False
    for ch in text or "":
        if ch == '"':
            quoted = not quoted
        if ch.isspace() and not quoted:
            if started:
                args.append("".join(cur))
                cur, started = [], False
            continue
        cur.append(ch)
        started = True
    if started:
        args.append("".join(cur))
    return args


def key(arg):
    """The parameter name of an argument, normalised as the kernel compares it."""
    name = arg.replace('"', "").split("=", 1)[0]
    return name.replace("-", "_")


def _kernel_part(args):
    """(kernel arguments, init arguments from `--` on)."""
    if "--" in args:
        i = args.index("--")
        return args[:i], args[i:]
    return args, []


def validate(present, absent):
    """Check present/absent; raise KernelArgsError naming the item."""
    problems = []
    seen = {}
    for i, arg in enumerate(present):
        field = "present[%d]" % i
        if not isinstance(arg, str) or not arg.strip():
            problems.append("%s: an argument must be a non-empty string" % field)
            continue
        if split(arg) != [arg] or arg.count('"') % 2:
            problems.append("%s: %r is not one argument (quote spaces as key=\"a b\")" % (field, arg))
            continue
        if arg == "--" or arg.startswith("=") or not key(arg):
            problems.append("%s: %r has no parameter name" % (field, arg))
            continue
        if key(arg) in seen:
            problems.append("%s: key %r is already set by present[%d]" % (field, key(arg), seen[key(arg)]))
        seen[key(arg)] = i
    for i, arg in enumerate(absent):
        field = "absent[%d]" % i
        if not isinstance(arg, str) or not arg.strip() or split(arg) != [arg] or not key(arg):
            problems.append("%s: give a parameter name (or one whole key=value argument)" % field)
            continue
        if key(arg) in seen:
            problems.append("%s: key %r is also in present[%d]" % (field, key(arg), seen[key(arg)]))
    if problems:
        raise KernelArgsError("; ".join(problems))


def _removed(arg, absent):
    for gone in absent:
        if ("=" in gone and arg == gone) or ("=" not in gone and key(arg) == key(gone)):
            return True
    return False


def edit_groups(groups, present, absent):
    """Edit argument groups that the kernel sees one after the other.

    groups: list of argument lists (GRUB_CMDLINE_LINUX then _DEFAULT, or the
    `options` lines of one BLS entry).  New arguments go to the first group.
    Returns the new groups.
    """
    wanted = dict((key(a), a) for a in present)
    placed = set()
    out = []
    for args in groups:
        head, tail = _kernel_part(args)
        new = []
        for arg in head:
            k = key(arg)
            if k in wanted:
                if k not in placed:
                    new.append(wanted[k])
                    placed.add(k)
            elif not _removed(arg, absent):
                new.append(arg)
        out.append([new, tail])
    missing = [a for a in present if key(a) not in placed]
    if out:
        out[0][0].extend(missing)
    return [head + tail for head, tail in out]


def edit(args, present, absent):
    return edit_groups([args], present, absent)[0]


def running(fs):
    """The running kernel's arguments (without init's, after `--`)."""
    try:
        text = fs.read(PROC_CMDLINE)
    except (OSError, IOError):
        return []
    return _kernel_part(split(text))[0]


# --------------------------------------------------------------------------- shell values (GRUB)

_ASSIGN = re.compile(r"^(?P<lead>\s*(?:export\s+)?)(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<rest>.*)$")


def _shell_word(text, where):
    """Parse one shell word at the start of text: (value, quote char or '', rest of line)."""
    value, i, quote = [], 0, ""
    while i < len(text):
        ch = text[i]
        if ch == "'":
            end = text.find("'", i + 1)
            if end < 0:
                raise KernelArgsError("%s: unterminated ' quote" % where)
            value.append(text[i + 1:end])
            quote = quote or "'"
            i = end + 1
        elif ch == '"':
            i += 1
            while i < len(text) and text[i] != '"':
                if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in '"\\$`':
                    value.append(text[i + 1])
                    i += 2
                    continue
                if text[i] in "$`":
                    raise KernelArgsError("%s: the value uses shell expansion ($ or `); edit it by hand" % where)
                value.append(text[i])
                i += 1
            if i >= len(text):
                raise KernelArgsError('%s: unterminated " quote' % where)
            quote = quote or '"'
            i += 1
        elif ch.isspace() or ch == ";":
            break
        elif ch in "$`\\":
            raise KernelArgsError("%s: the value uses shell expansion or escapes; edit it by hand" % where)
        else:
            value.append(ch)
            i += 1
    return "".join(value), quote, text[i:]


def _shell_quote(value, quote):
    if quote == "'" and "'" not in value:
        return "'%s'" % value
    return '"%s"' % re.sub(r'(["\\$`])', r"\\\1", value)


class _Assignment:
    """The last assignment of one variable in the GRUB defaults files."""

    def __init__(self, path, index, lead, value, quote, rest):
        self.path, self.index, self.lead = path, index, lead
        self.value, self.quote, self.rest = value, quote, rest


def _find_assignments(texts):
    """{var: _Assignment} for the GRUB_VARS, the last assignment winning (files in source order)."""
    found = {}
    for path, text in texts:
        for index, line in enumerate(text.split("\n")):
            m = _ASSIGN.match(line)
            if not m or m.group("name") not in GRUB_VARS:
                continue
            where = "%s line %d (%s)" % (path, index + 1, m.group("name"))
            value, quote, rest = _shell_word(m.group("rest"), where)
            found[m.group("name")] = _Assignment(path, index, m.group("lead"), value, quote, rest)
    return found


def plan_grub(texts, present, absent):
    """Plan the GRUB defaults edit.

    texts: [(host path, text)] for /etc/default/grub then grub.d/*.cfg, in the
    order grub-mkconfig sources them.  Returns (before args, after args,
    {path: new text}) with only the files that change.
    """
    found = _find_assignments(texts)
    groups = [split(found[v].value) if v in found else [] for v in GRUB_VARS]
    new_groups = edit_groups(groups, present, absent)
    before = [a for g in groups for a in g]
    after = [a for g in new_groups for a in g]
    lines = dict((path, text.split("\n")) for path, text in texts)
    for var, old, new in zip(GRUB_VARS, groups, new_groups):
        if old == new:
            continue
        value = " ".join(new)
        if var in found:
            a = found[var]
            lines[a.path][a.index] = "%s%s=%s%s" % (a.lead, var, _shell_quote(value, a.quote or '"'), a.rest)
        else:  # only GRUB_CMDLINE_LINUX can be new: it gets the new arguments
            body = lines[GRUB_DEFAULTS]
            if body and body[-1] == "":
                body.insert(len(body) - 1, "%s=%s" % (var, _shell_quote(value, '"')))
            else:
                body.append("%s=%s" % (var, _shell_quote(value, '"')))
    changed = {}
    for path, text in texts:
        new_text = "\n".join(lines[path])
        if new_text != text:
            changed[path] = new_text
    return before, after, changed


# --------------------------------------------------------------------------- BLS entries

_OPTIONS = re.compile(r"^(?P<lead>\s*options)(?P<sep>\s+)(?P<value>.*?)(?P<trail>\s*)$")


def plan_bls(path, text, present, absent):
    """Plan one BLS entry's edit: (before args, after args, new text or None)."""
    lines = text.split("\n")
    where = []
    groups = []
    for index, line in enumerate(lines):
        m = re.match(r"^\s*options(\s|$)", line)
        if not m:
            continue
        m = _OPTIONS.match(line)
        value = m.group("value") if m else ""
        if "$" in value:
            raise KernelArgsError(
                "%s line %d: options uses a variable (%s); edit it with grubby or by hand" % (path, index + 1, value))
        where.append((index, m))
        groups.append(split(value))
    if not groups:  # an entry without options: the new arguments get a line of their own
        new = edit_groups([[]], present, absent)[0]
        if not new:
            return [], [], None
        body = lines[:-1] if lines and lines[-1] == "" else lines
        return [], new, "\n".join(body + ["options " + " ".join(new)] + ([""] if lines[-1:] == [""] else []))
    new_groups = edit_groups(groups, present, absent)
    for (index, m), new in zip(where, new_groups):
        if m is None:
            lines[index] = "options " + " ".join(new)
        else:
            lines[index] = "%s%s%s%s" % (m.group("lead"), m.group("sep") or " ", " ".join(new), m.group("trail"))
    new_text = "\n".join(lines)
    before = [a for g in groups for a in g]
    after = [a for g in new_groups for a in g]
    return before, after, (new_text if new_text != text else None)


# --------------------------------------------------------------------------- the whole edit


class Plan:
    """What an edit does: per source its arguments before/after and new file texts."""

    def __init__(self):
        self.sources = []  # [{"file", "kind", "before", "after"}]
        self.texts = {}  # host path -> (old text, new text), changed files only
        self.grub_changed = False
        self.bls_changed = False

    @property
    def before(self):
        return self.sources[0]["before"] if self.sources else []

    @property
    def after(self):
        return self.sources[0]["after"] if self.sources else []


def _read_texts(fs, paths):
    return [(p, fs.read(p)) for p in paths]


def plan(fs, present, absent, bootloader="auto"):
    """Plan the edit on the files under fs; raise KernelArgsError before anything is written."""
    if bootloader not in BOOTLOADERS:
        raise KernelArgsError("bootloader: %r is not one of %s" % (bootloader, ", ".join(BOOTLOADERS)))
    validate(present, absent)
    use_grub = bootloader in ("auto", "grub") and fs.exists(GRUB_DEFAULTS)
    entries = fs.glob(BLS_ENTRIES) if bootloader in ("auto", "bls") else []
    if bootloader == "grub" and not use_grub:
        raise KernelArgsError("bootloader: grub, but %s does not exist" % fs.real(GRUB_DEFAULTS))
    if bootloader == "bls" and not entries:
        raise KernelArgsError("bootloader: bls, but there is no %s" % fs.real(BLS_ENTRIES))
    if not use_grub and not entries and present:
        raise KernelArgsError(
            "no bootloader configuration to edit: neither %s nor %s exists"
            % (fs.real(GRUB_DEFAULTS), fs.real(BLS_ENTRIES)))
    result = Plan()
    if use_grub:
        texts = _read_texts(fs, [GRUB_DEFAULTS] + fs.glob(GRUB_DROPINS))
        before, after, changed = plan_grub(texts, present, absent)
        result.sources.append({"file": GRUB_DEFAULTS, "kind": "grub", "before": before, "after": after})
        old = dict(texts)
        for path, new_text in changed.items():
            result.texts[path] = (old[path], new_text)
        result.grub_changed = bool(changed)
    # Newest entry first (BLS sorts versions descending): its arguments are the ones reported.
    for path in sorted(entries, reverse=True):
        text = fs.read(path)
        before, after, new_text = plan_bls(path, text, present, absent)
        result.sources.append({"file": path, "kind": "bls", "before": before, "after": after})
        if new_text is not None:
            result.texts[path] = (text, new_text)
            result.bls_changed = True
    return result


def reboot_required(fs, present, absent):
    """True when the running kernel lacks a wanted argument or has an unwanted one."""
    args = running(fs)
    return edit(args, present, absent) != args


def diff(plan_):
    """Ansible --diff entries (one per changed file)."""
    return [
        {"before_header": path, "after_header": path, "before": old, "after": new}
        for path, (old, new) in sorted(plan_.texts.items())
    ]


def grub_mkconfig_command(which, fs):
    """The argv that rewrites grub.cfg on this host, or None when no tool exists."""
    for tool, output in GRUB_MKCONFIG:
        binary = which(tool)
        if binary and (output is None or fs.isdir(output.rsplit("/", 1)[0])):
            return [binary] if output is None else [binary, "-o", output]
    return None


def grubby_command(grubby, present, absent):
    """grubby argv for all kernels: drop replaced/absent keys, then add the wanted arguments."""
    remove = list(absent) + [a.split("=", 1)[0] for a in present if "=" in a]
    argv = [grubby, "--update-kernel=ALL"]
    if remove:
        argv.append("--remove-args=" + " ".join(remove))
    if present:
        argv.append("--args=" + " ".join(present))
    return argv


def apply(fs, present, absent, bootloader="auto", check_mode=False, run=None, which=None):
    """Plan, then (unless check_mode) write the files and run the bootloader tools.

    run(argv) -> (rc, stdout, stderr) and which(name) -> path or None are only
    used when fs.root is '/'; a test root gets its files edited and nothing run.
    Returns a dict for the module result.
    """
    p = plan(fs, present, absent, bootloader)
    real_root = fs.root == "/"
    commands, warnings = [], []
    grubby = which("grubby") if (real_root and which and p.bls_changed) else None
    if not check_mode:
        for path, (_old, new) in sorted(p.texts.items()):
            if grubby and path.startswith("/boot/loader/entries/"):
                continue  # grubby edits the entries (and what else its distribution needs)
            fs.write(path, new)
        if grubby:
            commands.append(grubby_command(grubby, present, absent))
        if real_root and which and p.grub_changed:
            cmd = grub_mkconfig_command(which, fs)
            if cmd:
                commands.append(cmd)
            else:
                warnings.append("GRUB defaults changed but no update-grub, grub-mkconfig or grub2-mkconfig "
                                "was found: regenerate grub.cfg before the next boot")
        for argv in commands:
            rc, out, err = run(argv)
            if rc != 0:
                raise KernelArgsError("%s failed (rc %d): %s" % (" ".join(argv), rc, (err or out).strip()))
        if grubby:
            p_after = plan(fs, present, absent, bootloader)
            if any(s["before"] != s["after"] for s in p_after.sources if s["kind"] == "bls"):
                warnings.append("grubby ran but the BLS entries still differ from the wanted arguments")
    return {
        "changed": bool(p.texts),
        "before": p.before,
        "after": p.after,
        "sources": p.sources,
        "files": sorted(p.texts),
        "commands": commands,
        "reboot_required": reboot_required(fs, present, absent),
        "warnings": warnings,
        "diff": diff(p),
    }
