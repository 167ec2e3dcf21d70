"""Helper package of the interactive computer-vision course.

Each algorithm taught in the notebooks lives here once, in a module named by
its topic, and is shown in the notebooks with :func:`show_source`.

Modules
-------
notebook   set-up call and source display
data       offline data sets with checksums
plotting   image grids, pairs, histograms, overlays
features   gradients, Canny's steps, HoG, LBP
widgets    interactive explorers that also run headless
exercises  student copies of the notebooks (nbgrader format)
"""

from .notebook import setup_notebook, show_source

__version__ = "0.1.0"
__all__ = ["setup_notebook", "show_source"]
