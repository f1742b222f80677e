"""Recurrent layers over ``(B, T, I)`` sequences: LSTM and GRU, with PyTorch's parameters."""
