"""The local runner: the whole API on one port with embedded AWS emulation. Never packaged into Lambda."""
