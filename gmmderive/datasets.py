"""Data sets for the book and the tests.

``exam_grades`` is synthetic, the lecture's running example. ``old_faithful``
and ``galaxies`` are real data sets shipped in ``gmmderive/data`` (sources in
``gmmderive/data/README.md``).
"""

from __future__ import annotations

import csv
from importlib import resources

import numpy as np

from ._validation import check_positive_int

#: The two clusters of :func:`exam_grades`: (share, mean, std) on the 1.0-5.0 scale.
EXAM_CLUSTERS = {"passed": (0.7, 2.4, 0.55), "failed": (0.3, 4.4, 0.3)}
BEST_GRADE, WORST_GRADE = 1.0, 5.0


def exam_grades(n: int = 200, seed: int = 0, *, return_labels: bool = False):
    """Synthetic exam grades on the German scale, in two clusters: passed and failed.

    Grades run from 1.0 (best) to 5.0 (fail); 4.0 is the pass mark. The passed
    students' grades are drawn from N(2.4, 0.55²) (70 %), the failed students'
    from N(4.4, 0.3²) (30 %), both truncated to [1.0, 5.0] by redrawing, so the
    grades are continuous (no point masses at the ends).

    Parameters
    ----------
    n : int, default 200
        Number of students.
    seed : int, default 0
        Seed of the random generator: the same seed gives the same grades.
    return_labels : bool, default False
        Also return the true class of each student (0 = passed, 1 = failed).

    Returns
    -------
    grades : ndarray, shape (n,)
    labels : ndarray of int, shape (n,)
        Only with ``return_labels=True``.
    """
    n = check_positive_int(n, "n")
    rng = np.random.default_rng(seed)
    shares = np.array([share for share, _, _ in EXAM_CLUSTERS.values()])
    means = np.array([mean for _, mean, _ in EXAM_CLUSTERS.values()])
    stds = np.array([std for _, _, std in EXAM_CLUSTERS.values()])
    labels = rng.choice(len(shares), size=n, p=shares)
    grades = rng.normal(means[labels], stds[labels])
    outside = (grades < BEST_GRADE) | (grades > WORST_GRADE)
    while outside.any():  # truncation by redrawing; terminates: P(inside) > 0.9
        grades[outside] = rng.normal(means[labels[outside]], stds[labels[outside]])
        outside = (grades < BEST_GRADE) | (grades > WORST_GRADE)
    return (grades, labels) if return_labels else grades


def _read_csv(name: str) -> dict[str, np.ndarray]:
    text = resources.files("gmmderive").joinpath("data", name).read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines()))
    header, body = rows[0], rows[1:]
    return {col: np.array([float(r[j]) for r in body]) for j, col in enumerate(header)}


def old_faithful() -> dict[str, np.ndarray]:
    """Old Faithful geyser eruptions (272 rows), R's ``datasets::faithful``.

    Returns
    -------
    dict
        ``"eruptions"``: eruption durations in minutes, shape (272,);
        ``"waiting"``: minutes to the next eruption, shape (272,).
    """
    return _read_csv("old_faithful.csv")


def galaxies() -> np.ndarray:
    """Velocities of 82 galaxies of the Corona Borealis region, km/s (R's ``MASS::galaxies``).

    Usually divided by 1000 before fitting.

    Returns
    -------
    ndarray, shape (82,)
    """
    return _read_csv("galaxies.csv")["velocity_km_s"]
