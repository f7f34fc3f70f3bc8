"""Stage 3 of the reference model: Riemannian flow matching on the sphere S².

* :mod:`.sphere`: closed-form geometry (exp/log maps, geodesics, tangent projection, uniform prior);
* :mod:`.velocity`: the conditional velocity network (AdaLN-style MLP);
* :mod:`.flow`: training, sampling, exact log-likelihood and point selection;
* :class:`FlowLocator`: the fitted head, ``fit(conditions, lat, lon)`` then ``predict``.
"""

from baselines.reference.precision.locator import FLOW_PRESETS, FlowConfig, FlowLocator

__all__ = ["FLOW_PRESETS", "FlowConfig", "FlowLocator"]
