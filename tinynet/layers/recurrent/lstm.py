"""LSTM: PyTorch's long short-term memory layer, one einsum for the inputs of all steps and
one per step for the recurrence."""

from __future__ import annotations

import numpy as np

from tinynet.layers.base import Array
from tinynet.layers.recurrent.base import RecurrentLayer

__all__ = ["LSTM"]


class LSTM(RecurrentLayer):
    """Long short-term memory, as PyTorch's ``nn.LSTM(input_size, hidden_size, batch_first=True)``.

    Shape: ``(B, T, I) -> (B, T, H)``, the hidden state of every step; with
    ``return_sequences=False`` (Keras' name) ``(B, H)``, the last step's (PyTorch's ``h_n``).
    The sequence starts from zero hidden and cell states.

    Args:
        input_size: ``I``, features per step.
        hidden_size: ``H``, the size of the hidden and cell states.
        bias: with ``bias_ih_l0`` and ``bias_hh_l0`` (PyTorch's two biases).
        return_sequences: ``True`` (default, PyTorch's output) every step's hidden state;
            ``False`` only the last one, e.g. before a ``Dense`` that reads the whole sequence.
        rng: seed or Generator for the initial weights; ``dtype``: float64 or float32.

    Parameters (PyTorch's names and layouts; the gate rows stacked as i, f, g, o):
    ``weight_ih_l0 (4H, I)``, ``weight_hh_l0 (4H, H)``, ``bias_ih_l0 (4H,)``, ``bias_hh_l0 (4H,)``,
    uniform in ``[-1/sqrt(H), 1/sqrt(H)]``.

    Math (B batch, t step, i input feature, h hidden unit, g the 4H gate rows)::

        a[B,t,g]  = sum_i x[B,t,i] W_ih[g,i] + b_ih[g] + b_hh[g]   PROJECT_INPUT  "Bti,gi->Btg"
        a[B,t,g] += sum_h h[B,t-1,h] W_hh[g,h]                     RECURRENT      "Bh,gh->Bg"
        i, f, g, o = sigmoid(a_i), sigmoid(a_f), tanh(a_g), sigmoid(a_o)    (the 4 blocks of a)
        c[t] = f * c[t-1] + i * g
        h[t] = o * tanh(c[t])

    The input projection of all steps is one einsum before the time loop; only the
    recurrent product runs per step. Backward through time, with ``gh[t] = dL/dh[t]``
    from above and ``da = dL/da``, from the last step to the first::

        dh[t] = gh[t] + sum_g da[B,t+1,g] W_hh[g,h]                GRAD_RECURRENT "Bg,gh->Bh"
        dc[t] = dh[t] * o * (1 - tanh(c[t])^2) + dc[t+1] * f[t+1]
        da_i = dc * g * i(1-i);   da_f = dc * c[t-1] * f(1-f)
        da_g = dc * i * (1-g^2);  da_o = dh * tanh(c[t]) * o(1-o)

    and then, over all steps at once::

        dW_ih[g,i] += sum_{B,t} da[B,t,g] x[B,t,i]                 GRAD_WEIGHT_IH "Btg,Bti->gi"
        dW_hh[g,h] += sum_{B,t} da[B,t,g] h[B,t-1,h]               GRAD_WEIGHT_HH "Btg,Bth->gh"
        db_ih[g]   += sum_{B,t} da[B,t,g]   (db_hh the same)       GRAD_BIAS      "Btg->g"
        dx[B,t,i]   = sum_g da[B,t,g] W_ih[g,i]                    GRAD_INPUT     "Btg,gi->Bti"

    Examples::

        lstm = LSTM(2, 32, return_sequences=False)
        model = Sequential(lstm, Dense(32, 1))     # (B, T, 2) -> (B, 1)
    """

    GATES = 4
    PROJECT_INPUT = "Bti,gi->Btg"
    RECURRENT = "Bh,gh->Bg"
    GRAD_RECURRENT = "Bg,gh->Bh"
    GRAD_WEIGHT_IH = "Btg,Bti->gi"
    GRAD_WEIGHT_HH = "Btg,Bth->gh"
    GRAD_BIAS = "Btg->g"
    GRAD_INPUT = "Btg,gi->Bti"

    def forward(self, x: Array, training: bool = True) -> Array:
        x = self.checked_input(x)
        batch, steps, _ = x.shape
        hidden_size, dtype = self.hidden_size, x.dtype
        # sigmoid(a) = (1 + tanh(a/2)) / 2: the weights' i, f, o rows halved, one tanh runs all four
        # gates, and `gate * scale + shift` turns the i, f, o blocks into sigmoids (g keeps its tanh).
        scale = np.full(4 * hidden_size, 0.5, dtype=dtype)
        scale[2 * hidden_size:3 * hidden_size] = 1
        shift = 1 - scale
        w_hh = self.weight_hh_l0.data * scale[:, None]
        a = self.plans[self.PROJECT_INPUT](x, self.weight_ih_l0.data * scale[:, None])  # (B, T, 4H)
        if self.bias_ih_l0 is not None and self.bias_hh_l0 is not None:
            a += (self.bias_ih_l0.data + self.bias_hh_l0.data) * scale
        gates = np.empty_like(a)                                      # i, f, g, o of every step
        cells = np.zeros((batch, steps + 1, hidden_size), dtype)     # c[:, 0] = 0
        hidden = np.zeros((batch, steps + 1, hidden_size), dtype)    # h[:, 0] = 0
        tanh_cells = np.empty((batch, steps, hidden_size), dtype)
        recurrent, product = self.plans[self.RECURRENT], np.empty((batch, 4 * hidden_size), dtype)
        for t in range(steps):
            gate = gates[:, t]
            recurrent(hidden[:, t], w_hh, out=product)
            np.add(product, a[:, t], out=gate)
            np.tanh(gate, out=gate)
            gate *= scale
            gate += shift
            i, f, g, o = (gate[:, k * hidden_size:(k + 1) * hidden_size] for k in range(4))
            cell = cells[:, t + 1]
            np.multiply(f, cells[:, t], out=cell)
            cell += i * g
            np.tanh(cell, out=tanh_cells[:, t])
            np.multiply(o, tanh_cells[:, t], out=hidden[:, t + 1])
        if training:
            self.save_for_backward(x, gates, cells, hidden, tanh_cells)
        return hidden[:, 1:] if self.return_sequences else hidden[:, -1]

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array | None:
        x, gates, cells, hidden, tanh_cells = self.saved_for_backward()
        batch, steps, _ = x.shape
        hidden_size = self.hidden_size
        grad_h = self.sequence_grad(grad_y, batch, steps)
        i, f, g, o = (gates[..., k * hidden_size:(k + 1) * hidden_size] for k in range(4))
        # Every step's local derivatives at once (elementwise); only the recurrence loops over t.
        from_cell = np.stack((g * i * (1 - i), cells[:, :-1] * f * (1 - f), i * (1 - g * g)), axis=2)
        from_hidden = tanh_cells * o * (1 - o)          # da_o = dh * from_hidden
        hidden_to_cell = o * (1 - tanh_cells * tanh_cells)  # dc += dh * hidden_to_cell
        grad_a = np.empty_like(gates)                   # (B, T, 4H)
        grad_gates = grad_a.reshape(batch, steps, 4, hidden_size)
        dh, dc = np.empty_like(grad_h[:, 0]), np.empty_like(grad_h[:, 0])
        carried, from_next = np.zeros_like(dc), np.zeros_like(dh)   # dc[t+1] f[t+1]; da[t+1] W_hh
        recurrent_grad, w_hh = self.plans[self.GRAD_RECURRENT], self.weight_hh_l0.data
        for t in reversed(range(steps)):
            np.add(grad_h[:, t], from_next, out=dh)
            np.multiply(dh, hidden_to_cell[:, t], out=dc)
            dc += carried
            np.multiply(dc[:, None, :], from_cell[:, t], out=grad_gates[:, t, :3])
            np.multiply(dh, from_hidden[:, t], out=grad_gates[:, t, 3])
            if t:
                np.multiply(dc, f[:, t], out=carried)
                recurrent_grad(grad_a[:, t], w_hh, out=from_next)
        self.weight_ih_l0.accumulate(self.GRAD_WEIGHT_IH, grad_a, x)
        self.weight_hh_l0.accumulate(self.GRAD_WEIGHT_HH, grad_a, hidden[:, :-1])
        if self.bias_ih_l0 is not None and self.bias_hh_l0 is not None:
            self.bias_ih_l0.accumulate(self.GRAD_BIAS, grad_a)
            self.bias_hh_l0.accumulate(self.GRAD_BIAS, grad_a)
        return self.plans[self.GRAD_INPUT](grad_a, self.weight_ih_l0.data) if need_input_grad else None
