"""vkstyle's Python tools: tools.convert (model files: conversion, export, the PyTorch reference)
and tools.train (distillation, adding a style). Run from the repository root as modules,
e.g. python3 -m tools.convert.reference; tests import them the same way (PYTHONPATH=the root)."""
