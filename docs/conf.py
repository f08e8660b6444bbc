"""Sphinx configuration for the documentation site: ``make docs``.

The source folder is the repository root (``sphinx-build -c docs . docs/_build/html``), so
the notebooks, the README and the project's Markdown files are read where they live, and
their relative links work unchanged; ``include_patterns`` picks the pages. The landing page
is ``docs/index.md`` (the README); ``docs/_extra/index.html`` redirects the site's root to it.

Nothing is executed (``nb_execution_mode = "off"``): notebooks show their stored outputs,
which nbval keeps current. Nothing is fetched either: no intersphinx, and the theme (furo)
ships its own assets, so the site builds and reads offline. ``make docs`` passes ``-W``.
"""

from __future__ import annotations

import asyncprims

project = "asyncprims"
author = "the asyncprims authors"
copyright = "the asyncprims authors (code: MIT; course text: CC BY 4.0)"
release = asyncprims.__version__
version = release

extensions = ["myst_nb", "sphinx.ext.autodoc"]
root_doc = "docs/index"
include_patterns = [
    "docs/*.md",
    "docs/gallery/README.md",
    "notebooks/*.ipynb",
    "CONTRIBUTING.md",
    "CHANGELOG.md",
    "LICENSE-NOTEBOOKS.md",
]
exclude_patterns = ["docs/_build", ".venv*", ".git", "**/.ipynb_checkpoints", "build", "dist"]

# Notebooks: render what is stored; a missing output is the notebook's problem, not ours.
nb_execution_mode = "off"

# API reference (docs/api.md): every public name, its members, with or without a docstring.
autodoc_default_options = {"members": True, "undoc-members": True}
autodoc_member_order = "bysource"

html_theme = "furo"
html_title = f"asyncprims {release}"
html_favicon = "_static/favicon.svg"
html_static_path = ["_static"]
html_extra_path = ["_extra"]
html_copy_source = False
html_show_sourcelink = False
