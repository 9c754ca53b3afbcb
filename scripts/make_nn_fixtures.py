#!/usr/bin/env python3
"""Writes the PyTorch reference tensors Hark's neural-network tests compare against.

For every cell (RNN tanh, RNN relu, LSTM, GRU) x {1, 2, 3} layers x
{unidirectional, bidirectional} x {equal, mixed lengths} x {zero, given initial
state}: the module's weights (its state_dict), the input, outputs, final
states, and the gradients of a fixed scalar loss

    loss = sum(output * R_out) + sum(h_n * R_h) [+ sum(c_n * R_c)]

with respect to the input, every parameter and the initial states. Mixed
lengths go through pack_padded_sequence(enforce_sorted=False) and
pad_packed_sequence. Then the tutorial's SimpleRNN and SimpleLSTM (batch_first
RNN/LSTM, Linear on the last step), their outputs, and 5 training steps with
cross-entropy under SGD (momentum, weight decay) and under Adam. Last, every
optimizer (SGD plain/momentum/Nesterov, Adam with L2, AdamW) fed the same five
gradients, clip_grad_norm_, and ReduceLROnPlateau on a fixed metric sequence.

A separate fixture, recurrent_fast: the recurrent layers at the sizes that take Hark's
AVX2 kernels and their remainder paths (see fast_recurrent_cases). Its
weights, inputs, initial states and loss weights are not stored but made by
fixture_values(), a 32-bit integer hash that the Swift test repeats exactly;
only the results are stored, which keeps the file small.

Run from the repository root with PyTorch, NumPy and safetensors installed:
    python scripts/make_nn_fixtures.py                  # every fixture
    python scripts/make_nn_fixtures.py recurrent_fast   # only the named ones
Writes Tests/HarkNNTests/Fixtures/{recurrent.safetensors, recurrent.json,
simple.safetensors, simple.json, optim.safetensors, optim.json,
recurrent_fast.safetensors, recurrent_fast.json}.
"""
import json
import platform
import sys
from pathlib import Path

import numpy as np
import safetensors
import torch
import torch.nn as nn
from safetensors.torch import save_file
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

OUT = Path("Tests/HarkNNTests/Fixtures")
T, B, I, H = 6, 3, 4, 3
MIXED = [4, 6, 2]        # unsorted on purpose
CELLS = {"rnn_tanh": (nn.RNN, {"nonlinearity": "tanh"}), "rnn_relu": (nn.RNN, {"nonlinearity": "relu"}),
         "lstm": (nn.LSTM, {}), "gru": (nn.GRU, {})}


def recurrent_cases(tensors, index):
    for cell, (cls, kw) in CELLS.items():
        for layers in (1, 2, 3):
            for bidirectional in (False, True):
                for mixed in (False, True):
                    for given_state in (False, True):
                        name = f"{cell}_l{layers}_{'bi' if bidirectional else 'uni'}_" \
                               f"{'mixed' if mixed else 'equal'}_{'h0' if given_state else 'zero'}"
                        seed = len(index) + 1
                        torch.manual_seed(seed)
                        m = cls(I, H, num_layers=layers, bidirectional=bidirectional, **kw)
                        D = 2 if bidirectional else 1
                        x = torch.randn(T, B, I, requires_grad=True)
                        lengths = MIXED if mixed else [T] * B
                        h0 = torch.randn(layers * D, B, H, requires_grad=True) if given_state else None
                        c0 = torch.randn(layers * D, B, H, requires_grad=True) if given_state and cell == "lstm" else None
                        state = (h0, c0) if cell == "lstm" and given_state else h0
                        packed = pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=False)
                        out_p, hn = m(packed, state)
                        out, _ = pad_packed_sequence(out_p, total_length=T)
                        if cell == "lstm":
                            hn, cn = hn
                        r_out = torch.randn_like(out)
                        r_h = torch.randn_like(hn)
                        loss = (out * r_out).sum() + (hn * r_h).sum()
                        if cell == "lstm":
                            r_c = torch.randn_like(cn)
                            loss = loss + (cn * r_c).sum()
                        loss.backward()
                        p = name + "/"
                        for k, v in m.state_dict().items():
                            tensors[p + k] = v.detach().clone()
                            tensors[p + "grad." + k] = dict(m.named_parameters())[k].grad.detach().clone()
                        tensors[p + "input"] = x.detach().clone()
                        tensors[p + "grad.input"] = x.grad.detach().clone()
                        tensors[p + "output"] = out.detach().clone()
                        tensors[p + "h_n"] = hn.detach().clone()
                        tensors[p + "r_out"] = r_out
                        tensors[p + "r_h"] = r_h
                        if cell == "lstm":
                            tensors[p + "c_n"] = cn.detach().clone()
                            tensors[p + "r_c"] = r_c
                        if given_state:
                            tensors[p + "h0"] = h0.detach().clone()
                            tensors[p + "grad.h0"] = h0.grad.detach().clone()
                            if cell == "lstm":
                                tensors[p + "c0"] = c0.detach().clone()
                                tensors[p + "grad.c0"] = c0.grad.detach().clone()
                        index.append({"name": name, "cell": cell, "layers": layers, "bidirectional": bidirectional,
                                      "lengths": lengths, "initial_state": given_state, "loss": loss.item()})


class SimpleRNN(nn.Module):
    """The tutorial model: nn.RNN over [batch, time, features], Linear on the last step."""
    def __init__(self, input_size=10, hidden_size=20, output_size=5):
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        h0 = torch.zeros(1, x.size(0), self.rnn.hidden_size)
        out, _ = self.rnn(x, h0)
        return self.fc(out[:, -1, :])


class SimpleLSTM(nn.Module):
    def __init__(self, input_size=10, hidden_size=20, output_size=5):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        h0 = torch.zeros(1, x.size(0), self.lstm.hidden_size)
        c0 = torch.zeros(1, x.size(0), self.lstm.hidden_size)
        out, _ = self.lstm(x, (h0, c0))
        return self.fc(out[:, -1, :])


def simple_cases(tensors, index):
    torch.manual_seed(1234)
    x = torch.randn(64, 15, 10)
    y = torch.randint(0, 5, (64,))
    tensors["data/x"] = x
    tensors["data/y"] = y.to(torch.int64)
    for model_name, cls in (("simple_rnn", SimpleRNN), ("simple_lstm", SimpleLSTM)):
        for opt_name in ("sgd", "adam"):
            torch.manual_seed(7)
            model = cls()
            name = f"{model_name}_{opt_name}"
            p = name + "/"
            for k, v in model.state_dict().items():
                tensors[p + "initial." + k] = v.clone()
            with torch.no_grad():
                tensors[p + "output"] = model(x).clone()
            if opt_name == "sgd":
                opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
                hyper = {"lr": 0.1, "momentum": 0.9, "weight_decay": 1e-3}
            else:
                opt = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.9, 0.999), eps=1e-8)
                hyper = {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
            losses = []
            for _ in range(5):
                opt.zero_grad()
                loss = nn.functional.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
                losses.append(loss.item())
            for k, v in model.state_dict().items():
                tensors[p + "final." + k] = v.clone()
            index.append({"name": name, "model": model_name, "optimizer": opt_name, "hyper": hyper,
                          "losses": losses})


def optimizer_cases(tensors, index):
    """Each optimizer fed the same 5 gradients; clip_grad_norm_; ReduceLROnPlateau."""
    torch.manual_seed(99)
    w0 = [torch.randn(4, 3), torch.randn(3)]
    grads = [[torch.randn(4, 3) * 3, torch.randn(3) * 3] for _ in range(5)]
    for i, w in enumerate(w0):
        tensors[f"optim/w0.{i}"] = w
    for s, gs in enumerate(grads):
        for i, g in enumerate(gs):
            tensors[f"optim/grad{s}.{i}"] = g
    configs = {
        "sgd_plain": (torch.optim.SGD, {"lr": 0.05}),
        "sgd_momentum_dampening_wd": (torch.optim.SGD, {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01}),
        "sgd_nesterov": (torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
        "adam_wd": (torch.optim.Adam, {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
        "adamw": (torch.optim.AdamW, {"lr": 0.02, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.05}),
    }
    for name, (cls, kw) in configs.items():
        params = [w.clone().requires_grad_(True) for w in w0]
        opt = cls(params, **kw)
        for gs in grads:
            for p, g in zip(params, gs):
                p.grad = g.clone()
            opt.step()
        for i, p in enumerate(params):
            tensors[f"optim/{name}.{i}"] = p.detach().clone()
        index.append({"name": name, "optimizer": cls.__name__,
                      "hyper": {k: (list(v) if isinstance(v, tuple) else v) for k, v in kw.items()}})
    # clip_grad_norm_ on the first gradients, with a limit below and above their norm.
    for max_norm in (1.0, 1000.0):
        params = [w.clone().requires_grad_(True) for w in w0]
        for p, g in zip(params, grads[0]):
            p.grad = g.clone()
        total = torch.nn.utils.clip_grad_norm_(params, max_norm)
        for i, p in enumerate(params):
            tensors[f"optim/clip{int(max_norm)}.{i}"] = p.grad.clone()
        index.append({"name": f"clip{int(max_norm)}", "max_norm": max_norm, "total_norm": total.item()})
    # ReduceLROnPlateau on a fixed sequence of validation losses.
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=1.0)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2, threshold=1e-3, cooldown=1, min_lr=0.1)
    metrics = [5.0, 4.0, 4.0, 4.1, 3.999, 4.2, 4.3] + [3.0] * 15
    lrs = []
    for m in metrics:
        sched.step(m)
        lrs.append(opt.param_groups[0]["lr"])
    index.append({"name": "plateau", "factor": 0.5, "patience": 2, "threshold": 1e-3, "cooldown": 1, "min_lr": 0.1,
                  "metrics": metrics, "lrs": lrs})


# ---------------------------------------------------------------------------
# recurrent_fast: the sizes that take Hark's AVX2 kernels.
#
# With KernelChoice.fast on a processor with AVX2 and FMA, Hark multiplies
# h · W_hhᵀ (forward, width n = G·H; G = 4 LSTM, 3 GRU, 1 Elman) and
# dgates · W_hh (backward, n = H) with its packed kernel when n % 16 == 0, in
# blocks of 6 rows of the batch, the last 7–9 rows as two blocks (B = 7 → 4+3,
# 9 → 5+4, 16 → 6+6+4, 1 → 1), and OpenBLAS otherwise; the LSTM's pointwise
# step runs in AVX2 when H % 8 == 0. So H = 16 and 128 take the packed kernel
# both ways for every cell, H = 24 and 40 only the LSTM's forward product (and
# OpenBLAS for the rest), every H here the AVX2 LSTM step, and B ∈ {1, 7, 9, 16}
# every remainder block but 2 (m = 2 only; HarkCoreTests covers m = 1…17).

FAST_T, FAST_I = 5, 5
FAST_T_LARGE = 4                # T for H = 128, to keep the file small
FAST_BATCHES = (1, 7, 9, 16)

# Every generated tensor: element e (row-major) of tensor number n of the case
# with seed s is
#     h = fmix32((s·0x9E3779B1 + n·0x85EBCA77 + e·0xC2B2AE3D) mod 2³²)
#     value = float32(bound · ((h + 0.5) / 2³¹ − 1))       computed in float64
# with fmix32 MurmurHash3's 32-bit finalizer. Each step is exact or one
# correctly rounded operation, so Swift reproduces the same bits.
FIXTURE_HASH = ("fmix32((seed*0x9E3779B1 + tensor*0x85EBCA77 + element*0xC2B2AE3D) mod 2^32) = h; "
                "value = float32(bound * ((h + 0.5) / 2^31 - 1)) in float64; "
                "fmix32: h ^= h >> 16; h *= 0x85EBCA6B; h ^= h >> 13; h *= 0xC2B2AE35; h ^= h >> 16 (mod 2^32)")


def fixture_values(seed, tensor, count, bound):
    """float32 values in (−bound, bound) from the hash above."""
    mask = np.uint64(0xFFFFFFFF)
    e = np.arange(count, dtype=np.uint64)
    h = (np.uint64((seed * 0x9E3779B1 + tensor * 0x85EBCA77) & 0xFFFFFFFF) + e * np.uint64(0xC2B2AE3D)) & mask
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & mask
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & mask
    h ^= h >> np.uint64(16)
    return (np.float64(bound) * ((h.astype(np.float64) + 0.5) / 2.0 ** 31 - 1.0)).astype(np.float32)


def row_blocks(m):
    """The row blocks of hark_gemm_acc_packed (CHarkKernels/gemm_acc.c) for m rows."""
    blocks = []
    while m > 0:
        rows = (m if m < 6 else 6) if (m >= 10 or m <= 6) else m // 2 + m % 2
        blocks.append(rows)
        m -= rows
    return blocks


def fast_case_specs():
    """(cell, H, B, layers, bidirectional, mixed lengths, given initial state)."""
    specs = []
    for ci, cell in enumerate(CELLS):
        # H = 16: the packed kernel both ways, every batch size.
        specs += [(cell, 16, 1, 1, False, False, True), (cell, 16, 7, 1, True, True, False),
                  (cell, 16, 9, 1, False, True, True), (cell, 16, 16, 1, True, True, True)]
        # H = 24, 40: OpenBLAS beside the packed LSTM forward; batch sizes, directions,
        # equal lengths and initial states rotated over the cells.
        odd = ci % 2 == 1
        specs += [(cell, 24, FAST_BATCHES[(ci + 1) % 4], 1, not odd, True, odd),
                  (cell, 40, FAST_BATCHES[(ci + 2) % 4], 1, odd, not odd, odd)]
    # Two layers: the second layer's input is the [T·B, 2H] output of the first.
    specs += [("lstm", 16, 9, 2, True, True, True), ("gru", 16, 7, 2, True, True, False)]
    # H = 128, the default model's size (a bidirectional LSTM): 8 panels of 16 columns in the
    # backward product, 32 in the forward. Only the LSTM and the Elman cell, whose weight
    # gradients are small: an H = 128 case stores G·H·(I + H + 2)·D of them (the LSTM's is 0.5 MB).
    specs += [("lstm", 128, 16, 1, True, True, True), ("rnn_tanh", 128, 9, 1, False, True, True)]
    return specs


def run_recurrent(cls, kw, I, H, layers, bidirectional, params, x, lengths, h0, c0, r, dtype):
    """Forward and backward of loss = Σ out⊙R_out + Σ h_n⊙R_h (+ Σ c_n⊙R_c) in `dtype`.
    Returns the loss and the named results (outputs, states, gradients)."""
    m = cls(I, H, num_layers=layers, bidirectional=bidirectional, **kw).to(dtype)
    with torch.no_grad():
        for k, v in m.named_parameters():
            v.copy_(params[k])
    x = x.to(dtype).requires_grad_(True)
    h0 = h0.to(dtype).requires_grad_(True)
    c0 = c0.to(dtype).requires_grad_(True) if c0 is not None else None
    packed = pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=False)
    out_p, hn = m(packed, (h0, c0) if c0 is not None else h0)
    out, _ = pad_packed_sequence(out_p, total_length=x.shape[0])
    cn = None
    if c0 is not None:
        hn, cn = hn
    loss = (out * r["r_out"].to(dtype)).sum() + (hn * r["r_h"].to(dtype)).sum()
    if cn is not None:
        loss = loss + (cn * r["r_c"].to(dtype)).sum()
    loss.backward()
    res = {"output": out, "h_n": hn, "grad.input": x.grad, "grad.h0": h0.grad}
    if cn is not None:
        res.update({"c_n": cn, "grad.c0": c0.grad})
    for k, v in m.named_parameters():
        res["grad." + k] = v.grad
    return loss.item(), {k: v.detach() for k, v in res.items()}


def fast_recurrent_cases(tensors, index):
    """The recurrent layers at the sizes of fast_case_specs(), computed in float64.

    Inputs, weights, initial states and loss weights are float32 values from
    fixture_values(); PyTorch computes in float64 from them, so that the stored
    results (rounded to float32) carry no float32 rounding of PyTorch's own and
    Hark's error against them is Hark's alone. PyTorch's own float32 error on the
    same case is recorded as torch_float32_error, a yardstick for the tolerance.
    The initial state is zeros when not given, but always a leaf, so that its
    gradient is stored in every case.
    """
    for case_number, (cell, H, Bc, layers, bidirectional, mixed, given_state) in enumerate(fast_case_specs()):
        seed = case_number + 1
        cls, kw = CELLS[cell]
        D = 2 if bidirectional else 1
        G = {"lstm": 4, "gru": 3}.get(cell, 1)
        Tc = FAST_T_LARGE if H >= 128 else FAST_T
        lengths = [Tc - (b * 3 + seed) % Tc for b in range(Bc)] if mixed else [Tc] * Bc
        name = f"{cell}_h{H}_b{Bc}_l{layers}_{'bi' if bidirectional else 'uni'}_" \
               f"{'mixed' if mixed else 'equal'}_{'h0' if given_state else 'zero'}"
        # The generated tensors, numbered in this order.
        shapes = []
        for k, v in cls(FAST_I, H, num_layers=layers, bidirectional=bidirectional, **kw).state_dict().items():
            shapes.append((k, list(v.shape), 1 / H ** 0.5))
        shapes.append(("input", [Tc, Bc, FAST_I], 1.0))
        if given_state:
            shapes.append(("h0", [layers * D, Bc, H], 1.0))
            if cell == "lstm":
                shapes.append(("c0", [layers * D, Bc, H], 1.0))
        shapes += [("r_out", [Tc, Bc, D * H], 1.0), ("r_h", [layers * D, Bc, H], 1.0)]
        if cell == "lstm":
            shapes.append(("r_c", [layers * D, Bc, H], 1.0))
        gen, generated = {}, []
        for n, (k, shape, bound) in enumerate(shapes):
            v = fixture_values(seed, n, int(np.prod(shape)), bound)
            gen[k] = torch.from_numpy(v).reshape(shape)
            generated.append({"name": k, "shape": shape, "bound": bound, "sum": float(v.astype(np.float64).sum())})
        state_shape = (layers * D, Bc, H)
        h0 = gen.get("h0", torch.zeros(state_shape))
        c0 = gen.get("c0", torch.zeros(state_shape)) if cell == "lstm" else None
        args = (cls, kw, FAST_I, H, layers, bidirectional, gen, gen["input"], lengths, h0, c0, gen)
        loss, res = run_recurrent(*args, dtype=torch.float64)
        _, res32 = run_recurrent(*args, dtype=torch.float32)
        torch_error = max((res32[k].double() - v).abs().max().item() for k, v in res.items())
        for k, v in res.items():
            tensors[name + "/" + k] = v.float().clone()
        index.append({"name": name, "seed": seed, "cell": cell, "hidden": H, "batch": Bc, "steps": Tc,
                      "input_size": FAST_I, "layers": layers, "bidirectional": bidirectional,
                      "lengths": lengths, "initial_state": given_state, "loss": loss,
                      "torch_float32_error": torch_error,
                      "paths": {"forward_gemm": "packed" if G * H % 16 == 0 else "openblas",
                                "backward_gemm": "packed" if H % 16 == 0 else "openblas",
                                "lstm_step": ("avx2" if H % 8 == 0 else "swift") if cell == "lstm" else None,
                                "row_blocks": row_blocks(Bc)},
                      "generated": generated})


# lstm_proj: LSTMs with projections (nn.LSTM(proj_size=P)): h = W_hr (o ⊙ tanh c),
# P wide; the cell c H wide. P = 16 takes the packed kernel in the recurrent
# product (n = 4H) and in the projection (n = P); P = 8 and 12, OpenBLAS for the
# projection. Values as in recurrent_fast (fixture_values), PyTorch in float64.
PROJ_T, PROJ_I = 5, 5


def proj_case_specs():
    """(H, P, B, layers, bidirectional, mixed lengths, given initial state)."""
    return [(16, 8, 1, 1, False, False, True), (32, 16, 7, 1, True, True, False), (32, 12, 9, 2, True, True, True),
            (48, 16, 16, 1, False, True, True), (128, 64, 9, 1, True, True, True)]


def proj_recurrent_cases(tensors, index):
    for case_number, (H, P, Bc, layers, bidirectional, mixed, given_state) in enumerate(proj_case_specs()):
        seed = 101 + case_number
        D = 2 if bidirectional else 1
        Tc = 4 if H >= 128 else PROJ_T
        lengths = [Tc - (b * 3 + seed) % Tc for b in range(Bc)] if mixed else [Tc] * Bc
        name = f"lstmp_h{H}_p{P}_b{Bc}_l{layers}_{'bi' if bidirectional else 'uni'}_" \
               f"{'mixed' if mixed else 'equal'}_{'h0' if given_state else 'zero'}"
        kw = {"proj_size": P}
        shapes = [(k, list(v.shape), 1 / H ** 0.5)
                  for k, v in nn.LSTM(PROJ_I, H, num_layers=layers, bidirectional=bidirectional, **kw).state_dict().items()]
        shapes.append(("input", [Tc, Bc, PROJ_I], 1.0))
        if given_state:
            shapes += [("h0", [layers * D, Bc, P], 1.0), ("c0", [layers * D, Bc, H], 1.0)]
        shapes += [("r_out", [Tc, Bc, D * P], 1.0), ("r_h", [layers * D, Bc, P], 1.0), ("r_c", [layers * D, Bc, H], 1.0)]
        gen, generated = {}, []
        for n, (k, shape, bound) in enumerate(shapes):
            v = fixture_values(seed, n, int(np.prod(shape)), bound)
            gen[k] = torch.from_numpy(v).reshape(shape)
            generated.append({"name": k, "shape": shape, "bound": bound, "sum": float(v.astype(np.float64).sum())})
        h0 = gen.get("h0", torch.zeros(layers * D, Bc, P))
        c0 = gen.get("c0", torch.zeros(layers * D, Bc, H))
        args = (nn.LSTM, kw, PROJ_I, H, layers, bidirectional, gen, gen["input"], lengths, h0, c0, gen)
        loss, res = run_recurrent(*args, dtype=torch.float64)
        _, res32 = run_recurrent(*args, dtype=torch.float32)
        torch_error = max((res32[k].double() - v).abs().max().item() for k, v in res.items())
        for k, v in res.items():
            tensors[name + "/" + k] = v.float().clone()
        index.append({"name": name, "seed": seed, "cell": "lstm", "hidden": H, "projection": P, "batch": Bc, "steps": Tc,
                      "input_size": PROJ_I, "layers": layers, "bidirectional": bidirectional, "lengths": lengths,
                      "initial_state": given_state, "loss": loss, "torch_float32_error": torch_error,
                      "generated": generated})


# conv: the convolutional front end (hark_ctc.HarkCTC's "frontend"): nn.Conv2d layers over
# (time, frequency), each with its activation, the output flattened to [B, T', C·F'].
# Loss = Σ out ⊙ R; stored: the output and the gradients of the input and every parameter.
# Values from fixture_values, PyTorch in float64.
def conv_case_specs():
    """(name, T, F, B lengths, layers [(channels, kernel, stride, padding)], activation)."""
    return [("relu_3x3_s2", 11, 8, [11, 7], [(4, (3, 3), (2, 2), (1, 1))], "relu"),
            ("hardtanh_two_layers", 17, 12, [17, 13, 9], [(3, (5, 3), (2, 1), (2, 1)), (5, (3, 3), (2, 2), (1, 1))], "hardtanh"),
            ("relu_no_padding_stride3", 14, 10, [14], [(2, (4, 2), (3, 2), (0, 0))], "relu"),
            ("relu_32ch_1", 40, 20, [40, 31], [(32, (3, 3), (2, 2), (1, 1)), (32, (3, 3), (2, 1), (1, 1))], "relu")]


def conv_cases(tensors, index):
    for case_number, (name, T, F, lengths, layers, activation) in enumerate(conv_case_specs()):
        seed = 201 + case_number
        act = {"relu": nn.ReLU, "hardtanh": lambda: nn.Hardtanh(0, 20)}[activation]
        modules, channels = [], 1
        for c, k, st, p in layers:
            modules += [nn.Conv2d(channels, c, k, st, p), act()]
            channels = c
        net = nn.Sequential(*modules).double()
        B = len(lengths)
        shapes = [(k, list(v.shape), 1 / (v.shape[1] * v.shape[2] * v.shape[3]) ** 0.5 if v.dim() == 4 else 0.3)
                  for k, v in net.state_dict().items()]
        shapes.append(("input", [B, T, F], 1.0))
        gen, generated = {}, []
        for n, (k, shape, bound) in enumerate(shapes):
            v = fixture_values(seed, n, int(np.prod(shape)), bound)
            gen[k] = torch.from_numpy(v).reshape(shape).double()
            generated.append({"name": k, "shape": shape, "bound": bound, "sum": float(v.astype(np.float64).sum())})
        with torch.no_grad():
            for k, v in net.named_parameters():
                v.copy_(gen[k])
        outs, grads_x = [], []
        # Each utterance on its own (its own length), as Hark runs them; the gradients of the parameters summed.
        r_gen = []
        for b, L in enumerate(lengths):
            x = gen["input"][b, :L].clone().requires_grad_(True)
            y = net(x.reshape(1, 1, L, F))
            y = y.transpose(1, 2).reshape(y.shape[2], -1)
            r = torch.from_numpy(fixture_values(seed, 1000 + b, y.numel(), 1.0)).reshape(y.shape).double()
            (y * r).sum().backward()
            outs.append(y.detach())
            grads_x.append(x.grad.detach())
            r_gen.append(list(y.shape))
        for b in range(B):
            tensors[f"{name}/output.{b}"] = outs[b].float().clone()
            tensors[f"{name}/grad.input.{b}"] = grads_x[b].float().clone()
        for k, v in net.named_parameters():
            tensors[f"{name}/grad.{k}"] = v.grad.float().clone()
        index.append({"name": name, "seed": seed, "frames": T, "bins": F, "lengths": lengths, "activation": activation,
                      "layers": [{"channels": c, "kernel": list(k), "stride": list(st), "padding": list(p)} for c, k, st, p in layers],
                      "output_shapes": r_gen, "generated": generated})


def main():
    known = ("recurrent", "simple", "optim", "recurrent_fast", "lstm_proj", "conv")
    wanted = sys.argv[1:] or list(known)
    for w in wanted:
        if w not in known:
            sys.exit(f"unknown fixture {w!r}; expected some of {', '.join(known)}")
    OUT.mkdir(parents=True, exist_ok=True)
    versions = {"python": platform.python_version(), "torch": torch.__version__,
                "safetensors": safetensors.__version__}
    meta = {"generator": "scripts/make_nn_fixtures.py", "command": "python scripts/make_nn_fixtures.py",
            "versions": versions}
    if "recurrent" in wanted:
        tensors, index = {}, []
        recurrent_cases(tensors, index)
        save_file({k: v.contiguous() for k, v in tensors.items()}, OUT / "recurrent.safetensors",
                  metadata={"generator": meta["generator"]})
        (OUT / "recurrent.json").write_text(json.dumps({**meta, "shape": {"T": T, "B": B, "I": I, "H": H},
                                                        "cases": index}, indent=1) + "\n")
    if "simple" in wanted:
        tensors, index = {}, []
        simple_cases(tensors, index)
        save_file({k: v.contiguous() for k, v in tensors.items()}, OUT / "simple.safetensors")
        (OUT / "simple.json").write_text(json.dumps({**meta, "cases": index}, indent=1) + "\n")
    if "optim" in wanted:
        tensors, index = {}, []
        optimizer_cases(tensors, index)
        save_file({k: v.contiguous() for k, v in tensors.items()}, OUT / "optim.safetensors")
        (OUT / "optim.json").write_text(json.dumps({**meta, "cases": index}, indent=1) + "\n")
    if "recurrent_fast" in wanted:
        tensors, index = {}, []
        fast_recurrent_cases(tensors, index)
        save_file({k: v.contiguous() for k, v in tensors.items()}, OUT / "recurrent_fast.safetensors",
                  metadata={"generator": meta["generator"]})
        fast_meta = {**meta, "command": "python scripts/make_nn_fixtures.py recurrent_fast",
                     "versions": {**versions, "numpy": np.__version__, "platform": platform.platform()}}
        # One line per case: the generated tensors' shapes would take most of the file one number a line.
        head = json.dumps({**fast_meta, "hash": FIXTURE_HASH}, indent=1)[:-2]
        cases = ",\n  ".join(json.dumps(c) for c in index)
        (OUT / "recurrent_fast.json").write_text(f'{head},\n "cases": [\n  {cases}\n ]\n}}\n')
    if "conv" in wanted:
        tensors, index = {}, []
        conv_cases(tensors, index)
        save_file({k: v.contiguous() for k, v in tensors.items()}, OUT / "conv.safetensors",
                  metadata={"generator": meta["generator"]})
        conv_meta = {**meta, "command": "python scripts/make_nn_fixtures.py conv",
                     "versions": {**versions, "numpy": np.__version__, "platform": platform.platform()}}
        head = json.dumps({**conv_meta, "hash": FIXTURE_HASH}, indent=1)[:-2]
        cases = ",\n  ".join(json.dumps(c) for c in index)
        (OUT / "conv.json").write_text(f'{head},\n "cases": [\n  {cases}\n ]\n}}\n')
    if "lstm_proj" in wanted:
        tensors, index = {}, []
        proj_recurrent_cases(tensors, index)
        save_file({k: v.contiguous() for k, v in tensors.items()}, OUT / "lstm_proj.safetensors",
                  metadata={"generator": meta["generator"]})
        proj_meta = {**meta, "command": "python scripts/make_nn_fixtures.py lstm_proj",
                     "versions": {**versions, "numpy": np.__version__, "platform": platform.platform()}}
        head = json.dumps({**proj_meta, "hash": FIXTURE_HASH}, indent=1)[:-2]
        cases = ",\n  ".join(json.dumps(c) for c in index)
        (OUT / "lstm_proj.json").write_text(f'{head},\n "cases": [\n  {cases}\n ]\n}}\n')


if __name__ == "__main__":
    main()
