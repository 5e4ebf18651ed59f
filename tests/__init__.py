"""Polku test suite: unit, integration and end-to-end tests plus shared fixtures."""
