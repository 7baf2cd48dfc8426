"""Packaged copy of the repository's ``profiles/`` directory, for installs without a checkout.

``profiles/`` is canonical; a test keeps these files byte-identical to it. See
:mod:`wearsync.profiles`.
"""
