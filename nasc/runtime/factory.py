"""The namespace generated code calls (``nx.<name>``): every factory builds one module from the
dataset schema and the shapes of its inputs, and records the shape it returns in ``out_shape``.

Shapes are read at run time, so one generated file serves every dataset. The same factories
build the fixed models of ``nasc train`` (through ``nasc.runtime.model.materialize``), at the
same module paths. They live where their kind of module does: ``shapes`` (Shape, operator specs),
``builders`` (inputs and operators), ``constructs`` (cells, blocks, interactions, mlp, heads) and
``supernet`` (the choice interface).
"""
from __future__ import annotations

from nasc.runtime.builders import *  # noqa: F401,F403
from nasc.runtime.constructs import *  # noqa: F401,F403
from nasc.runtime.shapes import *  # noqa: F401,F403
from nasc.runtime.supernet import Supernet  # noqa: F401
