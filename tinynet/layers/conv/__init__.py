"""Convolution and pooling layers over ``(B, C, L)`` and ``(B, C, H, W)``: einsum over strided windows."""
