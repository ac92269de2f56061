"""numba's start in this process, without the part of it that no kernel of the package uses.

numba initialises its CPU target at the first call of a compiled kernel (loaded from numba's cache or compiled).
``numba.np.arraymath``, imported then, probes for scipy's BLAS (``import scipy.linalg.cython_blas``), which
imports ``scipy.linalg`` and with it ``scipy._lib`` and ``numpy.f2py``: about 0.2 s, a seventh of a server's
start. The probe's only use is the inner product of ``np.correlate`` and ``np.convolve`` compiled later in the
process (BLAS when found, else a loop); no kernel of the package calls either (``tests/test_startup.py``
checks). :func:`skip_blas_probe` imports that module with the probe answered "absent". numba's linear algebra
(``np.dot`` of arrays, ``np.linalg``) checks again, and imports scipy, when a kernel compiled later uses it.
"""

from __future__ import annotations

import sys

#: the module numba's probe imports
_PROBE = "scipy.linalg.cython_blas"


def skip_blas_probe() -> None:
    """Import ``numba.np.arraymath`` with its BLAS probe failing, before the first kernel call (see the module
    docstring); nothing when numba's target is initialised already or scipy's BLAS is loaded. (For the instant
    of that import, another thread importing the probed module would fail too: call it before serving.)"""
    if "numba.np.arraymath" in sys.modules or _PROBE in sys.modules:
        return
    sys.modules[_PROBE] = None  # an import of a module set to None in sys.modules raises ImportError
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        if _PROBE in sys.modules and sys.modules[_PROBE] is None:
            del sys.modules[_PROBE]
