"""numba's start in this process, without the parts of it that loading the package's compiled kernels does not use.

Two costs of a process's first kernel call are skipped (together about 0.5 s, a third of a server's start):

* **The compiler's target.** Before it loads a kernel from its on-disk cache, numba initialises its whole CPU
  target (``BaseContext.refresh``): it imports the lowering code of every numpy and Python feature it can
  compile and installs their ~2,000 registrations (about 0.2 s). Only *compiling* reads them, and numba's
  compiler refreshes the target itself before it compiles (``numba.core.compiler.CompilerBase.__init__``). A
  kernel loaded from the cache needs numba's runtime only (``rtsys``: the memory of the arrays it allocates),
  which the refresh also starts. :func:`lean_kernel_loads` makes the cache loads start just that; a kernel
  whose cache entry is missing or stale still compiles as before, with the whole target.
* **The BLAS probe.** ``numba.np.arraymath``, imported when a kernel's environment is rebuilt or the target
  initialised, probes for scipy's BLAS (``import scipy.linalg.cython_blas``), which imports ``scipy.linalg``
  and with it ``scipy._lib`` and ``numpy.f2py``: about 0.2 s. The probe's only use is the inner product of
  ``np.correlate`` and ``np.convolve`` compiled later in the process (BLAS when found, else a loop); no kernel
  of the package calls either (``tests/test_startup.py`` checks). :func:`skip_blas_probe` imports that module
  with the probe answered "absent". numba's linear algebra (``np.dot`` of arrays, ``np.linalg``) checks again,
  and imports scipy, when a kernel compiled later uses it.

``tests/test_startup.py`` checks that a warm-up and a first plan import neither ``scipy.linalg`` nor the
compiler's lowering registrations.
"""

from __future__ import annotations

import sys

#: the module numba's probe imports
_PROBE = "scipy.linalg.cython_blas"
_lean = False


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


def lean_kernel_loads() -> None:
    """Load the cached kernels (``cache=True``) from numba's cache with only numba's runtime started, not its
    compiler's target (see the module docstring). Idempotent; harmless once the target is initialised."""
    global _lean
    if _lean:
        return
    from numba.core import caching
    from numba.core.runtime import rtsys

    def load_overload(self, sig, target_context):
        # numba's own, without its first line ``target_context.refresh()``; called under numba's compiler lock
        rtsys.initialize(target_context)
        with self._guard_against_spurious_io_errors():
            return self._load_overload(sig, target_context)

    caching.FunctionCache.load_overload = load_overload
    _lean = True
