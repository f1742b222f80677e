"""Layers made of layers: Sequential, Residual, Parallel, Graph, and the merge layers."""
