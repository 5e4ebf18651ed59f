"""Contracts and infrastructure shared by the Polku services: never business rules."""
