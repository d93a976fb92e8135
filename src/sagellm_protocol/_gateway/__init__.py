"""The gateway's machinery behind :mod:`sagellm_protocol.gateway`: errors, streams, unknown keys."""
