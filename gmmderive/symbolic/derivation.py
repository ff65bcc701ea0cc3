"""Every step of the lecture's derivation, as a named, checkable object: the catalogue.

The ids ``S1``-``S29`` are those of ``derivation.md`` (the lecture's
whiteboard lines); the other ids are checks beyond the lecture: ``G`` for
Gaussian facts (chapters 1-3), ``J`` for the joint, ``E`` for the E-step,
``M`` for the M-step, ``H`` for second-order conditions, ``U`` for the summary
and ``R`` for the closing remark. The steps are defined one module per part of
the lecture (``model`` for the model's pieces and the hypotheses, ``ch04_joint``,
``ch05_estep``, ... ``ch20_two_dimensions``), each the one place that defines its
steps; this module lists the chapters and the steps in the lecture's order, and
re-exports every name the modules define (``derivation.GAMMA``, ``derivation.S24``).
The book shows these objects, the tests and ``python -m gmmderive verify`` prove them.
"""

# isort: skip_file
from __future__ import annotations

import sympy as sp  # noqa: F401  (re-exported, as before)

from ._step import (  # noqa: F401  (re-exported)
    USES_LHS, Hypothesis, Step, by_chain, by_differentiation, by_procedure, by_rewriting, by_solving,
)
from ._symbols import (  # noqa: F401  (re-exported)
    D, I, N, Q, Q_hat, X, c, categorical, class_sum, d, e, gamma, i, lam, mu, normal_pdf, pi, rho, rho_tilde,
    sample_sum, sigma, x, z,
)
from ._tactics import (  # noqa: F401  (re-exported)
    canonical, constant_sums, expand_logs, instantiate, is_zero, reduce, sift, split_sums, swap_sums,
)
from .ch01_gaussian import (  # noqa: F401  (re-exported)
    G1, G2, G3,
)
from .ch04_joint import (  # noqa: F401  (re-exported)
    J1, J2, S1, S2, S3, _stats_normal,
)
from .ch05_estep import (  # noqa: F401  (re-exported)
    E1, E2, E3, POSTERIOR, RHO_TILDE, S4, S5, S6, S7, _k, _s5_method,
)
from .ch07_qfunction import (  # noqa: F401  (re-exported)
    M1, Q_S8, Q_S9, Q_S10_WITH_CONSTANT, S8, S9, S10, S11, _s11_method,
)
from .ch09_weights import (  # noqa: F401  (re-exported)
    H2, LAMBDA_IS_N, M2, M3, S12, S13, S14, S15, S16, S17, S18, S19, S20, STATIONARY_PI, S16b, _concave_method,
    _eliminated_weights, _m3_method,
)
from .ch11_means import (  # noqa: F401  (re-exported)
    MEAN_UPDATE, S21, S22, S23, S24,
)
from .ch12_stds import (  # noqa: F401  (re-exported)
    H1, H3, S25, S26, S27, S28, S29, _at_stationary_point, _hessian_method, _sigma_global_method,
)
from .ch13_summary import (  # noqa: F401  (re-exported)
    _AT_UPDATES, _OLD_MEAN_DEVIATION, F1, F2, R1, U1, _mu_old, _updates_method,
)
from .ch16_why_em import (  # noqa: F401  (re-exported)
    _EVIDENCE, _POSTERIOR_Z, ELBO, KL, Q_SIMPLEX, W1, W2, W3, W4, _kl_method, p_joint, q,
)
from .ch17_pitfalls import (  # noqa: F401  (re-exported)
    _SLIP, P1, P2, _s0,
)
from .ch18_choosing_d import (  # noqa: F401  (re-exported)
    B1,
)
from .ch19_equal_variance import (  # noqa: F401  (re-exported)
    _Q_EQUAL, LAGRANGIAN_EQUAL, V1, V2, V3, V4, s_shared,
)
from .ch20_two_dimensions import (  # noqa: F401  (re-exported)
    _D1, _D2, _MU2, _MV_SAMPLES, _MV_SIZES_TEXT, _MV_SPEC, _SIGMA2, MV1, MV2, _at_samples, _lp, _lq, _ls, _m1,
    _m2, _mv_covariances, _mv_means, _mv_objective, _vanishes, x1, x2,
)
from .model import (  # noqa: F401  (re-exported)
    CLASS_NOT_EMPTY, GAMMA, LAGRANGIAN, Q_S10, ROWS, SCATTER, SIMPLEX, _add, _integrate, _u, g_constraint,
    joint, mixture, pdf, q_summand,
)

#: The lecture's chapters: number -> (timestamp, title).
CHAPTERS = {
    1: ("00:00", "Introduction"),
    2: ("01:10", "Clustering"),
    3: ("01:40", "Inferring parameters with missing data"),
    4: ("03:05", "The joint of the GMM"),
    5: ("04:45", "E-step: un-normalized responsibilities"),
    6: ("10:29", "E-step: normalizing the responsibilities"),
    7: ("11:13", "M-step: the Q-function"),
    8: ("15:27", "M-step: maximization, formally"),
    9: ("16:57", "M-step: the Lagrange multiplier"),
    10: ("20:20", "M-step: cluster probabilities"),
    11: ("30:50", "M-step: means"),
    12: ("35:00", "M-step: standard deviations"),
    13: ("39:37", "Summary: EM for the GMM"),
    14: ("42:52", "Important remark"),
    # Beyond the lecture (no time stamp)
    15: (None, "Real data"),
    16: (None, "Why EM works"),
    17: (None, "Pitfalls"),
    18: (None, "Choosing the number of classes"),
    19: (None, "Equal variances"),
    20: (None, "Several dimensions"),
    21: (None, "Weighted data"),
    22: (None, "Why EM is slow, and how to make it fast"),
    23: (None, "EM on data that does not fit in memory"),
}

#: All steps, in the order of the lecture.
STEPS = (
    G1, G2, G3,
    S1, S2, S3, J1, J2,
    S4, E1, S5, S6,
    S7, E2, E3,
    S8, S9, S10, M1,
    S11,
    S12, S13,
    S14, S15, S16, S16b, S17, S18, S19, S20, M2, M3, H2,
    S21, S22, S23, S24,
    S25, S26, S27, S28, S29, H1, H3,
    U1,
    R1, F1, F2,
    W1, W2, W3, W4,
    P1, P2,
    B1,
    V1, V2, V3, V4,
    MV1, MV2,
)
