"""The synthetic register: a calibrated stand-in for person-level register data, with known effects.

``settlement-research synth`` writes a raw extract (``writer.write_register``); ``read`` turns it into
the model's tables (source protocol). Targets and effect sizes live in ``calibration``.
"""

from settlement_research.sources.synthetic.reader import SOURCE_NAME, read

__all__ = ["SOURCE_NAME", "read"]
