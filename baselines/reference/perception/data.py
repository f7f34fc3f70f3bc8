"""Clips of variable length as one padded batch: the SAE's input plumbing."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from baselines.reference.errors import ReferenceModelError


class ClipWindows:
    """Every clip's ``(T_i, d)`` windows stored end to end, with offsets; gathers padded batches."""

    def __init__(self, clip_windows: Sequence[np.ndarray], *, d: int | None = None) -> None:
        if len(clip_windows) == 0:
            raise ReferenceModelError("clip_windows is empty: expected a list of (T, d) arrays, one per clip")
        arrays = []
        for i, w in enumerate(clip_windows):
            a = np.asarray(w, dtype=np.float32)
            if a.ndim != 2 or a.shape[0] == 0:
                raise ReferenceModelError(f"clip {i}: expected windows of shape (T >= 1, d), found {a.shape}")
            if d is not None and a.shape[1] != d:
                raise ReferenceModelError(f"clip {i}: windows have {a.shape[1]} dimensions, the model expects {d}")
            if not np.isfinite(a).all():
                raise ReferenceModelError(f"clip {i}: windows contain NaN or infinite values")
            d = a.shape[1]
            arrays.append(a)
        self.d = d
        self.lengths = np.array([a.shape[0] for a in arrays])
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)])
        self.windows = torch.from_numpy(np.concatenate(arrays))

    def __len__(self) -> int:
        return len(self.lengths)

    def batch(self, clips: np.ndarray | Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded ``(B, T_max, d)`` windows and a boolean mask ``(B, T_max)`` of real windows."""
        clips = np.asarray(clips)
        lengths = self.lengths[clips]
        t_max = int(lengths.max())
        mask = torch.from_numpy(np.arange(t_max)[None, :] < lengths[:, None])
        rows = self.offsets[clips][:, None] + np.minimum(np.arange(t_max)[None, :], lengths[:, None] - 1)
        x = self.windows[torch.from_numpy(rows.ravel())].reshape(len(clips), t_max, self.d)
        return x * mask[..., None], mask

    def chunks(self, size: int):
        """Batches of clips in order, similar lengths together to waste little padding: ``(clip indices, x, mask)``."""
        order = np.argsort(self.lengths, kind="stable")
        for start in range(0, len(order), size):
            idx = order[start : start + size]
            yield (idx, *self.batch(idx))
