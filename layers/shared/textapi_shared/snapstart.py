"""SnapStart: Lambda restores many execution environments from one snapshot taken after init.

Nothing made at init may be unique per environment: every restored copy would share it. Values that
must differ (the breaker registry's probe owner, the `random` state behind retry jitter) are made on
first use, and remade by hooks run after each restore. The Lambda runtime provides
`snapshot_restore_py` (Python 3.12+); where it is absent there is no snapshot, and registering is a
no-op.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


def after_restore(hook: Callable[[], object]) -> None:
    """Run `hook` in every environment restored from a snapshot (nothing happens without SnapStart)."""
    try:
        from snapshot_restore_py import register_after_restore
    except ImportError:
        return
    register_after_restore(hook)


def reseed_random() -> None:
    """Fresh `random` state from the OS, so restored environments draw different retry jitter."""
    random.seed()
