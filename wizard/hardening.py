"""Make the process that holds a secret undumpable, as ssh-agent does.

On Linux ``prctl(PR_SET_DUMPABLE, 0)`` stops another process of the same user
from attaching with ptrace or reading ``/proc/PID/mem`` (unless it is root or
has CAP_SYS_PTRACE), and no core file is written on a crash; ``RLIMIT_CORE`` 0
does the same for core files on every POSIX system. Called early by the
commands that hold a secret (``add``, ``check``, ``rotate``, ``forget``) and by
the wizard. Best effort: a platform without these calls just runs unhardened.
"""

from __future__ import annotations

import sys

PR_SET_DUMPABLE = 4  # <linux/prctl.h>


def harden_process() -> bool:
    """No core dumps and (Linux) not dumpable/ptrace-able by same-user processes; True if all applied."""
    return _no_core_files() & _not_dumpable()


def _no_core_files() -> bool:
    try:
        import resource
    except ImportError:  # Windows
        return False
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):
        return False
    return True


def _not_dumpable() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False
