"""Test doubles for downstream repos: reference implementations of every protocol interface."""
