"""Figures that several chapters share (needs matplotlib)."""

from __future__ import annotations

import re

import numpy as np

from .core import unnormalized_responsibilities

# matplotlib's HTML animation asks a CDN for Font Awesome 4 icons; the book works offline,
# so its buttons get plain Unicode symbols instead.
# (symbols that common fonts, DejaVu included, all have)
_ICONS = {
    "fa fa-play fa-flip-horizontal": "◀", "fa fa-fast-backward": "⇤", "fa fa-fast-forward": "⇥",
    "fa fa-step-backward": "«", "fa fa-step-forward": "»", "fa fa-pause": "‖", "fa fa-play": "▶",
    "fa fa-minus": "−", "fa fa-plus": "+",
}


def offline_animation_html(anim, **kwargs) -> str:
    """``anim.to_jshtml()`` without the CDN stylesheet: it plays from a file, offline."""
    html = anim.to_jshtml(**kwargs)
    html = re.sub(r"<link[^>]*font-awesome[^>]*>", "", html)
    for cls, symbol in _ICONS.items():
        html = html.replace(f'<i class="{cls}"></i>', symbol)
    return html


def em_animation(x, path, log_likelihoods, *, bins: int = 30, frames=None, interval: int = 500) -> str:
    """An HTML/JavaScript animation of EM: histogram, components and mixture per iteration.

    Parameters
    ----------
    x : ndarray, shape (N,)
        The data.
    path : list of GMMParams
        θ^{[0]}, θ^{[1]}, ... as returned by :func:`gmmderive.em_path`.
    log_likelihoods : ndarray
        Their log-likelihoods.
    frames : iterable of int, optional
        Which iterations to show (default: all).

    Returns
    -------
    str
        Self-contained HTML (embedded PNG frames and JavaScript controls), for
        ``IPython.display.HTML``.
    """
    import matplotlib.pyplot as plt
    from matplotlib import animation

    x = np.asarray(x, dtype=float)
    pad = 0.05 * (x.max() - x.min())
    grid = np.linspace(x.min() - pad, x.max() + pad, 300)
    frames = list(range(len(path))) if frames is None else list(frames)
    peak = max(unnormalized_responsibilities(grid, path[k]).sum(axis=1).max() for k in frames)
    fig, ax = plt.subplots(figsize=(6, 3), dpi=72)
    counts, _, _ = ax.hist(x, bins=bins, density=True, color="0.85", edgecolor="0.7")
    d = path[0].n_components
    lines = ax.plot(grid, np.zeros((grid.size, d + 1)), lw=1.5)
    lines[-1].set_color("k")
    title = ax.set_title("")
    ax.set_xlim(grid[0], grid[-1])
    ax.set_ylim(0, 1.1 * max(peak, counts.max()))

    def show(k):
        comps = unnormalized_responsibilities(grid, path[k])
        for j in range(d):
            lines[j].set_ydata(comps[:, j])
        lines[-1].set_ydata(comps.sum(axis=1))
        title.set_text(f"iteration {k}: log-likelihood {log_likelihoods[k]:.1f}")
        return lines

    movie = animation.FuncAnimation(fig, show, frames=frames, interval=interval)
    try:
        return offline_animation_html(movie, default_mode="once")
    finally:
        plt.close(fig)
