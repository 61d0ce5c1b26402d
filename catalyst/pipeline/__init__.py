"""The scan pipeline's pure core: universe → most active → score → select → size.

Each stage is a plain function over frozen dataclasses (see `candidates`): no await, no I/O, no
clock lookups. The runner sequences them and records each stage's survivors and rejections.
"""
