"""Stage 1 of the reference model: acoustic atoms from a mixture-autoregressive sparse autoencoder.

* :mod:`.sae`: the MAR-SAE module and its :class:`SAEConfig`;
* :mod:`.train`: training loop and :class:`SAEMetrics` (FVU, L0, dead fraction, expert load);
* :mod:`.naming`: atom names by label enrichment and by centred text-embedding cosine;
* :mod:`.summary`: a clip's :class:`ClipAtomSummary` (what the reasoning stage reads);
* :class:`AudioAtoms`: the fitted stage, ``fit(clip_windows, labels=...)`` then ``summaries``.
"""

from baselines.reference.perception.atoms import AudioAtoms, ClipCodes
from baselines.reference.perception.naming import AtomInfo, AtomName
from baselines.reference.perception.sae import SAE_PRESETS, SAEConfig
from baselines.reference.perception.summary import AtomWeight, ClipAtomSummary
from baselines.reference.perception.train import SAEMetrics

__all__ = ["SAE_PRESETS", "AtomInfo", "AtomName", "AtomWeight", "AudioAtoms", "ClipAtomSummary", "ClipCodes", "SAEConfig", "SAEMetrics"]
