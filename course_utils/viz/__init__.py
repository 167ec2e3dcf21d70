"""Everything that draws: figures, animations and interactive explorers.

Algorithm modules never import this package; it imports them.

Modules
-------
images        image grids, pairs, histograms, bar charts, overlays, vector fields
detections    detections and ground truth drawn on an image
roi           RoI Pool's rounded bins against RoI Align's exact bins and samples
diagrams      convolution-arithmetic diagrams and animations
trajectories  optimizer paths on a loss surface, still or animated
history       training curves
animation     deterministic HTML animation player
explorers     ipywidgets explorers and the figure of each state
segmentation  class maps over their image, one colour per class

Every public name is also importable from ``course_utils.viz`` itself.
"""

from __future__ import annotations

from . import images, detections, diagrams, trajectories, history, animation, explorers, roi, segmentation

__all__ = [*images.__all__, *detections.__all__, *diagrams.__all__, *trajectories.__all__, *history.__all__, *animation.__all__, *explorers.__all__, *roi.__all__, *segmentation.__all__]

from .images import *  # noqa: F401,F403  (each module's __all__)
from .detections import *  # noqa: F401,F403  (each module's __all__)
from .diagrams import *  # noqa: F401,F403  (each module's __all__)
from .trajectories import *  # noqa: F401,F403  (each module's __all__)
from .history import *  # noqa: F401,F403  (each module's __all__)
from .animation import *  # noqa: F401,F403  (each module's __all__)
from .explorers import *  # noqa: F401,F403  (each module's __all__)
from .roi import *  # noqa: F401,F403  (each module's __all__)
from .segmentation import *  # noqa: F401,F403  (each module's __all__)
