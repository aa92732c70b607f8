"""An interactive page for the recorded graph: collapsible modules, node details, value and
gradient statistics, colour by time, memory or gradient norm, and a backward stepper.

    page = tc.explore(loss, "graph.html")   # one self-contained HTML file; inline in Jupyter
"""

from .data import graph_data
from .page import Explorer, explore

__all__ = ["explore", "Explorer", "graph_data"]
