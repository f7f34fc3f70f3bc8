"""The mixture-autoregressive sparse autoencoder (MAR-SAE) of DESIGN §8, as one torch module.

For a clip's window embeddings ``x_1 … x_T`` (already centred and scaled, see :class:`InputNorm`):

1. a small **causal predictor** guesses the code at t from the codes before it:
   ``ẑ_t = TopK_{k_pred}(ReLU(Σ_j σ(a_j) ⊙ z_{t−j} + (z_{t−1} U) V))``: a per-atom persistence gate
   for each of ``L`` lags plus a rank-``r`` cross-atom term (atom A tends to be followed by atom B);
2. the **residual** ``r_t = x_t − b − ẑ_t W_dec`` is **routed** to one of ``E`` expert encoders
   (argmax of a linear router; straight-through gate so the router learns from the loss, plus a
   load-balancing loss ``E · Σ_e f_e P_e``);
3. that expert's **TopK novel code**: with pre-activations ``p = W_e r_t + c_e``, the change each
   atom can make to the prediction is ``δ = ReLU(ẑ_t + p) − ẑ_t`` (it may switch a predicted atom
   off, never drive it negative); the ``k`` largest ``|δ|`` are kept: ``z_t = ẑ_t + TopK_k(δ)``;
4. one **shared unit-norm decoder**: ``x̂_t = b + z_t W_dec``. Its rows are the acoustic atoms.

With ``E = 1`` and ``predictor=False`` step 3 reduces to ``z_t = TopK_k(ReLU(p))``: the plain TopK
SAE (the ablation), computed for all windows at once instead of step by step. A clip's code has at
most ``k + k_pred`` non-zeros (``k`` without predictor).

Dead latents (no activation over the last ``dead_after`` windows) get the AuxK loss: the top
``k_aux`` dead pre-activations must reconstruct the main reconstruction's error.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn


@dataclasses.dataclass(frozen=True)
class SAEConfig:
    """Architecture and training settings (one-to-one with the checkpoint's config.json)."""

    n_atoms: int = 4096
    k: int = 32  # novel non-zeros per window
    n_experts: int = 1
    predictor: bool = False
    k_pred: int = 16  # non-zeros of the predicted code
    lags: int = 2
    predictor_rank: int = 32
    k_aux: int = 64
    aux_weight: float = 1.0 / 32.0
    balance_weight: float = 0.01
    dead_after: int = 20_000  # windows without activation before a latent counts as dead
    train_steps: int = 2000
    batch_clips: int = 64
    lr: float = 1e-3

    @property
    def plain(self) -> bool:
        """True for the ablation: one expert and no predictor (a plain TopK SAE)."""
        return self.n_experts == 1 and not self.predictor


#: Named configurations: ``cpu`` (the defaults, as the tests and the demo use them) and ``gpu`` (the
#: full MAR-SAE at real scale: 16k atoms, 8 experts, the predictor, large batches, for one GPU).
SAE_PRESETS: dict[str, SAEConfig] = {
    "cpu": SAEConfig(),
    "gpu": SAEConfig(n_atoms=16_384, k=64, n_experts=8, predictor=True, k_pred=32, predictor_rank=64, k_aux=256,
                     dead_after=1_000_000, train_steps=50_000, batch_clips=1024, lr=5e-4),
}


@dataclasses.dataclass
class SAEOutput:
    """What one forward pass returns; tensors are ``(B, T, ...)``, masked windows hold zeros."""

    recon: torch.Tensor  # (B, T, d) in the normalised input space
    codes: torch.Tensor  # (B, T, M) full code z_t, non-negative
    novel: torch.Tensor  # (B, T, M) novel part (signed where it switches a predicted atom off)
    experts: torch.Tensor  # (B, T) chosen expert
    router_probs: torch.Tensor | None  # (B, T, E)
    aux_recon: torch.Tensor | None  # (B, T, d) AuxK reconstruction of the error, when asked


def topk_keep(values: torch.Tensor, k: int, *, by: torch.Tensor | None = None) -> torch.Tensor:
    """Zero all but the ``k`` entries of each row with the largest ``by`` (default ``values``).

    A boolean mask and ``where`` rather than gather + scatter: the backward pass is elementwise,
    so gradients add up in a fixed order on every device (a gather's backward is a scatter-add,
    atomic on CUDA).
    """
    k = min(k, values.shape[-1])
    idx = (values if by is None else by).topk(k, dim=-1, sorted=False).indices
    return torch.where(topk_mask(idx, values), values, 0.0)


def topk_mask(idx: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A boolean tensor shaped like ``like``, True at ``idx`` along the last axis."""
    return torch.zeros(like.shape, dtype=torch.bool, device=like.device).scatter_(-1, idx, True)


class MarSAE(nn.Module):
    """The module; see the module docstring for the maths. ``forward(x (B, T, d), mask (B, T))``."""

    def __init__(self, d: int, config: SAEConfig, *, seed: int = 0) -> None:
        super().__init__()
        with torch.device("cpu"):  # built on the CPU whatever the default device: one seed, one init everywhere
            self._build(d, config, seed)

    def _build(self, d: int, config: SAEConfig, seed: int) -> None:
        self.d, self.config = d, config
        m, e = config.n_atoms, config.n_experts
        g = torch.Generator().manual_seed(seed)
        dec = torch.randn(m, d, generator=g)
        self.W_dec = nn.Parameter(dec / dec.norm(dim=-1, keepdim=True))
        self.b_dec = nn.Parameter(torch.zeros(d))
        enc = self.W_dec.detach().T.unsqueeze(0).repeat(e, 1, 1)
        if e > 1:  # break the symmetry between experts
            enc = enc + 0.1 * torch.randn(e, d, m, generator=g) / d**0.5
        self.W_enc = nn.Parameter(enc.contiguous())
        self.b_enc = nn.Parameter(torch.zeros(e, m))
        self.router = nn.Linear(d, e) if e > 1 else None
        if self.router is not None:
            nn.init.normal_(self.router.weight, std=0.01, generator=g)
            nn.init.zeros_(self.router.bias)
        if config.predictor:
            gates = torch.full((config.lags, m), -3.0)
            gates[0] = 0.0  # start by carrying half of the previous code over
            self.gates = nn.Parameter(gates)
            self.U = nn.Parameter(torch.randn(m, config.predictor_rank, generator=g) / m**0.5)
            self.V = nn.Parameter(torch.zeros(config.predictor_rank, m))
        # windows since each latent last fired (for the dead-latent loss and metrics)
        self.register_buffer("since_fired", torch.zeros(m, dtype=torch.long))
        # input centring and scale, set from the training windows (see ``set_input_norm``)
        self.register_buffer("input_mean", torch.zeros(d))
        self.register_buffer("input_scale", torch.ones(()))

    @torch.no_grad()
    def set_input_norm(self, windows: torch.Tensor) -> None:
        """Centre on the training mean and scale so that the mean squared norm is 1 (lr-independent of d)."""
        self.input_mean.copy_(windows.mean(0))
        self.input_scale.copy_(((windows - self.input_mean) ** 2).sum(-1).mean().sqrt().clamp_min(1e-12))

    def normalise_input(self, x: torch.Tensor) -> torch.Tensor:
        """Centre and scale windows (on their own device: data may stay on the host)."""
        return (x - self.input_mean.to(x.device, x.dtype)) / self.input_scale.to(x.device, x.dtype)

    @property
    def device(self) -> torch.device:
        """The device the weights live on."""
        return self.W_dec.device

    # -- pieces ----------------------------------------------------------------------------------
    def predict_code(self, past: list[torch.Tensor], gates: torch.Tensor | None = None) -> torch.Tensor:
        """``ẑ_t`` from the previous ``lags`` codes (most recent first), shape ``(B, M)``."""
        c = self.config
        gates = torch.sigmoid(self.gates) if gates is None else gates
        logits = (past[0] @ self.U) @ self.V
        for j in range(c.lags):
            logits = logits + gates[j] * past[j]
        return topk_keep(torch.relu(logits), c.k_pred)

    def route(self, r: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        """Chosen expert ``(N,)``, router probabilities ``(N, E)`` and the straight-through gate ``(N, 1)``."""
        if self.router is None:
            return torch.zeros(r.shape[0], dtype=torch.long, device=r.device), None, r.new_ones(r.shape[0], 1)
        probs = torch.softmax(self.router(r), dim=-1)
        chosen = probs.argmax(-1)
        p = probs.amax(-1, keepdim=True)  # the chosen expert's probability, with an elementwise backward
        return chosen, probs, p / p.detach()

    def pre_activations(self, r: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
        """``W_e r + c_e`` for each row's expert.

        Training computes every expert and gathers (few, large ops: cheap to differentiate);
        inference runs one matmul per expert on its rows only (E times less arithmetic).
        """
        if self.config.n_experts == 1:
            return torch.addmm(self.b_enc[0], r, self.W_enc[0])
        if torch.is_grad_enabled():
            every = torch.einsum("nd,edm->nem", r, self.W_enc) + self.b_enc
            one_hot = nn.functional.one_hot(chosen, self.config.n_experts).to(every.dtype)
            return torch.einsum("nem,ne->nm", every, one_hot)  # a gather whose backward is deterministic
        pre = r.new_empty(r.shape[0], self.config.n_atoms)
        for e in range(self.config.n_experts):
            rows = (chosen == e).nonzero().squeeze(-1)
            if rows.numel():
                pre[rows] = torch.addmm(self.b_enc[e], r[rows], self.W_enc[e]).to(pre.dtype)  # bf16 under autocast
        return pre

    def step(self, x: torch.Tensor, zhat: torch.Tensor | None):
        """Encode one window per row given its predicted code: ``(z, novel, chosen, probs, pre)``."""
        r = x - self.b_dec if zhat is None else x - self.b_dec - self._decode_predicted(zhat)
        chosen, probs, gate = self.route(r)
        pre = self.pre_activations(r, chosen)
        if zhat is None:
            novel = topk_keep(torch.relu(pre), self.config.k)
            z = novel = novel * gate
        else:
            delta = torch.relu(zhat + pre) - zhat
            novel = topk_keep(delta, self.config.k, by=delta.abs()) * gate
            z = zhat + novel
        return z, novel, chosen, probs, pre

    def _decode_predicted(self, zhat: torch.Tensor) -> torch.Tensor:
        """``ẑ W_dec``; at inference as a gather of the ``k_pred`` non-zero rows, not a dense product."""
        if torch.is_grad_enabled():
            return zhat @ self.W_dec
        values, idx = zhat.topk(min(self.config.k_pred, zhat.shape[-1]), dim=-1, sorted=False)
        return torch.einsum("nk,nkd->nd", values, self.W_dec[idx])

    def aux_reconstruction(self, pre: torch.Tensor, dead: torch.Tensor) -> torch.Tensor:
        """AuxK: decode the top ``k_aux`` dead latents' pre-activations (no bias).

        A dense masked code times the decoder, not a gather of decoder rows: the backward of
        ``W_dec[idx]`` adds each row's gradient with atomics when torch runs 2+ threads (and on
        CUDA), so seeded runs differed from process to process (issue 12). A matmul's backward
        sums in a fixed order; its cost equals the main reconstruction's.
        """
        masked = pre.masked_fill(~dead, float("-inf"))
        k = min(self.config.k_aux, int(dead.sum()))
        idx = masked.topk(k, dim=-1).indices
        return torch.where(topk_mask(idx, pre), torch.relu(pre), 0.0) @ self.W_dec

    # -- whole clips -----------------------------------------------------------------------------
    @torch.no_grad()
    def encode_windows(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Plain/mixture SAEs: sparse codes of independent windows ``(N, d)`` as ``(values, indices)`` ``(N, k)``.

        The fast path (one matmul and one top-k per expert): no dense code, no reconstruction.
        MAR-SAEs with a predictor need the clip's past and go through :meth:`forward`.
        """
        if self.config.predictor:
            raise ValueError("a predictor SAE encodes whole clips (forward), not independent windows")
        r = x - self.b_dec
        chosen, _, _ = self.route(r)
        pre = self.pre_activations(r, chosen)
        values, indices = pre.topk(min(self.config.k, pre.shape[-1]), dim=-1, sorted=False)
        return values.clamp_min_(0.0), indices

    @torch.no_grad()
    def encode_clips(self, x: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Sparse codes of padded clips ``(B, T, d)``: ``values, indices`` ``(B, T, k + k_pred)`` and experts ``(B, T)``."""
        codes, _, experts, _, _ = self.encode_sequence(x, mask)
        width = min(self.config.n_atoms, self.config.k + (self.config.k_pred if self.config.predictor else 0))
        values, indices = codes.topk(width, dim=-1, sorted=False)
        return values * mask[..., None], indices, experts

    def forward(self, x: torch.Tensor, mask: torch.Tensor, *, with_aux: bool = False) -> SAEOutput:
        """Encode a masked window sequence and decode it back; ``with_aux`` adds the auxiliary loss terms."""
        codes, novel, experts, probs, aux = self.encode_sequence(x, mask, with_aux=with_aux)
        recon = codes @ self.W_dec + self.b_dec
        return SAEOutput(recon, codes, novel, experts, probs, aux)

    def encode_sequence(self, x: torch.Tensor, mask: torch.Tensor, *, with_aux: bool = False):
        """Dense codes of padded clips: ``(codes, novel, experts, router_probs, aux_recon)``."""
        b, t, d = x.shape
        dead = self.since_fired >= self.config.dead_after
        with_aux = with_aux and bool(dead.any())
        if not self.config.predictor:
            flat = x.reshape(b * t, d)
            z, novel, chosen, probs, pre = self.step(flat, None)
            aux = self.aux_reconstruction(pre, dead).reshape(b, t, d) if with_aux else None
            shape = (b, t)
            codes, novel = z.reshape(*shape, -1), novel.reshape(*shape, -1)
            experts = chosen.reshape(shape)
            probs = None if probs is None else probs.reshape(*shape, -1)
        else:
            lags = self.config.lags
            past = [x.new_zeros(b, self.config.n_atoms) for _ in range(lags)]
            gates = torch.sigmoid(self.gates)
            outs, auxs = [], []
            for i in range(t):
                zhat = self.predict_code(past, gates)
                z, nov, chosen, pr, pre = self.step(x[:, i], zhat)
                z = z * mask[:, i, None]  # a padded window neither reconstructs nor feeds the future
                outs.append((z, nov, chosen, pr))
                if with_aux:
                    auxs.append(self.aux_reconstruction(pre, dead))
                past = [z.detach()] + past[:-1]
            codes = torch.stack([o[0] for o in outs], 1)
            novel = torch.stack([o[1] for o in outs], 1)
            experts = torch.stack([o[2] for o in outs], 1)
            probs = None if outs[0][3] is None else torch.stack([o[3] for o in outs], 1)
            aux = torch.stack(auxs, 1) if with_aux else None
        return codes, novel, experts, probs, aux

    @torch.no_grad()
    def normalise_decoder(self) -> None:
        """Keep atoms unit-norm (called after every optimiser step)."""
        self.W_dec.div_(self.W_dec.norm(dim=-1, keepdim=True).clamp_min(1e-12))

    @torch.no_grad()
    def remove_parallel_gradient(self) -> None:
        """Drop the part of the decoder gradient that only changes row norms (undone by renormalising)."""
        if self.W_dec.grad is not None:
            w = self.W_dec
            w.grad.sub_((w.grad * w).sum(-1, keepdim=True) * w)
