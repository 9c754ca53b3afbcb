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

Run from the repository root with PyTorch and safetensors installed:
    python scripts/make_nn_fixtures.py
Writes Tests/HarkNNTests/Fixtures/{recurrent.safetensors, recurrent.json,
simple.safetensors, simple.json, optim.safetensors, optim.json}.
"""
import json
import platform
from pathlib import Path

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


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    versions = {"python": platform.python_version(), "torch": torch.__version__,
                "safetensors": safetensors.__version__}
    meta = {"generator": "scripts/make_nn_fixtures.py", "command": "python scripts/make_nn_fixtures.py",
            "versions": versions}
    tensors, index = {}, []
    recurrent_cases(tensors, index)
    save_file({k: v.contiguous() for k, v in tensors.items()}, OUT / "recurrent.safetensors",
              metadata={"generator": meta["generator"]})
    (OUT / "recurrent.json").write_text(json.dumps({**meta, "shape": {"T": T, "B": B, "I": I, "H": H},
                                                    "cases": index}, indent=1) + "\n")
    tensors, index = {}, []
    simple_cases(tensors, index)
    save_file({k: v.contiguous() for k, v in tensors.items()}, OUT / "simple.safetensors")
    (OUT / "simple.json").write_text(json.dumps({**meta, "cases": index}, indent=1) + "\n")
    tensors, index = {}, []
    optimizer_cases(tensors, index)
    save_file({k: v.contiguous() for k, v in tensors.items()}, OUT / "optim.safetensors")
    (OUT / "optim.json").write_text(json.dumps({**meta, "cases": index}, indent=1) + "\n")


if __name__ == "__main__":
    main()
