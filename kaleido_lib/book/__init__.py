"""The book's machinery, apart from the science: a chapter's parameters (config), the chapter object (chapter),
claims, results files and the scoreboard (results), the check cells (check), the build (build) and the Sphinx
extensions (sphinx_mathjax, sphinx_pysource)."""

from . import chapter, check, config, results  # noqa: F401
