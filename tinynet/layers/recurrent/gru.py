"""GRU: PyTorch's gated recurrent unit layer, one einsum for the inputs of all steps and one
per step for the recurrence."""

from __future__ import annotations

import numpy as np

from tinynet.layers.base import Array
from tinynet.layers.recurrent.base import RecurrentLayer

__all__ = ["GRU"]


class GRU(RecurrentLayer):
    """Gated recurrent unit, as PyTorch's ``nn.GRU(input_size, hidden_size, batch_first=True)``.

    Shape: ``(B, T, I) -> (B, T, H)``, the hidden state of every step; with
    ``return_sequences=False`` (Keras' name) ``(B, H)``, the last step's (PyTorch's ``h_n``).
    The sequence starts from a zero hidden state.

    Args:
        input_size: ``I``, features per step.
        hidden_size: ``H``, the size of the hidden state.
        bias: with ``bias_ih_l0`` and ``bias_hh_l0`` (PyTorch's two biases).
        return_sequences: ``True`` (default, PyTorch's output) every step's hidden state;
            ``False`` only the last one.
        rng: seed or Generator for the initial weights; ``dtype``: float64 or float32.

    Parameters (PyTorch's names and layouts; the gate rows stacked as r, z, n):
    ``weight_ih_l0 (3H, I)``, ``weight_hh_l0 (3H, H)``, ``bias_ih_l0 (3H,)``, ``bias_hh_l0 (3H,)``,
    uniform in ``[-1/sqrt(H), 1/sqrt(H)]``.

    Math (t step, B batch, i input feature, h hidden unit, g the 3H gate rows; inside, the
    sequences are time-major), PyTorch's formulas, in which the reset gate multiplies the
    hidden part of ``n`` *with* its bias::

        a[t,B,g] = sum_i x[t,B,i] W_ih[g,i] + b_ih[g]              PROJECT_INPUT  "tBi,gi->tBg"
        u[t,B,g] = sum_h h[t-1,B,h] W_hh[g,h] + b_hh[g]  (W_hh^T)  RECURRENT      "Bh,hg->Bg"
        r = sigmoid(a_r + u_r);  z = sigmoid(a_z + u_z)
        n = tanh(a_n + r * u_n)
        h[t] = (1 - z) * n + z * h[t-1]

    The input projection of all steps is one einsum before the time loop; only the
    recurrent product runs per step. Backward through time, with ``gh[t] = dL/dh[t]``
    from above, ``da = dL/da`` and ``du = dL/du``, from the last step to the first::

        dh[t] = gh[t] + dh[t+1] z[t+1] + sum_g du[t+1,B,g] W_hh[g,h]   GRAD_RECURRENT "Bg,gh->Bh"
        da_n = dh (1-z) (1-n^2);    du_n = da_n * r
        da_r = du_r = da_n u_n r(1-r);  da_z = du_z = dh (h[t-1] - n) z(1-z)

    (the local factors of every step computed at once before the loop), and then, over
    all steps at once::

        dW_ih[g,i] += sum_{t,B} da[t,B,g] x[t,B,i]                 GRAD_WEIGHT_IH "tBg,tBi->gi"
        dW_hh[g,h] += sum_{t,B} du[t,B,g] h[t-1,B,h]               GRAD_WEIGHT_HH "tBg,tBh->gh"
        db_ih[g] += sum_{t,B} da[t,B,g];  db_hh[g] += sum_{t,B} du[t,B,g]   GRAD_BIAS "tBg->g"
        dx[t,B,i] = sum_g da[t,B,g] W_ih[g,i]                      GRAD_INPUT     "tBg,gi->tBi"

    Examples::

        gru = GRU(8, 16)
        y = gru(np.zeros((4, 10, 8)))     # (4, 10, 16)
    """

    GATES = 3
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
        # sigmoid(a) = (1 + tanh(a/2)) / 2: the r and z rows of the weights halved, one tanh
        # and `* 0.5 + 0.5` give both gates.
        scale = np.ones(3 * size, dtype=dtype)
        scale[:2 * size] = 0.5
        # W_hh^T, (H, 3H): one contiguous matrix, which BLAS multiplies fastest at every step
        w_hh = np.ascontiguousarray((self.weight_hh_l0.data * scale[:, None]).T)
        x_steps = self.time_major(x)                                 # (T, B, I)
        a = self.plans[self.PROJECT_INPUT](x_steps, self.weight_ih_l0.data * scale[:, None],
                                           out=self.scratch.take((steps, batch, 3 * size), dtype))
        bias_hn: Array | float = 0.0
        if self.bias_ih_l0 is not None and self.bias_hh_l0 is not None:
            bias = self.bias_ih_l0.data.copy()
            bias[:2 * size] += self.bias_hh_l0.data[:2 * size]   # b_hr, b_hz add up; b_hn stays under r
            a += bias * scale
            bias_hn = self.bias_hh_l0.data[2 * size:]
        gates = self.scratch.take(a.shape, dtype)            # r, z, n of every step
        hidden_n = self.scratch.take((steps, batch, size), dtype)  # u_n = W_hn h + b_hn
        hidden = self.scratch.take((steps + 1, batch, size), dtype)
        hidden[0] = 0                                               # the zero initial state
        recurrent, product = self.plans[self.RECURRENT], np.empty((batch, 3 * size), dtype)
        for t in range(steps):
            h_prev, gate = hidden[t], gates[t]
            recurrent(h_prev, w_hh, out=product)
            r_and_z, n, u_n = gate[:, :2 * size], gate[:, 2 * size:], hidden_n[t]
            np.add(a[t, :, :2 * size], product[:, :2 * size], out=r_and_z)
            np.tanh(r_and_z, out=r_and_z)
            r_and_z *= 0.5
            r_and_z += 0.5
            np.add(product[:, 2 * size:], bias_hn, out=u_n)
            np.multiply(gate[:, :size], u_n, out=n)
            n += a[t, :, 2 * size:]
            np.tanh(n, out=n)
            h = hidden[t + 1]
            np.subtract(h_prev, n, out=h)       # h = n + z (h_prev - n)
            h *= gate[:, size:2 * size]
            h += n
        y = self.batch_major(hidden[1:]) if self.return_sequences else hidden[-1].copy()
        self.release(a)
        if training:
            self.save_for_backward(x_steps, gates, hidden_n, hidden)
        else:
            self.release(x_steps, gates, hidden_n, hidden)
        return y

    def backward(self, grad_y: Array, need_input_grad: bool = True) -> Array | None:
        x_steps, gates, hidden_n, hidden = self.saved_for_backward()
        steps, batch, _ = x_steps.shape
        size = self.hidden_size
        grad_h = self.sequence_grad(grad_y, batch, steps)         # (T, B, H)
        r, z, n = (gates[..., k * size:(k + 1) * size] for k in range(3))
        # Every step's local derivatives at once (elementwise); only the recurrence loops over t:
        # da[t] = dh[t] * to_input[t], du[t] = dh[t] * to_hidden[t] (3 blocks each).
        to_n = (1 - z) * (1 - n * n)
        to_input = self.scratch.take((steps, batch, 3, size), gates.dtype)
        np.multiply(to_n * hidden_n, r * (1 - r), out=to_input[:, :, 0])
        np.multiply(hidden[:-1] - n, z * (1 - z), out=to_input[:, :, 1])
        to_input[:, :, 2] = to_n
        to_hidden = self.scratch.take(to_input.shape, gates.dtype)
        np.copyto(to_hidden, to_input)
        to_hidden[:, :, 2] *= r
        grad_a = self.scratch.take(gates.shape, gates.dtype)    # (T, B, 3H)
        grad_u = self.scratch.take(gates.shape, gates.dtype)
        grad_a3, grad_u3 = (grad.reshape(steps, batch, 3, size) for grad in (grad_a, grad_u))
        dh = np.empty_like(grad_h[0])
        from_next, through_z = np.zeros_like(dh), np.zeros_like(dh)  # du[t+1] W_hh; dh[t+1] z[t+1]
        dh_column = dh[:, None, :]
        recurrent_grad, w_hh = self.plans[self.GRAD_RECURRENT], self.weight_hh_l0.data
        for t in reversed(range(steps)):
            np.add(grad_h[t], from_next, out=dh)
            dh += through_z
            np.multiply(dh_column, to_input[t], out=grad_a3[t])
            np.multiply(dh_column, to_hidden[t], out=grad_u3[t])
            if t:
                np.multiply(dh, z[t], out=through_z)
                recurrent_grad(grad_u[t], w_hh, out=from_next)
        self.weight_ih_l0.accumulate(self.GRAD_WEIGHT_IH, grad_a, x_steps)
        self.weight_hh_l0.accumulate(self.GRAD_WEIGHT_HH, grad_u, hidden[:-1])
        if self.bias_ih_l0 is not None and self.bias_hh_l0 is not None:
            self.bias_ih_l0.accumulate(self.GRAD_BIAS, grad_a)
            self.bias_hh_l0.accumulate(self.GRAD_BIAS, grad_u)
        grad_x = self.batch_major(self.plans[self.GRAD_INPUT](grad_a, self.weight_ih_l0.data)) \
            if need_input_grad else None
        self.release(x_steps, gates, hidden_n, hidden, grad_h,
                     to_input, to_hidden, grad_a, grad_u)
        return grad_x
