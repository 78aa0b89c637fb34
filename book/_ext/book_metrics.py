"""Sphinx extension: the numbers in the book's captions come from book/figures/metrics.json.

`make figures` (python -m solutions.figures) writes metrics.json next to the PNGs it draws. Every
scalar in it becomes a MyST substitution named by its key path joined with "_", so

    {"cifar10_conv": {"test_bpd": 4.7132, "epochs": 30}}

gives {{ cifar10_conv_test_bpd }} -> 4.71 and {{ cifar10_conv_epochs }} -> 30 in any page. Lists
(per-epoch histories) are skipped. A page that uses a number the file lacks fails the -W build with
MyST's "undefined" warning, so a caption can never show a stale or invented number.
"""
from __future__ import annotations

import json
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)

METRICS_FILE = Path("book") / "figures" / "metrics.json"


def format_number(value: float) -> str:
    """Three significant digits (4.7132 -> 4.71, 0.012345 -> 0.0123), whole numbers from 100 up (1234.5 -> 1,234)."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def flatten(tree: dict, prefix: str = "") -> dict[str, str]:
    """{"a": {"b": 1.234}} -> {"a_b": "1.23"}: one display string per scalar leaf."""
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, prefix=f"{name}_"))
        elif isinstance(value, bool) or isinstance(value, str):
            flat[name] = str(value)
        elif isinstance(value, int):
            flat[name] = f"{value:,}"
        elif isinstance(value, float):
            flat[name] = format_number(value)
    return flat


def add_metrics_substitutions(app: Sphinx, config: Config) -> None:
    path = Path(app.confdir) / METRICS_FILE
    if not path.is_file():
        logger.warning(f"{METRICS_FILE} is missing: run `make figures` to draw the figures and record their numbers")
        return
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        logger.warning(f"{METRICS_FILE} is not valid JSON ({err}): regenerate it with `make figures`")
        return
    # Numbers from metrics.json first, so a substitution written in _config.yml can never be shadowed.
    config.myst_substitutions = {**flatten(metrics), **config.myst_substitutions}


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", add_metrics_substitutions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
