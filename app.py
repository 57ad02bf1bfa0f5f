"""The teaching dashboard for ``solara run app.py`` (``python run.py dashboard`` does the same)."""

from sim.views.dashboard import Page as page

__all__ = ["page"]
