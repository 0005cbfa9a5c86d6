"""Sphinx settings for the kvcompute.libvirt docs site (`make docs`, scripts/docs.sh).

No intersphinx: the build must work without network access.
"""

project = "kvcompute.libvirt"
copyright = "kvcompute.libvirt contributors"  # pylint: disable=redefined-builtin
title = "kvcompute.libvirt documentation"
html_short_title = "kvcompute.libvirt"

extensions = ["sphinx_antsibull_ext", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}

pygments_style = "ansible"
highlight_language = "YAML+Jinja"

html_theme = "sphinx_ansible_theme"
html_show_sphinx = False
display_version = False
html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False

default_role = "any"
nitpicky = True
# The project pages (docs/*.md) link to files of the repository that are not
# pages of this site.
suppress_warnings = ["myst.xref_missing", "myst.header"]
myst_heading_anchors = 3
