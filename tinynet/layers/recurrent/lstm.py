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

    Math (t step, B batch, i input feature, h hidden unit, g the 4H gate rows; inside, the
    sequences are time-major, so that each step's slice is one contiguous block)::

        a[t,B,g]  = sum_i x[t,B,i] W_ih[g,i] + b_ih[g] + b_hh[g]   PROJECT_INPUT  "tBi,gi->tBg"
        a[t,B,g] += sum_h h[t-1,B,h] W_hh[g,h]  (W_hh^T stored)    RECURRENT      "Bh,hg->Bg"
        i, f, g, o = sigmoid(a_i), sigmoid(a_f), tanh(a_g), sigmoid(a_o)    (the 4 blocks of a)
        c[t] = f * c[t-1] + i * g
        h[t] = o * tanh(c[t])

    The input projection of all steps is one einsum before the time loop; only the
    recurrent product runs per step. Backward through time, with ``gh[t] = dL/dh[t]``
    from above and ``da = dL/da``, from the last step to the first::

        dh[t] = gh[t] + sum_g da[t+1,B,g] W_hh[g,h]                GRAD_RECURRENT "Bg,gh->Bh"
        dc[t] = dh[t] * o * (1 - tanh(c[t])^2) + dc[t+1] * f[t+1]
        da_i = dc * g * i(1-i);   da_f = dc * c[t-1] * f(1-f)
        da_g = dc * i * (1-g^2);  da_o = dh * tanh(c[t]) * o(1-o)

    (the local factors ``g i(1-i)``, ... of every step computed at once before the loop),
    and then, over all steps at once::

        dW_ih[g,i] += sum_{t,B} da[t,B,g] x[t,B,i]                 GRAD_WEIGHT_IH "tBg,tBi->gi"
        dW_hh[g,h] += sum_{t,B} da[t,B,g] h[t-1,B,h]               GRAD_WEIGHT_HH "tBg,tBh->gh"
        db_ih[g]   += sum_{t,B} da[t,B,g]   (db_hh the same)       GRAD_BIAS      "tBg->g"
        dx[t,B,i]   = sum_g da[t,B,g] W_ih[g,i]                    GRAD_INPUT     "tBg,gi->tBi"

    Examples::

        lstm = LSTM(2, 32, return_sequences=False)
        model = Sequential(lstm, Dense(32, 1))     # (B, T, 2) -> (B, 1)
    """

    GATES = 4
    PROJECT_INPUT = "tBi,gi->tBg"
    RECURRENT = "Bh,hg->Bg"
    GRAD_RECURRENT = "Bg,gh->Bh"
    GRAD_WEIGHT_IH = "tBg,tBi->gi"
    GRAD_WEIGHT_HH = "tBg,tBh->gh"
    GRAD_BIAS = "tBg->g"
    GRAD_INPUT = "tBg,gi->tBi"

    def forward(self, x: Array, training: bool = True) -> Array:
        x = self.checked_input(x)
        batch, steps, _ = x.shape
        size, dtype = self.hidden_size, x.dtype
        # sigmoid(a) = (1 + tanh(a/2)) / 2: the weights' i, f, o rows halved, one tanh runs all four
        # gates, and `gate * scale + shift` turns the i, f, o blocks into sigmoids (g keeps its tanh).
        scale = np.full(4 * size, 0.5, dtype=dtype)
        scale[2 * size:3 * size] = 1
        shift = 1 - scale
        # W_hh^T, (H, 4H): one contiguous matrix, which BLAS multiplies fastest at every step
        w_hh = np.ascontiguousarray((self.weight_hh_l0.data * scale[:, None]).T)
        x_steps = self.time_major(x)                                 # (T, B, I)
        a = self.plans[self.PROJECT_INPUT](x_steps, self.weight_ih_l0.data * scale[:, None],
                                           out=self.scratch.take((steps, batch, 4 * size), dtype))
        if self.bias_ih_l0 is not None and self.bias_hh_l0 is not None:
            a += (self.bias_ih_l0.data + self.bias_hh_l0.data) * scale
        gates = self.scratch.take(a.shape, dtype)            # i, f, g, o of every step
        cells = self.scratch.take((steps + 1, batch, size), dtype)
        hidden = self.scratch.take((steps + 1, batch, size), dtype)
        tanh_cells = self.scratch.take((steps, batch, size), dtype)
        cells[0], hidden[0] = 0, 0                                  # the zero initial state
        recurrent, product = self.plans[self.RECURRENT], np.empty((batch, 4 * size), dtype)
        i_times_g = np.empty((batch, size), dtype)
        for t in range(steps):
            gate = gates[t]
            recurrent(hidden[t], w_hh, out=product)
            np.add(product, a[t], out=gate)
            np.tanh(gate, out=gate)
            gate *= scale
            gate += shift
            i, f, g, o = (gate[:, k * size:(k + 1) * size] for k in range(4))
            cell = cells[t + 1]
            np.multiply(f, cells[t], out=cell)
            cell += np.multiply(i, g, out=i_times_g)
            np.tanh(cell, out=tanh_cells[t])
            np.multiply(o, tanh_cells[t], out=hidden[t + 1])
        y = self.batch_major(hidden[1:]) if self.return_sequences else hidden[-1].copy()
        self.release(a)
        if training:
            self.save_for_backward(x_steps, gates, cells, hidden, tanh_cells)
        else:
            self.release(x_steps, gates, cells, hidden, tanh_cells)
        return y

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array | None:
        x_steps, gates, cells, hidden, tanh_cells = self.saved_for_backward()
        steps, batch, _ = x_steps.shape
        size = self.hidden_size
        grad_h = self.sequence_grad(grad_y, batch, steps)         # (T, B, H)
        i, f, g, o = (gates[..., k * size:(k + 1) * size] for k in range(4))
        # Every step's local derivatives at once (elementwise); only the recurrence loops over t.
        # da_i, da_f, da_g = dc * from_cell
        from_cell = self.scratch.take((steps, batch, 3, size), gates.dtype)
        np.multiply(g, i * (1 - i), out=from_cell[:, :, 0])
        np.multiply(cells[:-1], f * (1 - f), out=from_cell[:, :, 1])
        np.multiply(i, 1 - g * g, out=from_cell[:, :, 2])
        from_hidden = tanh_cells * o * (1 - o)                  # da_o = dh * from_hidden
        hidden_to_cell = o * (1 - tanh_cells * tanh_cells)      # dc += dh * hidden_to_cell
        grad_a = self.scratch.take(gates.shape, gates.dtype)   # (T, B, 4H)
        grad_gates = grad_a.reshape(steps, batch, 4, size)
        dh, dc = np.empty_like(grad_h[0]), np.empty_like(grad_h[0])
        carried, from_next = np.zeros_like(dc), np.zeros_like(dh)   # dc[t+1] f[t+1]; da[t+1] W_hh
        dc_column = dc[:, None, :]
        recurrent_grad, w_hh = self.plans[self.GRAD_RECURRENT], self.weight_hh_l0.data
        for t in reversed(range(steps)):
            np.add(grad_h[t], from_next, out=dh)
            np.multiply(dh, hidden_to_cell[t], out=dc)
            dc += carried
            np.multiply(dc_column, from_cell[t], out=grad_gates[t, :, :3])
            np.multiply(dh, from_hidden[t], out=grad_gates[t, :, 3])
            if t:
                np.multiply(dc, f[t], out=carried)
                recurrent_grad(grad_a[t], w_hh, out=from_next)
        self.weight_ih_l0.accumulate(self.GRAD_WEIGHT_IH, grad_a, x_steps)
        self.weight_hh_l0.accumulate(self.GRAD_WEIGHT_HH, grad_a, hidden[:-1])
        if self.bias_ih_l0 is not None and self.bias_hh_l0 is not None:
            grad_bias = self.plans[self.GRAD_BIAS](grad_a)    # the same for both: they add up in a
            self.bias_ih_l0.add_grad(grad_bias)
            self.bias_hh_l0.add_grad(grad_bias)
        grad_x = self.batch_major(self.plans[self.GRAD_INPUT](grad_a, self.weight_ih_l0.data)) \
            if need_input_grad else None
        self.release(x_steps, gates, cells, hidden, tanh_cells,
                     grad_h, from_cell, grad_a)
        return grad_x
