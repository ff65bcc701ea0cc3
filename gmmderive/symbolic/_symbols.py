"""The lecture's symbols, in its notation, with general sizes N and D.

Samples ``i = 0..N-1`` with values ``x^{[i]}``; classes ``c, d, e = 0..D-1``.
Indexed objects stand for whole vectors and matrices: ``x[i]`` is x^{[i]},
``rho[i, c]`` is ρ_c^{[i]} (row i, column c, as in the N x D matrix).
"""

from __future__ import annotations

import sympy as sp

#: Number of samples and number of classes, general positive integers.
N, D = sp.symbols("N D", integer=True, positive=True)

#: Sample index i and class indices c, d, e; z is a value of the latent class Z.
i, c, d, e, z = sp.symbols("i c d e z", integer=True, nonnegative=True)

#: A generic value of the observation X.
X = sp.Symbol("X", real=True)

x = sp.IndexedBase("x", real=True)  # x^{[i]}
rho = sp.IndexedBase("rho", nonnegative=True)  # ρ_c^{[i]}
rho_tilde = sp.IndexedBase("rhotilde", nonnegative=True)  # ρ̃_c^{[i]}
gamma = sp.IndexedBase("gamma", positive=True)  # γ_c
pi = sp.IndexedBase("pi", positive=True)  # π_c
mu = sp.IndexedBase("mu", real=True)  # μ_c
sigma = sp.IndexedBase("sigma", positive=True)  # σ_c
lam = sp.Symbol("lambda", real=True)  # λ, the Lagrange multiplier

#: Display-only names of the objectives (their values are built in ``steps``).
Q = sp.Symbol("Q")
Q_hat = sp.Symbol("Qhat")

#: The indicator I(d=c) of the lecture is SymPy's Kronecker delta.
I = sp.KroneckerDelta  # noqa: E741  (the lecture's name)


def class_sum(expr, var=d):
    """``Σ_{var=0}^{D-1} expr``."""
    return sp.Sum(expr, (var, 0, D - 1))


def sample_sum(expr, var=i):
    """``Σ_{var=0}^{N-1} expr``."""
    return sp.Sum(expr, (var, 0, N - 1))


def normal_pdf(value, mean, std):
    """The Gaussian density N(value; mean, std) as the lecture writes it."""
    return 1 / (std * sp.sqrt(2 * sp.pi)) * sp.exp(-((value - mean) ** 2) / (2 * std**2))


def categorical(value):
    """Cat(value; π) = Π_d π_d^{I(d=value)} (S3)."""
    k = d if value != d else c  # the product's index must not capture ``value``
    return sp.Product(pi[k] ** I(k, value), (k, 0, D - 1))
