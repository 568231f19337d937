"""The build's machinery: staging and atomic swaps, the data manifest, input snapshots, code hashes.

``build.py`` orchestrates; these modules hold the parts that other commands share (``import-imdi``
swaps its folder the same way, ``verify`` and ``catalog.load`` check files against the manifest,
the report cache keys on the same code hash as the build).
"""
