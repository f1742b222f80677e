"""Normalization layers: BatchNorm."""
